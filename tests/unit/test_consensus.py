"""Quorum arithmetic, early stop, abstentions and Byzantine safety of swarm.consensus."""

from __future__ import annotations

import asyncio
import random

import pytest

from swarm_lsp.swarm.consensus import QuorumRule, Verdict, run_quorum


@pytest.mark.parametrize(("n", "tolerated", "needed"), [(1, 0, 1), (3, 0, 3), (4, 1, 3), (5, 1, 4), (7, 2, 5), (10, 3, 7)])
def test_quorum_size(n, tolerated, needed):
    rule = QuorumRule(n)
    assert (rule.tolerated, rule.needed, rule.rejections_to_reject) == (tolerated, needed, tolerated + 1)


def test_decide():
    rule = QuorumRule(7)  # f = 2: accept at 5 approvals, reject at 3 rejections
    assert rule.decide(5, 0, 2) is True
    assert rule.decide(4, 2, 1) is None
    assert rule.decide(2, 3, 2) is False
    assert rule.decide(3, 0, 1) is False  # 3 + 1 outstanding can no longer reach 5
    with pytest.raises(ValueError):
        QuorumRule(0)


def voters(votes: list[str]):
    """Reviewers are indices; each answers with its scripted vote."""
    asked: list[int] = []

    async def ask(i: int) -> Verdict:
        asked.append(i)
        return Verdict(f"r{i}", votes[i], 0.9, [f"reason from r{i}"] if votes[i] == "reject" else [])

    return list(range(len(votes))), ask, asked


async def test_stops_polling_once_enough_approvals_are_in():
    reviewers, ask, asked = voters(["approve"] * 7)
    outcome = await run_quorum(reviewers, ask)
    assert outcome.accepted and outcome.approvals == 5 and asked == [0, 1, 2, 3, 4]
    assert outcome.record() == {"n": 7, "needed": 5, "tolerated_faulty": 2, "polled": 5, "approvals": 5,
                                "rejections": 0, "abstentions": 0, "outcome": "accepted"}


async def test_stops_polling_at_f_plus_one_rejections():
    reviewers, ask, asked = voters(["reject", "approve", "reject", "reject", "approve", "approve", "approve"])
    outcome = await run_quorum(reviewers, ask)
    assert not outcome.accepted and asked == [0, 1, 2, 3]
    assert outcome.rejection_reasons() == ["reason from r0", "reason from r2", "reason from r3"]


async def test_abstentions_never_count_as_approvals():
    reviewers, ask, asked = voters(["approve", "abstain", "abstain", "approve"])
    outcome = await run_quorum(reviewers, ask)  # n=4 needs 3 approvals; only 2 are possible
    assert not outcome.accepted and outcome.abstentions == 2 and outcome.rejections == 0
    assert asked == [0, 1, 2]  # after two abstentions the outcome is already decided


async def test_parallel_polling_cancels_the_outstanding_asks():
    cancelled = []

    async def ask(i: int) -> Verdict:
        if i < 3:
            return Verdict(f"r{i}", "approve")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(i)
            raise
        return Verdict(f"r{i}", "approve")

    # Left running, the fourth ask would finish after its sleep and never be cancelled: the list shows it.
    outcome = await asyncio.wait_for(run_quorum(list(range(4)), ask, parallel=4), timeout=60)
    assert outcome.accepted and cancelled == [3]


async def test_a_cancelled_ask_propagates():
    async def ask(i: int) -> Verdict:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        await run_quorum([0, 1, 2], ask)


@pytest.mark.parametrize("n", [4, 7, 10, 13])
async def test_f_always_approving_reviewers_cannot_pass_what_the_honest_reject(n):
    f = QuorumRule(n).tolerated
    for faulty_first in (True, False):
        votes = ["reject"] * (n - f)
        votes = (["approve"] * f + votes) if faulty_first else (votes + ["approve"] * f)
        reviewers, ask, _ = voters(votes)
        assert not (await run_quorum(reviewers, ask)).accepted


@pytest.mark.parametrize("n", [4, 7, 10])
async def test_f_random_reviewers_cannot_pass_what_the_honest_reject(n):
    f = QuorumRule(n).tolerated
    rng = random.Random(n)
    for _ in range(200):
        faulty = set(rng.sample(range(n), f))
        votes = [rng.choice(["approve", "reject", "abstain"]) if i in faulty else "reject" for i in range(n)]
        reviewers, ask, _ = voters(votes)
        assert not (await run_quorum(reviewers, ask)).accepted


@pytest.mark.parametrize("n", [4, 7, 10])
async def test_f_faulty_rejecters_cannot_block_what_the_honest_approve(n):
    f = QuorumRule(n).tolerated
    votes = ["reject"] * f + ["approve"] * (n - f)
    reviewers, ask, _ = voters(votes)
    outcome = await run_quorum(reviewers, ask)
    assert outcome.accepted and outcome.rejections == f
