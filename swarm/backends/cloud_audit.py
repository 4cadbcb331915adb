"""The cloud audit log (DESIGN.md §8): every request sent to a cloud tier, redacted and exactly as
sent, one JSON line each, in the user state folder (`SWARM_LSP_CLOUD_AUDIT_LOG` moves it). Nothing
may leave the machine unlogged: a backend checks the log is writable before its first call."""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import platformdirs

log = logging.getLogger(__name__)

AUDIT_ENV = "SWARM_LSP_CLOUD_AUDIT_LOG"
_lock = threading.Lock()


def default_audit_log() -> Path:
    configured = os.environ.get(AUDIT_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_state_dir("swarm-lsp")) / "cloud_calls.jsonl"


def ensure_writable(path: Path) -> None:
    """Create the log (mode 0600) if needed; OSError when it cannot be appended to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))


def append(path: Path, record: dict[str, Any], label: str) -> None:
    line = json.dumps(record, ensure_ascii=False) + "\n"
    try:
        with _lock:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(line)
    except OSError as exc:
        log.error("%s: cannot append to the cloud audit log %s: %s", label, path, exc)
