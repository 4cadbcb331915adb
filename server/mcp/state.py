"""What one MCP server holds: the root its tools are confined to and the session it runs actions
in (its own, or the language server's in combined mode: one configuration, one queue, one ledger).
The swarm is built on first use, so listing tools never loads a model."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from swarm_lsp.server.config import Config, load_config
from swarm_lsp.server.mcp.sanitise import Sanitiser
from swarm_lsp.server.session.session import Session
from swarm_lsp.swarm.engine import Swarm

log = logging.getLogger(__name__)

SwarmFactory = Callable[[Path], Swarm]


class McpState:
    def __init__(self, root: Path, session: Session | None = None, swarm_factory: SwarmFactory | None = None) -> None:
        self.root = root.resolve()
        if session is None:
            factory = (lambda config, _root: swarm_factory(self.root)) if swarm_factory is not None else None
            session = Session(self.root, load_config(self.root), swarm_factory=factory)
        self.session = session
        self.sanitiser = Sanitiser(self.root)  # what every result, error and progress message passes through

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def loaded(self) -> bool:
        return self.session.loaded

    @property
    def swarm(self) -> Swarm:
        return self.session.swarm


__all__ = ["McpState", "SwarmFactory"]
