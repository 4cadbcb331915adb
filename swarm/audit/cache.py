"""Audit results cached by file content, so an unchanged tree re-checks in seconds.

The key is the SHA-256 of the file's bytes plus the analysers' identity (tool versions and this
module's format version); the path is not part of the key, so a moved file stays cached. Stored in
SQLite in the user cache folder (`SWARM_LSP_AUDIT_CACHE` overrides the path).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
from pathlib import Path

from platformdirs import user_cache_dir

from swarm_lsp.swarm.audit.findings import Finding

FORMAT_VERSION = 3  # 2: swarm findings carry their input and passed the flow gate; 3: the flow pass


def default_cache_path() -> Path:
    override = os.environ.get("SWARM_LSP_AUDIT_CACHE")
    return Path(override) if override else Path(user_cache_dir("swarm-lsp")) / "audit-cache.sqlite3"


def content_key(text: str, analysers: str) -> str:
    return hashlib.sha256(f"{FORMAT_VERSION}\0{analysers}\0{text}".encode("utf-8")).hexdigest()


class AuditCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS findings (key TEXT PRIMARY KEY, data TEXT NOT NULL)")

    def get(self, key: str, path: str) -> list[Finding] | None:
        row = self._db.execute("SELECT data FROM findings WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return [Finding(**{**item, "path": path}) for item in json.loads(row[0])]

    def put(self, key: str, findings: list[Finding]) -> None:
        data = json.dumps([dataclasses.asdict(f) for f in findings])
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO findings (key, data) VALUES (?, ?)", (key, data))

    def close(self) -> None:
        self._db.close()
