"""A cancel ends the job at every stage of `Swarm.run`, even where the stage's own code never looks
at the token (analysis, a gate stuck in a C extension, the final measurement). The model is the
zero-latency scripted backend; each stage is held open by a threading.Event the test releases only
after it has checked the job's result, so the tests assert order, not time: the job ended as
cancelled while the stage was still running, no model call followed the cancel, and the job's
resources were released only after the abandoned thread ended."""

from __future__ import annotations

import asyncio
import threading

import pytest

from swarm_lsp.swarm.actions.base import Probe
from swarm_lsp.swarm.actions.document import DocumentAction, DocumentJob
from swarm_lsp.swarm.cancel import CancelToken
from tests.unit.test_engine import GOOD, make_swarm, request

GUARD_S = 30  # a hang guard for the test run, not an assertion


class Stage:
    """Blocks one job method on an event and records when it started and finished."""

    def __init__(self) -> None:
        self.entered, self.release, self.finished = threading.Event(), threading.Event(), threading.Event()

    def hold(self, original):
        def held(*args, **kwargs):
            self.entered.set()
            self.release.wait(GUARD_S)  # deliberately deaf to the cancel token
            try:
                return original(*args, **kwargs)
            finally:
                self.finished.set()
        return held


async def cancel_when_entered(stage: Stage, token: CancelToken) -> None:
    while not stage.entered.is_set():
        await asyncio.sleep(0.01)
    token.cancel("user pressed cancel")


async def run_and_cancel(swarm, stage: Stage):
    token = CancelToken()
    canceller = asyncio.ensure_future(cancel_when_entered(stage, token))
    result = await asyncio.wait_for(swarm.run(request(), cancel=token), GUARD_S)
    await canceller
    return result


async def until_closed(closes: list[str]) -> None:
    for _ in range(100):  # the job closes on the loop once the abandoned thread has ended
        if closes:
            return
        await asyncio.sleep(0.01)


@pytest.fixture
def closes(monkeypatch):
    closed: list[str] = []
    monkeypatch.setattr(DocumentJob, "close", lambda self: closed.append("closed"))
    return closed


async def test_cancel_during_analysis_ends_the_job_before_any_model_call(tmp_path, monkeypatch, closes):
    stage = Stage()
    monkeypatch.setattr(DocumentAction, "prepare", stage.hold(DocumentAction.prepare))
    swarm, backends, ledger = make_swarm([GOOD], tmp_path)
    result = await run_and_cancel(swarm, stage)
    assert result.status == "cancelled" and result.edits == []
    assert not stage.finished.is_set()  # analysis was still running when the job ended
    assert backends["llamacpp:scripted"].calls == [] and ledger.recent_calls(5) == []
    stage.release.set()
    await asyncio.to_thread(stage.finished.wait, GUARD_S)


async def test_cancel_during_a_gate_ends_the_job_and_closes_it_after_the_gate(tmp_path, monkeypatch, closes):
    stage = Stage()
    monkeypatch.setattr(DocumentJob, "evaluate", stage.hold(DocumentJob.evaluate))
    swarm, backends, ledger = make_swarm([GOOD, GOOD, GOOD], tmp_path)
    result = await run_and_cancel(swarm, stage)
    assert result.status == "cancelled" and result.edits == []
    assert not stage.finished.is_set() and closes == []  # nothing torn down under the running gate
    assert len(backends["llamacpp:scripted"].calls) == 1  # no candidate after the cancel
    [call] = ledger.recent_calls(5)
    assert call.outcome == "ok"  # the one reply arrived before the cancel
    stage.release.set()
    await asyncio.to_thread(stage.finished.wait, GUARD_S)
    await until_closed(closes)
    assert closes == ["closed"]


async def test_cancel_while_the_proposed_calls_run_ends_the_job_before_any_candidate(tmp_path, monkeypatch, closes):
    stage = Stage()
    probe = Probe([{"role": "user", "content": "calls?"}], {"type": "object"}, 16)
    monkeypatch.setattr(DocumentJob, "probe", lambda self: probe)
    monkeypatch.setattr(DocumentJob, "observe", stage.hold(lambda self, reply, cancel: None))
    swarm, backends, ledger = make_swarm([{"calls": []}, GOOD], tmp_path)
    result = await run_and_cancel(swarm, stage)
    assert result.status == "cancelled" and result.edits == [] and result.attempts == []
    [only] = backends["llamacpp:scripted"].calls
    assert only["messages"] == probe.messages  # the probe was the last call: no candidate after the cancel
    assert [c.outcome for c in ledger.recent_calls(5)] == ["ok"]
    stage.release.set()
    await asyncio.to_thread(stage.finished.wait, GUARD_S)
    await until_closed(closes)
    assert closes == ["closed"]  # closed only after the sandbox run ended


async def test_cancel_during_the_final_measurement_drops_the_accepted_edit(tmp_path, monkeypatch, closes):
    stage = Stage()
    monkeypatch.setattr(DocumentJob, "finalize", stage.hold(DocumentJob.finalize))
    swarm, backends, _ = make_swarm([GOOD], tmp_path)
    result = await run_and_cancel(swarm, stage)
    assert result.status == "cancelled" and result.edits == [] and result.message == "cancelled by the user"
    assert len(backends["llamacpp:scripted"].calls) == 1
    stage.release.set()
    await asyncio.to_thread(stage.finished.wait, GUARD_S)


async def test_an_uncancelled_job_closes_once_and_at_once(tmp_path, closes):
    swarm, _, _ = make_swarm([GOOD], tmp_path)
    result = await swarm.run(request())
    assert result.status == "accepted" and closes == ["closed"]
