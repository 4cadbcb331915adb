"""Issue 20, "Faults": a process SIGKILLed while it writes ledger rows loses no acknowledged row
and leaves no row twice, and the ledger opens cleanly afterwards.

A real writer process records calls and actions through the public `Ledger` API, each with a
unique id, and appends the id (fsync'd) to a side file once the write has returned. The test kills
it when the side file has reached N lines (polled: where the kill lands is up to the writer, how
far it got is not), five times on one ledger file."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from swarm_lsp.swarm.ledger import Ledger

WRITER = r"""
import os, sys
from swarm_lsp.swarm.ledger import ActionRecord, CallRecord, Ledger
ledger_path, side_path, prefix = sys.argv[1:4]
book = Ledger(ledger_path)
side = os.open(side_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
i = 0
while True:
    uid = f"{prefix}-{i}"
    if i % 3 == 2:
        book.record_action(ActionRecord(action="document", target=f"m.py::f{i}", status="accepted",
                                        action_id=uid, local_tokens=i))
    else:
        book.record_call(CallRecord(backend="llamacpp:m", model="m", prompt_tokens=i,
                                    completion_tokens=1, action_id=uid, error="x" * (i % 500)))
    os.write(side, (uid + "\n").encode())  # one write(2): a kill leaves whole lines
    os.fsync(side)
    i += 1
"""

KILL_AFTER = (1, 17, 60, 150, 333)  # side-file lines before each SIGKILL
GIVE_UP_S = 120  # only so a broken writer cannot hang the run; nothing about speed is asserted


def acknowledged(side: Path) -> list[str]:
    text = side.read_text() if side.exists() else ""
    return [line for line in text.split("\n")[:-1]]  # the text after the last newline is not a line


def run_and_kill(ledger: Path, side: Path, prefix: str, lines: int) -> None:
    repo = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(ledger), str(side), prefix],
                              cwd=repo, stderr=subprocess.PIPE)
    give_up = time.monotonic() + GIVE_UP_S
    try:
        while len(acknowledged(side)) < lines:
            if writer.poll() is not None:
                raise AssertionError(f"the writer ended early: {writer.stderr.read().decode()}")
            assert time.monotonic() < give_up, "the writer made no progress"
            time.sleep(0.002)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        if writer.poll() is None:
            writer.kill()
        writer.wait()
        writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL


def test_killed_writers_lose_no_acknowledged_row_and_write_none_twice(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    side = tmp_path / "written.txt"
    runs = [f"run{n}" for n in range(len(KILL_AFTER))]
    for run, lines in zip(runs, KILL_AFTER):
        before = len(acknowledged(side))
        run_and_kill(path, side, run, before + lines)

        conn = sqlite3.connect(path)  # as any reader would: the WAL left by the kill is recovered
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            rows = conn.execute("SELECT action_id, prompt_tokens FROM calls"
                                " UNION ALL SELECT action_id, local_tokens FROM actions").fetchall()
        finally:
            conn.close()
        ids = [uid for uid, _ in rows]
        assert len(ids) == len(set(ids)), "a row was written twice"
        assert all(int(uid.rsplit("-", 1)[1]) == n for uid, n in rows), "a row is not whole"
        noted = acknowledged(side)
        assert len(noted) == len(set(noted))
        missing = set(noted) - set(ids)
        assert not missing, f"acknowledged rows lost: {sorted(missing)[:5]}"
        # At most one row per killed writer was in the ledger but not yet noted in the side file.
        unnoted = set(ids) - set(noted)
        assert len(unnoted) <= runs.index(run) + 1
        assert all(uid.split("-")[0] in runs for uid in unnoted)

    with Ledger(path) as book:  # the API opens it too, and it takes new rows
        totals = book.totals()
        assert totals["calls"] + totals["actions"] == len(ids)
        assert len(book.recent_calls(10)) == 10
