"""The swarm engine on the real embedded models: escalation from the 0.5B tier to the 1.5B tier,
and cancellation of a running job."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from swarm_lsp.server.config import load_config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.types import ActionRequest

pytestmark = pytest.mark.real

REPO = Path(__file__).resolve().parents[2]
SMALL, LARGE = "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"


@pytest.fixture
def workspace(tmp_path):
    shutil.copy(REPO / "examples" / "textutils.py", tmp_path / "textutils.py")
    return tmp_path


def request(workspace: Path, target: str) -> ActionRequest:
    return ActionRequest("document", read_snapshot(workspace / "textutils.py"), target, workspace=str(workspace))


async def test_a_gate_failure_on_the_small_tier_escalates_to_the_large_tier(workspace):
    # The 0.5B tier gets one attempt with a reply budget far too small for slugify's documentation,
    # so its JSON is cut off and the json gate fails; the 1.5B tier has the normal budget.
    config = load_config(workspace, overrides={"tiers": [f"{SMALL}?candidates=1&max_tokens=40", LARGE]})
    result = await build_swarm(config, workspace=workspace).run(request(workspace, "slugify"))

    small, *rest = result.attempts
    assert small.tier == SMALL and not small.passed
    assert [g.name for g in small.gates if not g.passed] == ["json"]
    assert "cut off at the token limit" in small.gates[0].reasons[0]
    assert rest and all(a.tier == LARGE for a in rest)
    assert result.status == "accepted" and result.tier == LARGE
    assert set(result.usage.by_model) == {SMALL, LARGE}


async def test_cancelling_a_running_job_stops_it_and_asks_no_model_again(workspace):
    # The cancel lands a second into the first candidate: prompt evaluation or generation, whichever
    # this machine is in. How soon the job ends is measured in bench/cancel_latency.py.
    config = load_config(workspace, overrides={"tiers": [SMALL], "max_tokens": 2000, "candidates": 3})
    swarm = build_swarm(config, workspace=workspace)
    token = CancelToken()
    events: list[str] = []

    def cancel_soon(event):
        events.append(event.stage)
        if event.stage == "write" and events.count("write") == 1:
            threading.Timer(1.0, token.cancel, args=("test",)).start()

    result = await swarm.run(request(workspace, "slugify"), events=cancel_soon, cancel=token)
    assert result.status == "cancelled" and result.edits == []
    assert events.count("write") == 1 and "gates" not in events  # no gate, no second candidate
    [call] = swarm.ledger.recent_calls(5)
    assert call.outcome == "cancelled"
    # What the cut-short call read and wrote still counts, in the result and the ledger alike.
    assert result.usage.local_tokens == call.prompt_tokens + call.completion_tokens
    [action] = swarm.ledger.recent_actions(1)
    assert action.status == "cancelled"
