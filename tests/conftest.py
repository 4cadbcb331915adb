"""Shared fixtures. Every test gets its own ledger and config environment so nothing touches the
user's state dir; the embedded model cache is the user's (assembling it per test would cost 1 GB)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("SWARM_LSP_LEDGER_PATH", str(state / "ledger.sqlite3"))
    for name in ("SWARM_LSP_TIERS", "SWARM_LSP_CANDIDATES", "SWARM_LSP_DOC_STYLE", "SWARM_LSP_MAX_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    return state
