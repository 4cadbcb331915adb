"""Claim reviewers measured on the labelled claims of the documentation corpus (issue 15, step 5).

    .venv/bin/python bench/claim_reviewers.py [--models 0.5b,1.5b] [--write docs/benchmarks.md]

Every distinct claim of tests/fixtures/doc_corpus (labelled true or false against the code) is put
to each embedded model with each question wording, exactly as the document action's reviewers see
it (agents/claim_review.py: the code first, the claim, the question; one token read from the
next-token distribution). The raw P(yes) of every (model, wording, claim) is kept in
bench/results/claim_reviewers.json, so a run resumes where it stopped and the report is recomputed
without the models. Reported per model, wording and half: how well a "no" finds the false claims
(precision and recall of rejection) and how many true claims it rejects, at P(yes) < 0.5 and at a
threshold chosen on the development half only; quorums of the three wordings; time and tokens per
claim. The held-out half never chooses anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

from report import publish
from swarm_lsp.swarm.actions.doc_claim_list import DocClaim
from swarm_lsp.swarm.actions.doc_claim_review import ClaimReview
from swarm_lsp.swarm.actions.doc_prompt import fence
from swarm_lsp.swarm.agents.claim_review import CLAIM_QUESTIONS, OPTIONS, claim_material, claim_messages
from swarm_lsp.swarm.agents.reviewers import build_reviewers
from swarm_lsp.swarm.backends.llamacpp import LlamaCppBackend
from swarm_lsp.swarm.codemods.content import DocFacts
from swarm_lsp.swarm.consensus import QuorumRule

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "fixtures" / "doc_corpus"
RESULTS = ROOT / "bench" / "results" / "claim_reviewers.json"
MODELS = {"0.5b": "qwen2.5-coder-0.5b", "1.5b": "qwen2.5-coder-1.5b"}
HALVES = ("dev", "heldout")
BEGIN, END = "<!-- claim-reviewers-benchmark:begin -->", "<!-- claim-reviewers-benchmark:end -->"


def corpus_claims(docstrings: dict[str, list[tuple[str, bool]]] | None = None) -> list[dict]:
    """Distinct claims per function, as the action words them, with their labels and material;
    `docstrings` (when given) receives docstring id -> [(claim id, required)] in reading order."""
    claims: dict[tuple, dict] = {}
    for half in HALVES:
        for entry in json.loads((CORPUS / f"{half}.json").read_text()):
            name = entry["qualname"].rsplit(".", 1)[-1]
            review = ClaimReview(DocFacts(name, entry["kind"], "python"), fence(entry["source"], "python"))
            for docstring in entry["docstrings"]:
                for claim in docstring["claims"]:
                    section, item, text = claim["section"], (claim["name"] or "").lstrip("*"), claim["text"]
                    if section == "arg":
                        doc_claim = DocClaim(f"param.{item}", "param", f"{item}: {text}")
                    elif section in ("returns", "yields"):
                        doc_claim = DocClaim("returns", "returns", f"Returns {text}")
                    elif section == "raises":
                        doc_claim = DocClaim(f"raises.{item}", "raises", f"Raises {item}: {text}")
                    else:
                        doc_claim = DocClaim("summary.1", "summary", text)
                    key = (entry["id"], doc_claim.key, doc_claim.text)
                    if docstrings is not None:
                        first = not any(c["section"] == "summary" for c in docstring["claims"][:docstring["claims"].index(claim)])
                        docstrings.setdefault(docstring["id"], []).append(("|".join(key), section != "summary" or first))
                    claims[key] = {"id": "|".join(key), "half": half, "label": bool(claim["label"]),
                                   "material": claim_material(review.code_block, review.subject(doc_claim),
                                                              doc_claim.text)}
    return list(claims.values())


async def measure(models: list[str], claims: list[dict], results: dict) -> None:
    total = len(models) * len(CLAIM_QUESTIONS) * len(claims)
    done = 0
    for model in models:
        backend = LlamaCppBackend(MODELS[model])
        for wording, question in enumerate(CLAIM_QUESTIONS):
            for claim in claims:  # in corpus order: one function's claims share the cached code prefix
                done += 1
                key = f"{model}|{wording}|{claim['id']}"
                if key in results:
                    continue
                started = time.perf_counter()
                judgement = await backend.judge(claim_messages(claim["material"], question), OPTIONS)
                total_p = sum(judgement.probabilities.values()) or 1.0
                results[key] = {"p_yes": judgement.probabilities["yes"] / total_p, "mass": judgement.mass,
                                "seconds": time.perf_counter() - started,
                                "prompt_tokens": judgement.reply.usage.prompt}
                if done % 25 == 0:
                    RESULTS.write_text(json.dumps(results))
                    print(f"{done}/{total} judged", file=sys.stderr, flush=True)
    RESULTS.write_text(json.dumps(results))


def rates(pairs: list[tuple[bool, bool]]) -> dict:
    """pairs of (label true, rejected): rejection precision/recall, true claims rejected."""
    rejected_false = sum(1 for label, rejected in pairs if rejected and not label)
    rejected = sum(1 for _, rejected in pairs if rejected)
    false = sum(1 for label, _ in pairs if not label)
    true = len(pairs) - false
    return {"precision": rejected_false / rejected if rejected else 0.0,
            "recall": rejected_false / false if false else 0.0,
            "true_rejected": (rejected - rejected_false) / true if true else 0.0, "n": len(pairs)}


STRICT_TRUE_REJECTED = 0.05  # "strict": the highest threshold rejecting at most this share of true claims


def best_threshold(points: list[tuple[bool, float]], mode: str = "youden") -> float:
    """The P(yes) threshold chosen on the dev half: the one that best separates false from true
    claims (Youden's J), or ("strict") the highest that rejects at most 5% of the true claims."""
    candidates = sorted({round(p, 3) for _, p in points}) or [0.5]
    if mode == "strict":
        allowed = [t for t in candidates if rates([(label, p < t) for label, p in points])["true_rejected"]
                   <= STRICT_TRUE_REJECTED]
        return max(allowed, default=0.0)
    return max(candidates, key=lambda t: (lambda r: r["recall"] - r["true_rejected"])(
        rates([(label, p < t) for label, p in points])))


def summarise(claims: list[dict], results: dict, models: list[str]) -> list[dict]:
    rows = []
    for model in models:
        per_wording = {}
        for wording in range(len(CLAIM_QUESTIONS)):
            got = {c["id"]: results.get(f"{model}|{wording}|{c['id']}") for c in claims}
            if not all(got.values()):
                continue
            per_wording[wording] = got
            dev = [(c["label"], got[c["id"]]["p_yes"]) for c in claims if c["half"] == "dev"]
            threshold = best_threshold(dev)
            for half in HALVES:
                points = [(c["label"], got[c["id"]]["p_yes"]) for c in claims if c["half"] == half]
                seconds = [got[c["id"]]["seconds"] for c in claims if c["half"] == half]
                tokens = [got[c["id"]]["prompt_tokens"] for c in claims if c["half"] == half]
                rows.append({"model": model, "reviewers": f"wording {wording + 1}", "half": half,
                             "at_0.5": rates([(label, p < 0.5) for label, p in points]),
                             "threshold": threshold,
                             "at_threshold": rates([(label, p < threshold) for label, p in points]),
                             "s_per_claim": sum(seconds) / len(seconds), "tokens_per_claim": sum(tokens) / len(tokens)})
        if len(per_wording) == len(CLAIM_QUESTIONS):  # quorum of 3 (n=3 needs all three approvals)
            thresholds = {w: best_threshold([(c["label"], per_wording[w][c["id"]]["p_yes"]) for c in claims
                                             if c["half"] == "dev"]) for w in per_wording}
            for half in HALVES:
                half_claims = [c for c in claims if c["half"] == half]
                rows.append({"model": model, "reviewers": "quorum of 3 wordings", "half": half,
                             "at_0.5": rates([(c["label"], any(per_wording[w][c["id"]]["p_yes"] < 0.5
                                                              for w in per_wording)) for c in half_claims]),
                             "threshold": None,
                             "at_threshold": rates([(c["label"], any(per_wording[w][c["id"]]["p_yes"] < thresholds[w]
                                                                     for w in per_wording)) for c in half_claims]),
                             "s_per_claim": sum(per_wording[w][c["id"]]["seconds"] for w in per_wording
                                                for c in half_claims) / len(half_claims),
                             "tokens_per_claim": None})
    return rows


def wording_threshold(claims: list[dict], results: dict, model: str, wording: str, mode: str) -> float:
    """A (model, wording) threshold, chosen on the dev half only."""
    return best_threshold([(c["label"], results[f"{model}|{wording}|{c['id']}"]["p_yes"]) for c in claims
                           if c["half"] == "dev"], mode)


def docstring_level(claims: list[dict], results: dict, models: list[str], docstrings: dict) -> list[dict]:
    """The gates and then a quorum of claim reviewers (as the product builds it: reviewers cycle
    through the models and the wordings) on whole docstrings: a rejected required claim rejects
    the docstring; a rejected later summary sentence is removed (a false one then no longer counts)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import doc_gates_corpus

    gate_rows = {r["id"]: r for r in asyncio.run(doc_gates_corpus.measure())}
    label = {c["id"]: c["label"] for c in claims}
    wordings = [str(w) for w in range(len(CLAIM_QUESTIONS))]
    measured = [(m, w) for m in models for w in wordings if all(f"{m}|{w}|{c['id']}" in results for c in claims)]
    thresholds = {mode: {(m, w): wording_threshold(claims, results, m, w, mode) for m, w in measured}
                  for mode in ("youden", "strict")}
    panels = [(f"{m}, {n} reviewer{'s' if n > 1 else ''}", (m,), n) for m in models for n in (1, 2, 3)] + [
        (f"{'+'.join(models)}, {n} reviewers", tuple(models), n) for n in (2, 3, 4) if len(models) > 1]
    rows = []
    for name, backends, n in panels:
        panel = build_reviewers(n, backends, wordings)
        if any((r.backend, r.focus) not in measured for r in panel):
            continue  # a (model, wording) not measured yet
        rule = QuorumRule(n)
        for mode in ("0.5", "youden", "strict"):
            def rejects(claim_id: str) -> bool:
                approvals = sum(results[f"{r.backend}|{r.focus}|{claim_id}"]["p_yes"]
                                >= (0.5 if mode == "0.5" else thresholds[mode][(r.backend, r.focus)]) for r in panel)
                return approvals < rule.needed
            for half in HALVES:
                counts = {"wrong": 0, "wrong_gates": 0, "wrong_reviewed": 0, "correct": 0, "correct_gates": 0,
                          "correct_reviewed": 0}
                for doc_id, doc_claims in docstrings.items():
                    gates = gate_rows[doc_id]
                    if gates["half"] != half:
                        continue
                    kind = "correct" if gates["label"] == "correct" else "wrong"
                    counts[kind] += 1
                    if not gates["accepted"]:
                        continue
                    counts[f"{kind}_gates"] += 1
                    rejected = [(cid, required) for cid, required in doc_claims if rejects(cid)]
                    if any(required for _, required in rejected):
                        continue
                    removed = {cid for cid, _ in rejected}
                    still_false = any(not label[cid] for cid, _ in doc_claims if cid not in removed)
                    if kind == "correct" or still_false:
                        counts[f"{kind}_reviewed"] += 1
                threshold = "0.5" if mode == "0.5" else mode + ": " + ", ".join(
                    f"{r.backend}/w{int(r.focus) + 1} {thresholds[mode][(r.backend, r.focus)]:.3f}" for r in panel)
                rows.append({"reviewers": name, "threshold": threshold, "half": half, **counts})
    return rows


def docstring_markdown(rows: list[dict]) -> list[str]:
    lines = ["", "Whole docstrings (the gates, then the claim reviewers): wrong docstrings still accepted with a "
             "false claim, and correct ones rejected, out of all in the half.", "",
             "| reviewers | P(yes) threshold | half | wrong accepted: gates → with reviewers | "
             "correct rejected: gates → with reviewers |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['reviewers']} | {r['threshold']} | {r['half']} | "
                     f"{r['wrong_gates']} → {r['wrong_reviewed']} of {r['wrong']} | "
                     f"{r['correct'] - r['correct_gates']} → {r['correct'] - r['correct_reviewed']} of {r['correct']} |")
    return lines


def markdown(rows: list[dict], documents: list[dict] | None = None) -> str:
    def cell(r: dict) -> str:
        return f"{r['precision']:.0%} / {r['recall']:.0%} / {r['true_rejected']:.0%}"

    lines = [BEGIN, f"### Claim reviewers on the labelled claims ({date.today().isoformat()})", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             "`bench/claim_reviewers.py`; raw P(yes) per claim in `bench/results/claim_reviewers.json`. "
             "Each cell: precision of rejection / recall of rejection (false claims caught) / true claims rejected. "
             "The threshold on P(yes) is chosen on the development half only (Youden's J) and applied unchanged "
             "to the held-out half.", "",
             "| model | reviewers | half | claims | P(yes) < 0.5 | threshold | at the threshold | s per claim | prompt tokens |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        threshold = f"{r['threshold']:.3f}" if r["threshold"] is not None else "per wording"
        tokens = f"{r['tokens_per_claim']:.0f}" if r["tokens_per_claim"] else "-"
        lines.append(f"| {r['model']} | {r['reviewers']} | {r['half']} | {r['at_0.5']['n']} | {cell(r['at_0.5'])} | "
                     f"{threshold} | {cell(r['at_threshold'])} | {r['s_per_claim']:.2f} | {tokens} |")
    if documents:
        lines += docstring_markdown(documents)
    return "\n".join(lines + ["", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="0.5b,1.5b", help="comma-separated: 0.5b, 1.5b")
    parser.add_argument("--report-only", action="store_true", help="recompute the tables from the kept results")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's section")
    args = parser.parse_args()
    models = [m.strip() for m in args.models.split(",") if m.strip() in MODELS]
    docstrings: dict[str, list[tuple[str, bool]]] = {}
    claims = corpus_claims(docstrings)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if not args.report_only:
        asyncio.run(measure(models, claims, results))
    rows = summarise(claims, results, models)
    documents = docstring_level(claims, results, models, docstrings)
    publish(rows + documents, rows, markdown(rows, documents), as_json=args.json, write=args.write,
            begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
