"""Opening the ledger's SQLite file and turning SQLite's faults into clear `LedgerError`s
(issue 20, "Faults"); the tables and the API are swarm/ledger.py's.

- Locked: writes wait up to the busy timeout (SQLite retries the lock for us); past it the caller
  gets a `LedgerError` naming the file and "locked". No further retries: the row is dropped, not
  queued, so a stuck writer elsewhere cannot grow memory here.
- Disk full: no retry (it would fail again); the row's transaction is rolled back, so the rows
  before it stay and there is no partial row.
- Damaged: a file with a SQLite header that SQLite calls malformed is moved aside, with its -wal
  and -shm, to `<name>.damaged-<UTC time>` (kept for `sqlite3 <file> .recover`) and a new ledger is
  started, with a warning. A file that is not SQLite at all is refused, never moved: it may be
  another file that `ledger_path` names by mistake.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from swarm_lsp.swarm.errors import SwarmLspError

log = logging.getLogger("swarm_lsp.swarm.ledger")

SQLITE_MAGIC = b"SQLite format 3\x00"
_DAMAGED = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class LedgerError(SwarmLspError):
    """The ledger file cannot be used: written by a newer swarm-lsp, locked past the busy timeout,
    on a full disk, damaged. The message names the file, what is wrong and what to do."""


def _code(exc: sqlite3.Error) -> str:
    """SQLite's error name, e.g. SQLITE_BUSY or the extended SQLITE_CORRUPT_INDEX."""
    return getattr(exc, "sqlite_errorname", "") or ""


def is_damaged(exc: sqlite3.Error) -> bool:
    return _code(exc).startswith(_DAMAGED) or "malformed" in str(exc) or "not a database" in str(exc)


def ledger_error(path: Path, exc: sqlite3.Error, doing: str, timeout_s: float) -> LedgerError:
    """A `LedgerError` for `exc`, raised while `doing` (e.g. "write a calls row")."""
    code = _code(exc)
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in str(exc):
        return LedgerError(
            f"ledger {path} is locked by another connection: could not {doing} after waiting "
            f"{timeout_s:g}s; nothing was written. Another swarm-lsp (or a sqlite3 shell) holds a "
            "write transaction on it; end that, or use another ledger file"
        )
    if code.startswith("SQLITE_FULL") or "disk is full" in str(exc):
        return LedgerError(
            f"ledger {path}: the disk is full ({exc}); could not {doing}, nothing was written and "
            "the earlier rows are intact. Free some space on that disk"
        )
    if is_damaged(exc):
        return LedgerError(
            f"ledger {path} is damaged ({exc}); could not {doing}. Move it aside (the next "
            "swarm-lsp start then creates a new ledger) and try `sqlite3 <file> .recover` on it"
        )
    return LedgerError(f"ledger {path}: could not {doing}: {exc} ({code or type(exc).__name__})")


def failed_write(conn: sqlite3.Connection, path: Path, exc: sqlite3.Error, doing: str, timeout_s: float) -> LedgerError:
    """The LedgerError for a failed write, with its transaction surely gone: a COMMIT that failed
    (e.g. the disk filled while the WAL was written) must not leave the next write inside it."""
    if conn.in_transaction:
        try:
            conn.rollback()
        except sqlite3.Error:
            log.debug("ledger %s: rollback after a failed write failed too", path, exc_info=True)
    return ledger_error(path, exc, doing, timeout_s)


def move_aside(path: Path) -> Path:
    """Rename a damaged ledger and its -wal/-shm to `<name>.damaged-<UTC time>[-n]`; returns the
    new path of the main file. Nothing is deleted."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target, n = path.with_name(f"{path.name}.damaged-{stamp}"), 0
    while any(Path(f"{target}{s}").exists() for s in ("", "-wal", "-shm")):
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("-wal", "-shm", ""):  # the main file last: while it is there, so is the ledger
        try:
            os.rename(f"{path}{suffix}", f"{target}{suffix}")
        except FileNotFoundError:  # no such companion, or another process moved it first
            pass
    return target


def _starts_like_sqlite(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return True
    return head == b"" or head == SQLITE_MAGIC or SQLITE_MAGIC.startswith(head)


def open_ledger(path: Path, timeout_s: float, prepare: Callable[[sqlite3.Connection], None]) -> sqlite3.Connection:
    """A connection to the ledger at `path` with `prepare` (pragmas, migrations) done on it. A
    damaged SQLite file is moved aside once and a new ledger started; anything else is a
    LedgerError."""
    for attempt in (1, 2):
        # isolation_level=None: transactions are begun explicitly, so DDL in migrations is atomic.
        conn = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            prepare(conn)
            return conn
        except sqlite3.Error as exc:
            conn.close()
            if not is_damaged(exc) or attempt == 2:
                raise ledger_error(path, exc, "open it", timeout_s) from exc
            if not _starts_like_sqlite(path):
                raise LedgerError(
                    f"ledger {path} is not a SQLite database ({exc}); swarm-lsp leaves it alone, as "
                    "it may not be a ledger at all. Check `ledger_path` / $SWARM_LSP_LEDGER_PATH, or "
                    "move the file aside and swarm-lsp will start a new ledger there"
                ) from exc
            moved = move_aside(path)
            log.warning("ledger %s is damaged (%s): moved it to %s (try `sqlite3 %s .recover`) "
                        "and started a new ledger", path, exc, moved, moved)
        except BaseException:
            conn.close()
            raise
    raise AssertionError("unreachable")
