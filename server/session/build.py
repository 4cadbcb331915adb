"""Builds the `Swarm` a session serves from: the backends its configuration names, and its ledger."""

from __future__ import annotations

from pathlib import Path

from swarm_lsp.server.config import Config
from swarm_lsp.swarm.backends import BackendSettings, create_backend
from swarm_lsp.swarm.engine import MemoryProvider, Swarm
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.redact import load_dotenv_values


def build_swarm(config: Config, ledger: Ledger | None = None, workspace: Path | None = None,
                memory: MemoryProvider | None = None) -> Swarm:
    """The swarm for one workspace; its `.env` values are redacted from anything sent to the cloud."""
    backend_settings = BackendSettings(
        secrets=tuple(load_dotenv_values(workspace)) if workspace is not None else (),
        n_ctx=config.n_ctx,
        threads=config.threads,
        repeat_penalty=config.repeat_penalty,
        models_dir=config.models_dir,
        model_host=config.model_host,
    )
    return Swarm(
        config.swarm_settings(),
        backends=lambda name: create_backend(name, backend_settings),
        ledger=ledger if ledger is not None else Ledger(config.ledger_path),
        memory=memory,
    )
