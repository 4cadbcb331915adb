"""Engine behaviour with the zero-latency scripted backend: candidates, gates, feedback, usage,
ledger, events and cancellation. The real model is exercised in tests/real."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.backends.base import BackendError
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

SOURCE = '''def scale(values, factor):
    if factor == 0:
        raise ValueError("factor must not be zero")
    return [v * factor for v in values]
'''

GOOD = {
    "summary": "Multiply every value by a factor.",
    "params": {"values": "The numbers to scale.", "factor": "The multiplier."},
    "returns": "The scaled numbers.",
    "raises": {"ValueError": "If factor is zero."},
}
MISSING_PARAM = {**GOOD, "params": {"values": "The numbers to scale."}}


def request(target="scale", text=SOURCE, path="pkg/scale.py"):
    return ActionRequest("document", DocumentSnapshot(path, text, version=7), target, workspace="/ws")


def make_swarm(replies, tmp_path, candidates=3, tiers=("llamacpp:scripted",)):
    backends = {name: ScriptedBackend(name, replies) for name in tiers}
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    swarm = Swarm(SwarmSettings(tiers=tiers, candidates=candidates, temperature=0.2, seed=5), backends.__getitem__, ledger)
    return swarm, backends, ledger


async def test_first_good_candidate_is_accepted_with_a_versioned_edit(tmp_path):
    swarm, backends, ledger = make_swarm([GOOD], tmp_path)
    result = await swarm.run(request())
    assert result.status == "accepted"
    assert result.tier == "llamacpp:scripted"
    assert result.target == "pkg/scale.py::scale"
    [edit] = result.edits
    assert edit.version == 7 and edit.path == "pkg/scale.py"
    assert edit.diff.startswith("--- a/pkg/scale.py\n+++ b/pkg/scale.py\n")
    assert '+    """Multiply every value by a factor.' in edit.diff
    assert "ValueError" in edit.new_text
    [attempt] = result.attempts
    assert attempt.passed and all(g.passed for g in attempt.gates)
    assert {g.name for g in attempt.gates} >= {"parses", "code_unchanged", "params_documented"}
    assert result.usage.local_tokens > 0 and result.usage.cloud_tokens == 0
    assert result.usage.by_model["llamacpp:scripted"].calls == 1
    assert result.evidence["facts"] == {
        "params": ["values", "factor"], "returns_value": True, "raises": ["ValueError"], "had_doc": False,
    }
    assert len(ledger.recent_calls(10)) == 1


async def test_failed_gates_feed_back_into_the_next_candidate(tmp_path):
    swarm, backends, _ = make_swarm([MISSING_PARAM, GOOD], tmp_path)
    result = await swarm.run(request())
    assert result.status == "accepted"
    first, second = result.attempts
    assert not first.passed and second.passed
    failed = [g for g in first.gates if not g.passed]
    assert [g.name for g in failed] == ["content", "params_documented"]
    second_prompt = backends["llamacpp:scripted"].calls[1]["messages"][-1]["content"]
    assert "rejected by the checks" in second_prompt
    reasons = [reason for gate in failed for reason in gate.reasons]
    assert any("factor" in reason for reason in reasons)
    assert all(reason in second_prompt for reason in reasons)


async def test_candidates_differ_in_temperature_and_seed(tmp_path):
    swarm, backends, _ = make_swarm([MISSING_PARAM, MISSING_PARAM, GOOD], tmp_path)
    await swarm.run(request())
    calls = backends["llamacpp:scripted"].calls
    assert [c["seed"] for c in calls] == [5, 6, 7]
    assert calls[0]["temperature"] < calls[1]["temperature"] < calls[2]["temperature"]


async def test_rejected_when_no_candidate_passes(tmp_path):
    swarm, _, ledger = make_swarm([MISSING_PARAM] * 3, tmp_path)
    result = await swarm.run(request())
    assert result.status == "rejected" and result.tier is None and result.edits == []
    assert len(result.attempts) == 3
    assert "params_documented" in result.message
    assert ledger.totals()["actions_by_status"]["rejected"] == 1


async def test_tiers_are_tried_in_order(tmp_path):
    tiers = ("llamacpp:small", "llamacpp:large")
    backends = {"llamacpp:small": ScriptedBackend("llamacpp:small", ["not json"] * 2),
                "llamacpp:large": ScriptedBackend("llamacpp:large", [GOOD])}
    swarm = Swarm(SwarmSettings(tiers=tiers, candidates=2), backends.__getitem__)
    result = await swarm.run(request())
    assert result.status == "accepted" and result.tier == "llamacpp:large"
    assert [a.tier for a in result.attempts] == ["llamacpp:small", "llamacpp:small", "llamacpp:large"]
    assert result.attempts[0].gates[0].name == "json" and not result.attempts[0].gates[0].passed


async def test_backend_errors_make_the_action_failed(tmp_path):
    swarm, _, ledger = make_swarm([BackendError("model file missing")] * 3, tmp_path)
    result = await swarm.run(request())
    assert result.status == "failed"
    assert "model file missing" in result.message
    assert all(a.error for a in result.attempts)
    assert [row.outcome for row in ledger.recent_calls(10)] == ["error"] * 3


async def test_cancelled_before_any_call(tmp_path):
    swarm, backends, _ = make_swarm([GOOD], tmp_path)
    token = CancelToken()
    token.cancel("user pressed cancel")
    result = await swarm.run(request(), cancel=token)
    assert result.status == "cancelled"
    assert backends["llamacpp:scripted"].calls == []


async def test_cancel_during_a_candidate_stops_the_run(tmp_path):
    token = CancelToken()

    def reply(_messages):
        token.cancel()
        return MISSING_PARAM

    swarm, backends, _ = make_swarm(reply, tmp_path)
    result = await swarm.run(request(), cancel=token)
    assert result.status == "cancelled"
    assert len(backends["llamacpp:scripted"].calls) == 1


async def test_unknown_symbol_is_an_input_error_before_any_model_call(tmp_path):
    swarm, backends, _ = make_swarm([GOOD], tmp_path)
    with pytest.raises(ActionInputError, match="scal"):
        await swarm.run(request(target="scal_e"))
    assert backends["llamacpp:scripted"].calls == []


async def test_line_target_and_events(tmp_path):
    swarm, _, _ = make_swarm([GOOD], tmp_path)
    events = []
    result = await swarm.run(request(target="3"), events=events.append)
    assert result.status == "accepted"
    stages = [e.stage for e in events]
    assert stages[0] == "analyse" and stages[-1] == "done"
    assert stages.index("write") < stages.index("gates")


async def test_a_failing_event_sink_does_not_break_the_job(tmp_path):
    swarm, _, _ = make_swarm([GOOD], tmp_path)

    def broken(_event):
        raise RuntimeError("display gone")

    assert (await swarm.run(request(), events=broken)).status == "accepted"


async def test_result_serialises_to_the_documented_json_shape(tmp_path):
    swarm, _, _ = make_swarm([GOOD], tmp_path)
    data = (await swarm.run(request())).to_dict()
    assert set(data) >= {"action", "target", "status", "tier", "attempts", "edits", "evidence", "usage", "elapsed_s"}
    assert set(data["usage"]) == {"local_tokens", "cloud_tokens", "by_model"}
    assert data["attempts"][0]["gates"][0].keys() == {"name", "passed", "reasons"}
