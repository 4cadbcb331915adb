"""Issue 20, "Faults": a locked, full or damaged ledger gives a clear LedgerError (or, for a damaged
SQLite file, is moved aside), keeps its earlier rows whole, and never fails the user's action."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from swarm_lsp.swarm.call_recorder import CallRecorder
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger, LedgerError
from swarm_lsp.swarm.ledger_store import move_aside
from swarm_lsp.swarm.types import ActionResult
from tests.unit.test_engine import GOOD, make_swarm, request


def call(n: int = 0, **changes) -> CallRecord:
    fields = dict(backend="llamacpp:m", model="m", prompt_tokens=n, completion_tokens=1, action_id=f"id{n}")
    return CallRecord(**{**fields, **changes})


def integrity(path: Path) -> list[tuple[str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


@pytest.fixture
def path(tmp_path):
    return tmp_path / "ledger.sqlite3"


@pytest.fixture
def holder(path):
    """A second connection that takes the ledger's write lock with `holder.execute("BEGIN IMMEDIATE")`."""
    Ledger(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    yield conn
    conn.close()


def test_rows_are_committed_durably_in_wal_mode(path):
    with Ledger(path) as book:
        assert book.query("PRAGMA journal_mode")[0][0] == "wal"
        assert book.query("PRAGMA synchronous")[0][0] == 2  # FULL


# --- locked -----------------------------------------------------------------------------------

def test_a_write_waits_for_a_lock_and_succeeds_once_it_is_released(path, holder):
    written: list[int] = []
    with Ledger(path, busy_timeout_s=600) as book:
        holder.execute("BEGIN IMMEDIATE")
        writer = threading.Thread(target=lambda: written.append(book.record_call(call(1))))
        writer.start()
        writer.join(0.3)
        assert writer.is_alive() and written == []  # it cannot have written while the lock is held
        holder.execute("COMMIT")
        writer.join()
        assert len(written) == 1
        assert [c.action_id for c in book.recent_calls()] == ["id1"]


def test_a_lock_held_past_the_busy_timeout_is_a_clear_error_and_writes_nothing(path, holder):
    with Ledger(path, busy_timeout_s=0.05) as book:
        book.record_call(call(1))
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(LedgerError, match="locked") as raised:
            book.record_action(ActionRecord(action="document", target="t" * 5000, status="accepted"))
        assert str(path) in str(raised.value)
        holder.execute("ROLLBACK")
        book.record_call(call(2))  # the ledger is usable again at once
        assert [c.action_id for c in book.recent_calls()] == ["id2", "id1"]
        assert book.recent_actions() == []


async def test_a_locked_ledger_does_not_fail_the_action(tmp_path, caplog):
    swarm, _, ledger = make_swarm([GOOD], tmp_path)
    ledger.close()
    swarm.ledger = Ledger(ledger.path, busy_timeout_s=0.05)
    holder = sqlite3.connect(ledger.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with caplog.at_level(logging.WARNING):
            result = await swarm.run(request())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.status == "accepted" and result.edits
    assert "not written" in result.evidence["ledger"] and "locked" in result.evidence["ledger"]
    assert any("locked" in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    assert swarm.ledger.recent_calls() == [] and swarm.ledger.recent_actions() == []
    swarm.ledger.close()


# --- disk full --------------------------------------------------------------------------------

def fill(book: Ledger) -> list[str]:
    """Cap the database at its current size (SQLite then reports SQLITE_FULL, as on a full disk)
    and write big rows, then small ones, until none fits; returns the ids of those that did."""
    pages = book.query("PRAGMA page_count")[0][0]
    book.query(f"PRAGMA max_page_count = {pages}")
    written, n = [], 100
    for size in (3000, 0):
        while True:
            n += 1
            try:
                book.record_call(call(n, error="x" * size or None))
            except LedgerError as exc:
                assert "disk is full" in str(exc) and str(book.path) in str(exc)
                break
            written.append(f"id{n}")
            assert n < 10_000, "the ledger never filled"
    return written


def test_a_full_disk_is_a_clear_error_and_keeps_the_earlier_rows_whole(path):
    with Ledger(path) as book:
        for n in range(3):
            book.record_call(call(n))
        fitted = fill(book)
        with pytest.raises(LedgerError, match="disk is full"):
            book.record_action(ActionRecord(action="document", target="t" * 5000, status="accepted"))
        ids = [c.action_id for c in book.recent_calls(100_000)]
        assert sorted(ids) == sorted([f"id{n}" for n in range(3)] + fitted)
        assert book.recent_actions() == []
        book.query("PRAGMA max_page_count = 1073741823")  # space again: it takes rows again
        book.record_call(call(99))
    assert integrity(path) == [("ok",)]


async def test_a_full_ledger_does_not_fail_the_recorder(path, caplog):
    with Ledger(path) as book:
        fill(book)
        result = ActionResult(action="document", status="accepted", target="m.py::f")
        recorder = CallRecorder(book, result, "/ws", "action1")
        recorder.call("llamacpp:m", "llamacpp:m", None, "error", "boom")
        recorder.action()
        with caplog.at_level(logging.WARNING):
            await recorder.drain()
        assert "disk is full" in result.evidence["ledger"]
        assert any("disk is full" in r.getMessage() for r in caplog.records)


# --- damaged ----------------------------------------------------------------------------------

def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(path):
    garbage = b"this is not a ledger\n" * 400
    path.write_bytes(garbage)
    with pytest.raises(LedgerError, match="not a SQLite database") as raised:
        Ledger(path)
    message = str(raised.value)
    assert str(path) in message and "move the file aside" in message
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


@pytest.mark.parametrize("keep", [60, 0.5])  # a cut inside the header; half the file
def test_a_damaged_sqlite_ledger_is_moved_aside_and_a_new_one_started(path, caplog, keep):
    with Ledger(path) as book:
        for n in range(100):
            book.record_call(call(n, error="x" * 200))
    whole = path.read_bytes()
    damaged = whole[: keep if isinstance(keep, int) else int(len(whole) * keep)]
    path.write_bytes(damaged)
    with caplog.at_level(logging.WARNING), Ledger(path) as book:
        assert book.recent_calls() == []
        book.record_call(call(1))
        assert len(book.recent_calls()) == 1
    [moved] = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert moved.name.startswith("ledger.sqlite3.damaged-") and moved.read_bytes() == damaged
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in warning and str(moved) in warning and "recover" in warning
    assert integrity(path) == [("ok",)]


def test_moving_aside_never_overwrites_an_earlier_damaged_copy(path):
    path.write_bytes(b"first")
    first = move_aside(path)
    path.write_bytes(b"second")
    Path(f"{path}-wal").write_bytes(b"wal")
    second = move_aside(path)
    assert first != second and first.read_bytes() == b"first" and second.read_bytes() == b"second"
    assert Path(f"{second}-wal").read_bytes() == b"wal"
    assert not path.exists() and not Path(f"{path}-wal").exists()
