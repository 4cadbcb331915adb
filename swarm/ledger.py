"""The token ledger: one SQLite row per model call and one per action (DESIGN.md §4).

The LSP server, the MCP server and CLI runs may share one ledger file, so writes use WAL mode, a
busy timeout and short `BEGIN IMMEDIATE` transactions. Times are stored as ISO-8601 UTC text with
a fixed width, so that string order is time order. Faults (locked, full, damaged) are
swarm/ledger_store.py's.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import platformdirs

from swarm_lsp.swarm.ledger_store import LedgerError, failed_write, ledger_error, open_ledger

log = logging.getLogger(__name__)

LEDGER_ENV = "SWARM_LSP_LEDGER_PATH"  # the same variable as the `ledger_path` config key
OUTCOMES = ("ok", "error", "cancelled")
STATUSES = ("accepted", "rejected", "failed", "cancelled")

# MIGRATIONS[n] takes the schema from user_version n to n + 1; append, never edit.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        f"""CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            time TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            action_id TEXT,
            action TEXT,
            tier TEXT,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            cloud INTEGER NOT NULL CHECK (cloud IN (0, 1)),
            prompt_tokens INTEGER NOT NULL CHECK (prompt_tokens >= 0),
            completion_tokens INTEGER NOT NULL CHECK (completion_tokens >= 0),
            cache_read_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_read_tokens >= 0),
            cache_write_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cache_write_tokens >= 0),
            latency_s REAL NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL CHECK (outcome IN {OUTCOMES}),
            error TEXT
        )""",
        f"""CREATE TABLE actions (
            id INTEGER PRIMARY KEY,
            action_id TEXT NOT NULL UNIQUE,
            time TEXT NOT NULL,
            workspace TEXT NOT NULL DEFAULT '',
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN {STATUSES}),
            tier TEXT,
            local_tokens INTEGER NOT NULL DEFAULT 0 CHECK (local_tokens >= 0),
            cloud_tokens INTEGER NOT NULL DEFAULT 0 CHECK (cloud_tokens >= 0),
            elapsed_s REAL NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX calls_time ON calls (time)",
        "CREATE INDEX calls_action_id ON calls (action_id)",
        "CREATE INDEX actions_time ON actions (time)",
    ),
    # A server that sends no usage (llama-cpp-python's stream): the tokens were counted by us, not it.
    (
        "ALTER TABLE calls ADD COLUMN usage_estimated INTEGER NOT NULL DEFAULT 0 CHECK (usage_estimated IN (0, 1))",
    ),
    # What adaptive routing groups outcomes by (swarm/routing.py): the target's language and size.
    (
        "ALTER TABLE actions ADD COLUMN language TEXT",
        "ALTER TABLE actions ADD COLUMN target_lines INTEGER NOT NULL DEFAULT 0 CHECK (target_lines >= 0)",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


def new_action_id() -> str:
    return uuid.uuid4().hex


def _now() -> datetime:
    return datetime.now(timezone.utc)


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with microseconds; naive datetimes are taken to be UTC already."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class CallRecord:
    backend: str  # "kind:model", e.g. "llamacpp:qwen2.5-coder-0.5b"
    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cloud: bool = False
    workspace: str = ""
    action_id: str | None = None
    action: str | None = None
    tier: str | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_s: float = 0.0
    outcome: str = "ok"  # ok | error | cancelled
    error: str | None = None
    time: datetime = field(default_factory=_now)
    usage_estimated: bool = False  # the backend reported no usage: the token counts are our estimate


@dataclass(frozen=True)
class ActionRecord:
    action: str
    target: str
    status: str  # accepted | rejected | failed | cancelled
    action_id: str = field(default_factory=new_action_id)
    workspace: str = ""
    tier: str | None = None
    local_tokens: int = 0
    cloud_tokens: int = 0
    elapsed_s: float = 0.0
    time: datetime = field(default_factory=_now)
    language: str | None = None
    target_lines: int = 0


_CALL_COLUMNS = (
    "time", "workspace", "action_id", "action", "tier", "backend", "model", "cloud",
    "prompt_tokens", "completion_tokens", "cache_read_tokens", "cache_write_tokens",
    "latency_s", "outcome", "error", "usage_estimated",
)
_ACTION_COLUMNS = (
    "action_id", "time", "workspace", "action", "target", "status", "tier",
    "local_tokens", "cloud_tokens", "elapsed_s", "language", "target_lines",
)


def filter_clause(since: datetime | None = None, workspace: str | None = None) -> tuple[str, tuple[Any, ...]]:
    """` WHERE ...` (or "") and its parameters: rows at or after `since`, of `workspace` (both tables
    have these columns)."""
    where, params = [], []
    if since is not None:
        where.append("time >= ?")
        params.append(format_time(since))
    if workspace is not None:
        where.append("workspace = ?")
        params.append(workspace)
    return (f" WHERE {' AND '.join(where)}" if where else ""), tuple(params)


def ledger_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get(LEDGER_ENV):
        return Path(env).expanduser()
    return Path(platformdirs.user_state_dir("swarm-lsp")) / "ledger.sqlite3"


class Ledger:
    """Thread-safe: one connection guarded by a lock; every write is its own transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, busy_timeout_s: float = 10.0) -> None:
        """`busy_timeout_s`: how long a write waits for another connection's write lock."""
        self.path = ledger_path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.busy_timeout_s = busy_timeout_s
        self._lock = threading.Lock()
        self._conn = open_ledger(self.path, busy_timeout_s, self._prepare)

    def _prepare(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            log.warning("ledger %s: journal mode is %s, not wal", self.path, mode)
        # A row is acknowledged only once it is on disk: FULL syncs the WAL at every commit
        # (NORMAL could lose the last rows on power loss). Rows are few and small.
        conn.execute("PRAGMA synchronous=FULL")
        self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with self._lock, conn:
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise LedgerError(
                    f"ledger {self.path} has schema version {version}, newer than this "
                    f"swarm-lsp understands ({SCHEMA_VERSION}); upgrade swarm-lsp or use "
                    f"another ledger file (${LEDGER_ENV})"
                )
            for step in range(version, SCHEMA_VERSION):
                log.debug("ledger %s: migrating schema %d -> %d", self.path, step, step + 1)
                for statement in MIGRATIONS[step]:
                    conn.execute(statement)
            # PRAGMA does not take parameters; SCHEMA_VERSION is an int we control.
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _insert(self, table: str, columns: tuple[str, ...], values: tuple[Any, ...]) -> int:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        # One transaction per row, committed before this returns: a process killed at any point
        # leaves each row either whole in the ledger or absent, never half or twice.
        with self._lock:
            try:
                with self._conn:  # rolls the row back on any error
                    self._conn.execute("BEGIN IMMEDIATE")
                    row_id = self._conn.execute(sql, values).lastrowid
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"invalid {table} record: {exc}") from exc
            except sqlite3.Error as exc:
                raise failed_write(self._conn, self.path, exc, f"write a {table} row", self.busy_timeout_s) from exc
        assert row_id is not None
        return row_id

    def record_call(self, record: CallRecord) -> int:
        """Write one model call; returns its row id."""
        return self._insert("calls", _CALL_COLUMNS, (
            format_time(record.time), record.workspace, record.action_id, record.action,
            record.tier, record.backend, record.model, int(record.cloud),
            record.prompt_tokens, record.completion_tokens, record.cache_read_tokens,
            record.cache_write_tokens, record.latency_s, record.outcome, record.error, int(record.usage_estimated),
        ))

    def record_action(self, record: ActionRecord) -> int:
        """Write the outcome of one action; returns its row id."""
        return self._insert("actions", _ACTION_COLUMNS, (
            record.action_id, format_time(record.time), record.workspace, record.action,
            record.target, record.status, record.tier, record.local_tokens,
            record.cloud_tokens, record.elapsed_s, record.language, record.target_lines,
        ))

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query, for reports beside this module (swarm/report_queries.py)."""
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise ledger_error(self.path, exc, "read it", self.busy_timeout_s) from exc

    def recent_calls(self, limit: int = 50) -> list[CallRecord]:
        """The latest calls, newest first."""
        rows = self.query(
            f"SELECT {', '.join(_CALL_COLUMNS)} FROM calls ORDER BY time DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [
            CallRecord(**{
                **dict(row), "cloud": bool(row["cloud"]), "usage_estimated": bool(row["usage_estimated"]),
                "time": datetime.fromisoformat(row["time"]),
            })
            for row in rows
        ]

    def recent_actions(self, limit: int = 50) -> list[ActionRecord]:
        """The latest actions, newest first."""
        rows = self.query(
            f"SELECT {', '.join(_ACTION_COLUMNS)} FROM actions ORDER BY time DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [
            ActionRecord(**{**dict(row), "time": datetime.fromisoformat(row["time"])})
            for row in rows
        ]

    def totals(self, since: datetime | None = None, workspace: str | None = None) -> dict[str, Any]:
        """Token totals. `local_tokens`/`cloud_tokens` are prompt + completion tokens; provider cache
        reads and writes are reported separately, not added in. `estimated_tokens`: the part of
        those counted by swarm-lsp because the server reported no usage."""
        clause, params = filter_clause(since, workspace)
        (calls,) = self.query(
            "SELECT COUNT(*) AS calls,"
            " COALESCE(SUM(cloud = 0), 0) AS local_calls,"
            " COALESCE(SUM(cloud = 1), 0) AS cloud_calls,"
            " COALESCE(SUM(CASE WHEN cloud = 0 THEN prompt_tokens + completion_tokens END), 0)"
            "   AS local_tokens,"
            " COALESCE(SUM(CASE WHEN cloud = 1 THEN prompt_tokens + completion_tokens END), 0)"
            "   AS cloud_tokens,"
            " COALESCE(SUM(CASE WHEN usage_estimated = 1 THEN prompt_tokens + completion_tokens END), 0)"
            "   AS estimated_tokens,"
            " COALESCE(SUM(cache_read_tokens), 0) AS cache_read_tokens,"
            " COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,"
            " COALESCE(SUM(outcome != 'ok'), 0) AS failed_calls"
            f" FROM calls{clause}",
            params,
        )
        by_status = dict.fromkeys(STATUSES, 0)
        for row in self.query(
            f"SELECT status, COUNT(*) AS n FROM actions{clause} GROUP BY status", params
        ):
            by_status[row["status"]] = row["n"]
        return {**dict(calls), "actions": sum(by_status.values()), "actions_by_status": by_status}

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
