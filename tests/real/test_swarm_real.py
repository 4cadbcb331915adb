"""The swarm engine on the real embedded models: escalation from the 0.5B tier to the 1.5B tier,
and cancellation of a running job."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest

from swarm_lsp.server.config import load_config
from swarm_lsp.server.session import build_swarm
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


async def test_cancelling_a_running_job_stops_it_within_about_a_second(workspace):
    config = load_config(workspace, overrides={"tiers": [SMALL], "max_tokens": 2000})
    swarm = build_swarm(config, workspace=workspace)
    token = CancelToken()
    cancelled_at: list[float] = []

    def cancel_soon(event):
        if event.stage == "write" and not cancelled_at:
            def fire():
                cancelled_at.append(time.perf_counter())
                token.cancel("test")
            threading.Timer(1.0, fire).start()

    result = await swarm.run(request(workspace, "slugify"), events=cancel_soon, cancel=token)
    stopped_after = time.perf_counter() - cancelled_at[0]
    assert result.status == "cancelled" and result.edits == []
    assert stopped_after < 1.5, stopped_after
    [call] = swarm.ledger.recent_calls(1)
    assert call.outcome == "cancelled"
    assert call.completion_tokens > 0 and result.usage.local_tokens > 0  # what it generated still counts
