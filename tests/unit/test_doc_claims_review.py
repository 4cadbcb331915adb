"""Atomic claims of a documentation candidate and the reviewers' vote on each (issue 15, step 4),
through the engine with the zero-latency scripted backend (no model runs here; the real model's
yes/no judgement is exercised in tests/real/test_claim_judge_real.py)."""

from __future__ import annotations

from swarm_lsp.swarm.actions.doc_claim_list import DocClaim, sentences, split_claims, summary_line
from swarm_lsp.swarm.agents.claim_review import PLAIN_SCHEMA, verdict_from_judgement
from swarm_lsp.swarm.agents.reviewers import Reviewer
from swarm_lsp.swarm.backends.base import Judgement, Reply, TokenUsage
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.settings import ActionOptions
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot
from tests.unit.test_engine import GOOD as ENGINE_GOOD
from tests.unit.test_engine import SOURCE

FACTS = DocFacts("scale", "function", "python", params=("values", "factor"), returns_value=True,
                 raises=("ValueError",))
# The engine tests' scale function, with a second (optional) summary sentence to remove.
GOOD = {**ENGINE_GOOD, "summary": "Multiply every value by a factor. Keeps the order of the values."}
FALSE_RETURN = "The scaled numbers."  # the reviewers below call this claim false


def test_sentences_keep_abbreviations_and_split_real_ends():
    assert sentences("Split the text, e.g. on commas. Then trim it! Done?") == [
        "Split the text, e.g. on commas.", "Then trim it!", "Done?"]
    assert sentences("  ") == []


def test_split_claims_one_per_sentence_parameter_return_raise_and_example():
    content = DocContent.from_json(GOOD)
    content.examples = [("scale([1, 2], 3)", "[3, 6]")]
    claims = split_claims(content, FACTS)
    assert [c.key for c in claims] == ["summary.1", "summary.2", "param.values", "param.factor", "returns",
                                       "raises.ValueError", "example.1"]
    assert [c.optional for c in claims[:2]] == [False, True]  # the first summary sentence is required
    assert claims[2].text == "values: The numbers to scale."
    assert claims[-1].how == "executed" and claims[-1].text == ">>> scale([1, 2], 3)\n[3, 6]"
    assert all(c.how == "unverified" for c in claims[:-1])


def test_split_claims_ignores_parameters_that_do_not_exist():
    content = DocContent.from_json({**GOOD, "params": {**GOOD["params"], "scale_by": "Invented."}})
    assert "param.scale_by" not in [c.key for c in split_claims(content, FACTS)]


def test_summary_line_counts_each_way_of_verifying():
    claims = [DocClaim("a", "example", "x", how="executed"), DocClaim("b", "param", "y", how="voted"),
              DocClaim("c", "param", "z", how="voted"), DocClaim("d", "returns", "w")]
    assert summary_line(claims) == "3 of 4 claims verified (1 executed, 2 voted)"
    assert summary_line([DocClaim("d", "returns", "w")]) == "0 of 1 claim verified"


def _judgement(p_yes: float | None, choice: str = "yes") -> Judgement:
    reply = Reply("yes", TokenUsage(10, 1), "llamacpp:m", 0.0)
    if p_yes is None:
        return Judgement(choice, None, reply)
    return Judgement(choice, max(p_yes, 1 - p_yes), reply, {"yes": p_yes * 0.9, "no": (1 - p_yes) * 0.9}, 0.9)


def test_a_vote_is_the_renormalised_probability_of_yes_against_the_threshold():
    reviewer = Reviewer(0, "llamacpp:m", "question", 0.0)
    approve = verdict_from_judgement(reviewer, _judgement(0.8))
    reject = verdict_from_judgement(reviewer, _judgement(0.3, "no"))
    assert (approve.vote, approve.confidence) == ("approve", 0.8)
    assert (reject.vote, reject.confidence) == ("reject", 0.7)
    plain = verdict_from_judgement(reviewer, _judgement(None, "no"))
    assert (plain.vote, plain.confidence) == ("reject", 1.0)


def _review_backend(false_claims: set[str]):
    """A scripted reviewer answering "no" exactly for claims whose text contains one of `false_claims`."""
    def reply(messages):
        prompt = messages[-1]["content"]
        if "A claim in the documentation" not in prompt:
            raise AssertionError("a writer call went to the reviewer backend")
        claim = prompt.split("> ", 1)[1]
        return {"answer": "no" if any(text in claim for text in false_claims) else "yes"}
    return ScriptedBackend("ollama:reviewer", reply)


async def _run(tmp_path, writer_replies, false_claims, reviewers=3):
    writer = ScriptedBackend("llamacpp:writer", writer_replies)
    reviewer = _review_backend(false_claims)
    backends = {"llamacpp:writer": writer, "ollama:reviewer": reviewer}
    settings = SwarmSettings(tiers=("llamacpp:writer",), candidates=2, reviewers=reviewers,
                             reviewer_tiers=("ollama:reviewer",))
    swarm = Swarm(settings, backends.__getitem__, Ledger(tmp_path / "ledger.sqlite3"))
    request = ActionRequest("document", DocumentSnapshot("pkg/scale.py", SOURCE, version=1), "scale",
                            workspace=str(tmp_path), options=ActionOptions(doc_examples="off"))
    return await swarm.run(request), writer, reviewer


async def test_every_claim_is_voted_on_with_a_plain_yes_no_schema_and_recorded(tmp_path):
    result, _, reviewer = await _run(tmp_path, [GOOD], set())
    assert result.status == "accepted"
    claims = result.evidence["claims"]
    assert [c["how"] for c in claims] == ["voted"] * 6
    assert all(len(c["votes"]) == 3 and {v["vote"] for v in c["votes"]} == {"approve"} for c in claims)
    assert result.evidence["summary"] == "6 of 6 claims verified (6 voted)"
    assert all(call["schema"] == PLAIN_SCHEMA for call in reviewer.calls)
    # the code comes first in every question (the shared prefix), the claim after it
    prompts = [call["messages"][-1]["content"] for call in reviewer.calls]
    assert all(p.startswith("```python\ndef scale(values, factor):") for p in prompts)
    assert result.usage.by_model["ollama:reviewer"].calls == 18


async def test_a_rejected_optional_sentence_is_removed_from_the_docstring(tmp_path):
    result, writer, _ = await _run(tmp_path, [GOOD], {"Keeps the order"})
    assert result.status == "accepted" and len(writer.calls) == 1
    new_text = result.edits[0].new_text
    assert "Multiply every value by a factor." in new_text and "Keeps the order" not in new_text
    [removed] = result.evidence["claims_removed"]
    assert removed["claim"] == "Keeps the order of the values." and removed["how"] == "removed"
    assert {v["vote"] for v in removed["votes"]} == {"reject"}
    assert "Keeps the order" not in result.evidence["documentation"]


async def test_a_rejected_required_claim_goes_back_to_the_writer_quoted(tmp_path):
    fixed = {**GOOD, "returns": "A new list with each value multiplied by factor."}
    result, writer, _ = await _run(tmp_path, [GOOD, fixed], {FALSE_RETURN})
    assert result.status == "accepted" and len(writer.calls) == 2
    first, second = result.attempts
    assert not first.passed and second.passed
    feedback = writer.calls[1]["messages"][-1]["content"]
    assert "the reviewers judged this statement false: 'Returns The scaled numbers.'" in feedback
    assert "A new list with each value multiplied by factor." in result.edits[0].new_text


async def test_without_reviewers_claims_are_reported_unverified(tmp_path):
    result, _, reviewer = await _run(tmp_path, [GOOD], set(), reviewers=0)
    assert result.status == "accepted" and reviewer.calls == []
    assert {c["how"] for c in result.evidence["claims"]} == {"unverified"}
    assert result.evidence["summary"] == "0 of 6 claims verified"


def test_each_model_and_question_has_its_own_threshold(monkeypatch):
    from swarm_lsp.swarm.agents import claim_review

    monkeypatch.setattr(claim_review, "APPROVE_THRESHOLDS", {("llamacpp:m", 1): 0.3})
    second = Reviewer(1, "llamacpp:m", claim_review.CLAIM_QUESTIONS[1], 0.0)
    first = Reviewer(0, "llamacpp:m", claim_review.CLAIM_QUESTIONS[0], 0.0)
    leaning_no = _judgement(0.35, "no")  # P(yes) 0.35: above the second question's 0.3, below the default 0.5
    assert verdict_from_judgement(second, leaning_no).vote == "approve"
    assert verdict_from_judgement(first, leaning_no).vote == "reject"
    assert claim_review.approve_threshold("llamacpp:other", claim_review.CLAIM_QUESTIONS[1]) == 0.5


async def _default_run(tmp_path, tiers, doc_reviewers):
    calls = {name: [] for name in tiers}

    def backend(name):
        def reply(messages):
            calls[name].append(messages)
            return {"answer": "yes"} if "A claim in the documentation" in messages[-1]["content"] else GOOD
        return ScriptedBackend(name, reply)

    backends = {name: backend(name) for name in tiers}
    swarm = Swarm(SwarmSettings(tiers=tiers, candidates=1), backends.__getitem__)
    request = ActionRequest("document", DocumentSnapshot("pkg/scale.py", SOURCE, version=1), "scale",
                            workspace=str(tmp_path), options=ActionOptions(doc_examples="off", doc_reviewers=doc_reviewers))
    return await swarm.run(request), calls


async def test_doc_reviewers_auto_lets_the_measured_reviewer_in_the_plan_vote_on_each_claim(tmp_path):
    assert ActionOptions().doc_reviewers == "off"  # opt-in: see docs/benchmarks.md
    small, large = "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"
    result, calls = await _default_run(tmp_path, (small, large), "auto")
    assert result.status == "accepted" and result.tier == small
    assert len(calls[small]) == 1 and len(calls[large]) == 6  # the writer on the 0.5B; one vote per claim on the 1.5B
    assert {c["how"] for c in result.evidence["claims"]} == {"voted"}
    assert all(c["votes"][0]["reviewer"].startswith(f"r1:{large}@") for c in result.evidence["claims"])

    result, calls = await _default_run(tmp_path, (small,), "auto")  # no measured reviewer in the plan: none asked
    assert len(calls[small]) == 1 and {c["how"] for c in result.evidence["claims"]} == {"unverified"}

    result, calls = await _default_run(tmp_path, (small, large), doc_reviewers="off")
    assert len(calls[large]) == 0 and {c["how"] for c in result.evidence["claims"]} == {"unverified"}
