"""Tiers, escalation modes, reviewer votes and cloud budgets in the engine, with scripted backends
(zero latency; the real models are exercised in tests/real)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.agents.claim_review import CLAIM_SYSTEM
from swarm_lsp.swarm.agents.reviewers import REVIEW_SYSTEM
from swarm_lsp.swarm.backends.base import BackendError
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import CallRecord, Ledger
from swarm_lsp.swarm.tiers import CloudBudget, TierSpec, default_tiers, estimate_tokens, parse_tier, plan_tiers
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

SOURCE = "def area(width, height):\n    return width * height\n"
GOOD = {"summary": "Compute the area of a rectangle.",
        "params": {"width": "The width of the rectangle.", "height": "The height of the rectangle."},
        "returns": "The area, width times height."}
BAD = {"summary": "Compute the area of a rectangle.", "params": {"width": "The width of the rectangle."},
       "returns": "The area."}
REVIEWER_SYSTEMS = (REVIEW_SYSTEM, CLAIM_SYSTEM)
SMALL, LARGE, CLOUD = "llamacpp:small", "llamacpp:large", "anthropic:cloud"


def request():
    return ActionRequest("document", DocumentSnapshot("geo.py", SOURCE, 1), "area", workspace="/ws")


def reviewer(vote, reason="the summary is wrong"):
    """A verdict in the reviewer schema: a yes/no answer to the reviewer's question."""
    return {"observed": "It multiplies width by height.", "claimed": "Compute the area of a rectangle.",
            "answer": "yes" if vote == "approve" else "no", "reason": reason, "confidence": 0.8}


def claim_vote(answer):
    """A claim reviewer's plain answer (scripted backends have no token probabilities)."""
    return {"answer": answer}


class Backends(dict):
    """name -> ScriptedBackend; writers answer writer prompts, and the same backend answers the
    reviewer prompts (told apart by the reviewer system prompt) with `votes`."""

    def add(self, name, writes=(), votes=()):
        writes, votes = iter(list(writes)), iter(list(votes))

        def answer(messages):
            return next(votes) if messages[0]["content"] in REVIEWER_SYSTEMS else next(writes)

        self[name] = ScriptedBackend(name, answer)
        return self[name]

    def calls(self, name, reviews=False):
        return [c for c in self[name].calls if (c["messages"][0]["content"] in REVIEWER_SYSTEMS) == reviews]


def swarm(backends, tmp_path=None, **settings):
    ledger = Ledger(tmp_path / "ledger.sqlite3") if tmp_path else None
    settings.setdefault("candidates", 1)
    return Swarm(SwarmSettings(**settings), backends.__getitem__, ledger)


def test_plan_tiers_per_escalation_mode():
    tiers = (SMALL, LARGE, CLOUD)
    assert plan_tiers(tiers, "on-failure") == [SMALL, LARGE, CLOUD]
    assert plan_tiers(tiers, "never") == [SMALL]
    assert plan_tiers(tiers, "cloud-only") == [CLOUD]
    with pytest.raises(ValueError, match="no cloud tier"):
        plan_tiers((SMALL,), "cloud-only")
    assert default_tiers({}) == ("llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b")
    assert default_tiers({"ANTHROPIC_API_KEY": "x"})[-1].startswith("anthropic:")


async def test_on_failure_escalates_tier_by_tier_with_feedback():
    backends = Backends()
    backends.add(SMALL, writes=[BAD, BAD])
    backends.add(LARGE, writes=[BAD, BackendError("large model crashed")])
    backends.add(CLOUD, writes=[GOOD])
    result = await swarm(backends, tiers=(SMALL, LARGE, CLOUD), candidates=2).run(request())
    assert result.status == "accepted" and result.tier == CLOUD
    assert [a.tier for a in result.attempts] == [SMALL, SMALL, LARGE, LARGE, CLOUD]
    assert result.attempts[3].error == "large model crashed" and result.attempts[3].gates == []
    assert "height" in backends.calls(CLOUD)[0]["messages"][-1]["content"]  # feedback crossed tiers
    assert result.usage.cloud_tokens > 0 and result.usage.by_model[CLOUD].cloud


async def test_never_stays_on_the_first_tier_and_cloud_only_skips_local():
    backends = Backends()
    backends.add(SMALL, writes=[BAD])
    backends.add(CLOUD, writes=[GOOD])
    result = await swarm(backends, tiers=(SMALL, CLOUD), escalation="never").run(request())
    assert result.status == "rejected" and [a.tier for a in result.attempts] == [SMALL]
    result = await swarm(backends, tiers=(SMALL, CLOUD), escalation="cloud-only").run(request())
    assert result.status == "accepted" and [a.tier for a in result.attempts] == [CLOUD]
    with pytest.raises(ActionInputError, match="no cloud tier"):
        await swarm(backends, tiers=(SMALL,), escalation="cloud-only").run(request())


async def test_reviewer_votes_on_each_claim_are_recorded_and_a_false_one_sends_it_back(tmp_path):
    backends = Backends()
    # candidate 1: the summary claim is rejected (2 of the 3 polled say no); candidate 2: every
    # claim (summary, width, height, returns) approved by the first 3 of 4 reviewers
    backends.add(SMALL, writes=[GOOD, GOOD], votes=[claim_vote("no"), claim_vote("yes"), claim_vote("no")]
                 + [claim_vote("yes")] * 12)
    result = await swarm(backends, tmp_path, tiers=(SMALL,), candidates=2, reviewers=4).run(request())
    first, second = result.attempts
    assert not first.passed and [g.name for g in first.gates if not g.passed] == ["claims_voted"]
    retry = backends.calls(SMALL)[1]["messages"][-1]["content"]
    assert "the reviewers judged this statement false: 'Compute the area of a rectangle.'" in retry
    assert result.status == "accepted" and second.passed
    claims = result.evidence["claims"]
    assert [c["how"] for c in claims] == ["voted"] * 4
    assert all([v["vote"] for v in c["votes"]] == ["approve"] * 3 for c in claims)
    assert claims[0]["votes"][0]["reviewer"].startswith("r1:llamacpp:small@")
    assert result.usage.by_model[SMALL].calls == 2 + 3 + 12
    assert len(swarm_ledger_rows(tmp_path)) == 17


def swarm_ledger_rows(tmp_path):
    return Ledger(tmp_path / "ledger.sqlite3").recent_calls(100)


async def test_a_gate_failure_is_final_whatever_the_votes():
    backends = Backends()
    backends.add(SMALL, writes=[BAD, BAD], votes=[reviewer("approve")] * 8)
    result = await swarm(backends, tiers=(SMALL,), candidates=2, reviewers=4).run(request())
    assert result.status == "rejected"
    assert backends.calls(SMALL, reviews=True) == []  # reviewers are never asked about a failed candidate
    assert all(a.votes == [] and a.quorum is None for a in result.attempts)


async def test_byzantine_approvers_cannot_outvote_honest_reviewers():
    backends = Backends()
    honest = [f"llamacpp:honest{i}" for i in range(3)]
    backends.add(SMALL, writes=[GOOD])
    for name in honest:
        backends.add(name, votes=[claim_vote("no")])
    backends.add("llamacpp:liar", votes=[claim_vote("yes")])
    result = await swarm(backends, tiers=(SMALL,), reviewers=4,
                         reviewer_tiers=("llamacpp:liar", *honest)).run(request())
    assert result.status == "rejected" and "claims_voted" in result.message
    assert [len(backends.calls(name, reviews=True)) for name in ("llamacpp:liar", *honest)] == [1, 1, 1, 0]


async def test_reviewer_errors_abstain_and_an_unusable_verdict_is_no_approval():
    backends = Backends()
    backends.add(SMALL, writes=[GOOD], votes=["not json", {"answer": "maybe"}, claim_vote("yes")])
    result = await swarm(backends, tiers=(SMALL,), reviewers=3).run(request())
    assert result.status == "rejected"  # n=3 needs all three: the first abstention decides
    assert len(backends.calls(SMALL, reviews=True)) == 1


async def test_cloud_budget_per_action_prevents_the_call():
    backends = Backends()
    backends.add(SMALL, writes=[BAD])
    cloud = backends.add(CLOUD, writes=[GOOD])
    result = await swarm(backends, tiers=(SMALL, CLOUD), cloud_budget_action=100).run(request())
    assert cloud.calls == []
    assert result.status == "rejected" and "cloud budget per action" in result.message
    assert result.attempts[-1].tier == CLOUD and "cloud_budget_action" in result.attempts[-1].error
    assert result.usage.cloud_tokens == 0


async def test_cloud_budget_per_day_counts_todays_ledger(tmp_path):
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    ledger.record_call(CallRecord(workspace="/ws", action_id="x", action="document", tier=CLOUD, backend=CLOUD,
                                  model=CLOUD, cloud=True, prompt_tokens=900, completion_tokens=50, latency_s=1.0,
                                  outcome="ok", time=datetime.now(timezone.utc)))
    backends = Backends()
    cloud = backends.add(CLOUD, writes=[GOOD])
    result = await swarm(backends, tmp_path, tiers=(CLOUD,), cloud_budget_day=1000).run(request())
    assert cloud.calls == [] and "cloud budget per day" in result.message and "950" in result.message


def test_budget_arithmetic():
    budget = CloudBudget(per_action=1000, per_day=5000, spent_today=lambda: 4500)
    assert budget.refusal(0, 400) is None
    assert "per day" in budget.refusal(0, 600)
    assert "per action" in budget.refusal(700, 400)
    assert estimate_tokens([{"role": "user", "content": "x" * 350}], 100) == 201


def test_tier_specs_carry_per_tier_overrides():
    spec = parse_tier("anthropic:claude-sonnet-4-6?candidates=1&max_tokens=256&temperature=0")
    assert (spec.name, spec.candidates, spec.max_tokens, spec.temperature) == ("anthropic:claude-sonnet-4-6", 1, 256, 0.0)
    assert parse_tier("ollama:qwen2.5-coder:7b") == TierSpec("ollama:qwen2.5-coder:7b")
    with pytest.raises(ValueError, match="expected one of candidates, max_tokens, temperature"):
        parse_tier("llamacpp:small?attempts=2")
    with pytest.raises(ValueError, match="from 1 to 16"):
        parse_tier("llamacpp:small?candidates=0")


async def test_per_tier_candidates_and_max_tokens_apply_to_that_tier_only():
    backends = Backends()
    backends.add(SMALL, writes=[BAD] * 3)
    backends.add(CLOUD, writes=[BAD, GOOD])
    result = await swarm(backends, tiers=(f"{SMALL}?max_tokens=64", f"{CLOUD}?candidates=1"),
                         candidates=3, max_tokens=400).run(request())
    assert [a.tier for a in result.attempts] == [SMALL, SMALL, SMALL, CLOUD]
    assert {c["max_tokens"] for c in backends[SMALL].calls} == {64}
    assert backends[CLOUD].calls[0]["max_tokens"] == 400
    assert result.status == "rejected"  # the cloud tier had one attempt only
