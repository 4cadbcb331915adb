from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from swarm_lsp.swarm import ledger as ledger_module
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger, LedgerError


@pytest.fixture
def ledger(tmp_path):
    with Ledger(tmp_path / "state" / "ledger.sqlite3") as book:
        yield book


def local_call(**changes) -> CallRecord:
    fields = dict(backend="llamacpp:qwen2.5-coder-0.5b", model="qwen2.5-coder-0.5b",
                  prompt_tokens=100, completion_tokens=20, workspace="/ws", action="document",
                  tier="llamacpp:qwen2.5-coder-0.5b", latency_s=0.5)
    return CallRecord(**{**fields, **changes})


def cloud_call(**changes) -> CallRecord:
    fields = dict(backend="anthropic:claude-sonnet-4-5", model="claude-sonnet-4-5", cloud=True,
                  prompt_tokens=1000, completion_tokens=300, cache_read_tokens=800,
                  cache_write_tokens=50, workspace="/ws", action="document")
    return CallRecord(**{**fields, **changes})


def test_creates_parent_dirs_schema_and_wal(tmp_path):
    path = tmp_path / "a" / "b" / "ledger.sqlite3"
    Ledger(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == ledger_module.SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"calls", "actions"} <= tables
    conn.close()


def test_reopening_keeps_rows_and_does_not_migrate_again(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    with Ledger(path) as book:
        book.record_call(local_call())
    with Ledger(path) as book:
        assert len(book.recent_calls()) == 1


def test_a_ledger_of_the_first_schema_is_migrated_with_its_rows_kept(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(path)
    for statement in ledger_module.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("INSERT INTO calls (time, backend, model, cloud, prompt_tokens, completion_tokens, outcome)"
                 " VALUES ('2025-01-01T00:00:00.000000+00:00', 'llamacpp:m', 'm', 0, 10, 2, 'ok')")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    with Ledger(path) as book:
        [old] = book.recent_calls()
        book.record_call(local_call(usage_estimated=True))
        totals = book.totals()
    assert old.prompt_tokens == 10 and old.usage_estimated is False
    assert totals["local_tokens"] == 12 + 120 and totals["estimated_tokens"] == 120


def test_refuses_a_newer_schema(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {ledger_module.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(LedgerError, match="newer"):
        Ledger(path)


def test_calls_and_actions_read_back(ledger):
    when = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)
    call = local_call(action_id="abc", outcome="error", error="boom", time=when)
    ledger.record_call(call)
    assert ledger.recent_calls() == [call]

    action = ActionRecord(action="document", target="pkg/mod.py::f", status="accepted",
                          workspace="/ws", tier="llamacpp:qwen2.5-coder-0.5b", local_tokens=120,
                          elapsed_s=3.5, time=when)
    ledger.record_action(action)
    assert ledger.recent_actions() == [action]
    assert len(action.action_id) == 32


def test_recent_calls_newest_first_with_limit(ledger):
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for minute in (2, 0, 1):
        ledger.record_call(local_call(prompt_tokens=minute, time=start + timedelta(minutes=minute)))
    assert [c.prompt_tokens for c in ledger.recent_calls(2)] == [2, 1]


@pytest.mark.parametrize("bad", [
    local_call(outcome="exploded"),
    local_call(prompt_tokens=-1),
    local_call(cache_read_tokens=-5),
])
def test_a_bad_call_leaves_no_row_and_the_ledger_usable(ledger, bad):
    with pytest.raises(ValueError, match="invalid calls record"):
        ledger.record_call(bad)
    assert ledger.recent_calls() == []
    ledger.record_call(local_call())
    assert len(ledger.recent_calls()) == 1


def test_a_failed_action_write_rolls_back(ledger):
    first = ActionRecord(action="audit", target="a.py::f", status="accepted")
    ledger.record_action(first)
    with pytest.raises(ValueError):
        ledger.record_action(ActionRecord(action="audit", target="a.py::g", status="maybe"))
    with pytest.raises(ValueError):  # action_id is unique
        ledger.record_action(ActionRecord(action="audit", target="a.py::g", status="failed",
                                          action_id=first.action_id))
    assert ledger.recent_actions() == [first]


def test_totals_arithmetic(ledger):
    old = datetime(2024, 6, 1, tzinfo=timezone.utc)
    ledger.record_call(local_call())
    ledger.record_call(local_call(prompt_tokens=50, completion_tokens=5, outcome="cancelled"))
    ledger.record_call(cloud_call())
    ledger.record_call(local_call(workspace="/other", prompt_tokens=7, completion_tokens=3))
    ledger.record_call(cloud_call(time=old))
    for status in ("accepted", "accepted", "rejected"):
        ledger.record_action(ActionRecord(action="tests", target="t", status=status, workspace="/ws"))
    ledger.record_action(ActionRecord(action="tests", target="t", status="failed", time=old))

    totals = ledger.totals()
    assert totals["calls"] == 5 and totals["local_calls"] == 3 and totals["cloud_calls"] == 2
    assert totals["local_tokens"] == 120 + 55 + 10
    assert totals["cloud_tokens"] == 2 * 1300
    assert (totals["cache_read_tokens"], totals["cache_write_tokens"]) == (1600, 100)
    assert totals["failed_calls"] == 1 and totals["estimated_tokens"] == 0
    assert totals["actions"] == 4
    assert totals["actions_by_status"] == {"accepted": 2, "rejected": 1, "failed": 1, "cancelled": 0}

    recent = ledger.totals(since=datetime(2025, 1, 1, tzinfo=timezone.utc), workspace="/ws")
    assert recent["calls"] == 3 and recent["local_tokens"] == 175 and recent["cloud_tokens"] == 1300
    assert recent["actions_by_status"] == {"accepted": 2, "rejected": 1, "failed": 0, "cancelled": 0}


def test_totals_of_an_empty_ledger_are_zero(ledger):
    totals = ledger.totals()
    assert totals["calls"] == totals["local_tokens"] == totals["cloud_tokens"] == 0
    assert totals["actions"] == 0


def test_since_accepts_other_timezones(ledger):
    ledger.record_call(local_call(time=datetime(2025, 1, 1, 12, 0, tzinfo=timezone.utc)))
    plus_two = timezone(timedelta(hours=2))
    assert ledger.totals(since=datetime(2025, 1, 1, 13, 59, tzinfo=plus_two))["calls"] == 1
    assert ledger.totals(since=datetime(2025, 1, 1, 14, 1, tzinfo=plus_two))["calls"] == 0


def test_concurrent_writes_from_threads(ledger):
    threads, per_thread = 8, 50
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(per_thread):
                ledger.record_call(local_call(prompt_tokens=1, completion_tokens=0, action_id=f"{n}"))
                if i % 10 == 0:
                    ledger.totals()
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    assert ledger.totals()["local_tokens"] == threads * per_thread


def test_two_connections_to_one_file(tmp_path):
    path = tmp_path / "shared.sqlite3"
    with Ledger(path) as lsp, Ledger(path) as cli:
        lsp.record_call(local_call())
        cli.record_call(cloud_call())
        assert lsp.totals()["calls"] == cli.totals()["calls"] == 2


def test_path_from_env_and_argument(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARM_LSP_LEDGER_PATH", str(tmp_path / "env" / "l.sqlite3"))
    with Ledger() as book:
        assert book.path == tmp_path / "env" / "l.sqlite3"
    assert (tmp_path / "env" / "l.sqlite3").is_file()
    assert ledger_module.ledger_path(tmp_path / "arg.sqlite3") == tmp_path / "arg.sqlite3"
    monkeypatch.delenv("SWARM_LSP_LEDGER_PATH")
    assert ledger_module.ledger_path().name == "ledger.sqlite3"
    assert "swarm-lsp" in str(ledger_module.ledger_path())
