"""What one MCP server holds: the workspace root, the one swarm (built on first use, so listing
tools never loads a model), its configuration, and the tool calls in flight for `swarm_status`."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarm_lsp.server.config import Config, ConfigError, load_config, parse_config_dict
from swarm_lsp.swarm.engine import Swarm

log = logging.getLogger(__name__)

SwarmFactory = Callable[[Path], Swarm]


def default_swarm_factory(root: Path) -> Swarm:
    from swarm_lsp.server.session import build_swarm

    return build_swarm(load_config(root), workspace=root)


@dataclass
class Call:
    """One tool call in flight."""

    id: int
    tool: str
    target: str
    started: float = field(default_factory=time.monotonic)
    stage: str = "queued"  # queued: waiting for the swarm (one action runs at a time); then swarm stages

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tool": self.tool, "target": self.target, "stage": self.stage,
                "running_s": round(time.monotonic() - self.started, 3)}


class McpState:
    def __init__(self, root: Path, swarm_factory: SwarmFactory | None = None) -> None:
        self.root = root.resolve()
        self._factory = swarm_factory or default_swarm_factory
        self._swarm: Swarm | None = None
        self._config: Config | None = None
        self._ids = itertools.count(1)
        self.calls: dict[int, Call] = {}
        self.finished = 0
        self.run_lock = asyncio.Lock()  # one action at a time: the embedded model is one object

    @property
    def config(self) -> Config:
        """The workspace configuration (files and SWARM_LSP_* variables), loaded once."""
        if self._config is None:
            self._config = load_config(self.root)
        return self._config

    @property
    def loaded(self) -> bool:
        return self._swarm is not None

    @property
    def swarm(self) -> Swarm:
        """The one swarm this server shares between calls: models load once, one ledger."""
        if self._swarm is None:
            self._swarm = self._factory(self.root)
        return self._swarm

    def swarm_for(self, tiers: list[str] | None) -> Swarm:
        """The shared swarm, or a view of it with other tiers that reuses its loaded backends and ledger."""
        if not tiers:
            return self.swarm
        parsed = parse_config_dict({"tiers": tiers}, "the `tiers` argument")["tiers"]
        base = self.swarm
        settings = dataclasses.replace(base.settings, tiers=tuple(parsed))
        return Swarm(settings, backends=base.backend, ledger=base.ledger)

    @contextmanager
    def track(self, tool: str, target: str) -> Iterator[Call]:
        call = Call(next(self._ids), tool, target)
        self.calls[call.id] = call
        try:
            yield call
        finally:
            self.calls.pop(call.id, None)
            self.finished += 1


__all__ = ["McpState", "Call", "SwarmFactory", "ConfigError", "default_swarm_factory"]
