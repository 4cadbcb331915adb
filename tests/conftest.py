"""Shared fixtures. Every test gets its own ledger, cloud audit log, memory store and a clean SWARM_LSP_* /
ANTHROPIC_* / OLLAMA_HOST environment, so nothing touches the user's state dir or reaches a real
service; the embedded model cache is the user's (assembling it per test would cost 1.6 GB)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    state = tmp_path_factory.mktemp("state")
    for name in list(os.environ):
        if name.startswith("SWARM_LSP_") and name not in ("SWARM_LSP_MODELS_DIR", "SWARM_LSP_EDITORS_DIR"):
            monkeypatch.delenv(name, raising=False)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWARM_LSP_LEDGER_PATH", str(state / "ledger.sqlite3"))
    monkeypatch.setenv("SWARM_LSP_CLOUD_AUDIT_LOG", str(state / "cloud_calls.jsonl"))
    monkeypatch.setenv("SWARM_LSP_AUDIT_CACHE", str(state / "audit-cache.sqlite3"))
    monkeypatch.setenv("SWARM_LSP_MEMORY_DIR", str(state / "memory"))
    return state
