"""Shared fixtures. Every test gets its own ledger, cloud audit log, memory store and a clean SWARM_LSP_* /
ANTHROPIC_* / OLLAMA_HOST environment, so nothing touches the user's state dir or reaches a real
service; the embedded model cache is the user's (assembling it per test would cost 1.6 GB)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# One shared model host per model for the whole run: the editors' tests give Neovim and VS Code
# state folders of their own, and a host recorded there would be started again for every test and
# linger after it. Pinned as the run starts, in the user's state folder (.ci/run stops them there).
from swarm_lsp.swarm.backends.shared_host import hosts_dir  # noqa: E402

os.environ.setdefault("SWARM_LSP_MODEL_HOSTS_DIR", str(hosts_dir()))
KEPT_VARIABLES = ("SWARM_LSP_MODELS_DIR", "SWARM_LSP_EDITORS_DIR", "SWARM_LSP_MODEL_HOSTS_DIR")


@pytest.fixture(autouse=True)
def isolated_state(tmp_path_factory, monkeypatch):
    state = tmp_path_factory.mktemp("state")
    for name in list(os.environ):
        if name.startswith("SWARM_LSP_") and name not in KEPT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "OLLAMA_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWARM_LSP_LEDGER_PATH", str(state / "ledger.sqlite3"))
    monkeypatch.setenv("SWARM_LSP_CLOUD_AUDIT_LOG", str(state / "cloud_calls.jsonl"))
    monkeypatch.setenv("SWARM_LSP_AUDIT_CACHE", str(state / "audit-cache.sqlite3"))
    monkeypatch.setenv("SWARM_LSP_MEMORY_DIR", str(state / "memory"))
    return state
