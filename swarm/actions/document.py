"""The document action: a docstring (Python) or doc comment (JS/TS/Go/Rust) for one symbol.

Writers return a `DocContent` as JSON; this module renders it in the project's style, applies it
with a codemod (libcst for Python, a byte-exact insertion at the tree-sitter range otherwise) and
runs the language's gates.
"""

from __future__ import annotations

import ast
import inspect
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.actions.base import (
    Action, ActionInputError, ActionJob, Evaluation, Probe, document_symbols, target_symbol,
)
from swarm_lsp.swarm.actions.doc_claim_review import ClaimReview
from swarm_lsp.swarm.actions.doc_examples_check import GATE_NAME as EXAMPLES_GATE
from swarm_lsp.swarm.actions.doc_examples_check import (
    CallTarget, ExampleCheck, check_examples, confirm_doctest, observe_calls,
)
from swarm_lsp.swarm.actions.doc_prompt import (
    FIELD_MAX, PROBE_MAX_TOKENS, SUMMARY_MAX, doc_messages, doc_review_material, doc_schema, fence, probe_messages,
    probe_schema,
)
from swarm_lsp.swarm.actions.tests_target import module_name
from swarm_lsp.swarm.agents.claim_review import CLAIM_QUESTIONS, DEFAULT_REVIEWERS
from swarm_lsp.swarm.analysis.languages import LANGUAGES
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods import doc_comment, py_docstring
from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.docstyle import detect_style, render_docstring
from swarm_lsp.swarm.gates.doc_claims import doc_claims_gate
from swarm_lsp.swarm.gates.doc_content import content_gate
from swarm_lsp.swarm.gates.doc_return_type import restates_annotation, return_annotation, returns_match_results
from swarm_lsp.swarm.gates.python_doc import python_doc_gates
from swarm_lsp.swarm.settings import DOC_STYLES
from swarm_lsp.swarm.types import ActionRequest, GateResult, Symbol
from swarm_lsp.swarm.verify.doc_examples import CallOutcome, ExampleRunner, ExampleSandboxError

log = logging.getLogger(__name__)

STYLE_SAMPLE_FILES = 20  # sibling .py files read to detect the project's docstring style
MAX_SOURCE_CHARS = 6000  # the symbol's source shown to the writer is cut beyond this
MAX_PROBES = 2  # tiers that may propose calls to run before writing, until some ran


class DocumentAction(Action):
    kind = "document"
    languages = LANGUAGES

    def prepare(self, request: ActionRequest) -> "DocumentJob":
        document = request.document
        tsx = document.path.endswith(".tsx")
        language, symbols = document_symbols(document)
        symbol = target_symbol(document, symbols, request.target)
        if language == "python":
            try:
                facts = py_docstring.python_doc_facts(
                    document.text, symbol.qualname, line=symbol.name_span.start_line + 1
                )
            except (ValueError, LookupError) as exc:  # the file does not parse, or libcst disagrees
                raise ActionInputError(f"{document.path}: {exc}") from exc
            style = _python_style(document.file(request.workspace), document.text, request.options.doc_style)
            runner, no_examples = _example_runner(request, facts, symbol)
        else:
            facts = doc_comment.doc_facts_for(document.text, symbol, tsx=tsx)
            style = {"javascript": "jsdoc", "typescript": "jsdoc", "go": "godoc", "rust": "rustdoc"}[language]
            runner, no_examples = None, f"examples are run for Python only, not {language}"
        reviewers = DEFAULT_REVIEWERS if request.options.doc_reviewers == "auto" else (0, ())
        return DocumentJob(document.text, symbol, facts, style, tsx, runner=runner, no_examples=no_examples,
                           default_reviewers=reviewers, observe_first=request.options.doc_examples == "observed")


def _example_runner(request: ActionRequest, facts: DocFacts, symbol: Symbol) -> tuple[ExampleRunner | None, str]:
    """A sandbox runner for the examples, or None and why they are not run."""
    if request.options.doc_examples == "off":
        return None, "doc_examples is off"
    if facts.kind == "class":
        return None, "a class is documented without examples (its methods carry them)"
    if re.match(r"\s*(@.*\n\s*)*async\s+def\b", request.document.text.encode("utf-8")[
            symbol.span.start_byte:symbol.span.end_byte].decode("utf-8", errors="replace")):
        return None, "a coroutine's examples would need an event loop"
    workspace = Path(os.path.realpath(request.workspace))
    if not workspace.is_dir():
        return None, f"the workspace {request.workspace} is not a folder on disk"
    source = Path(request.document.path)
    source = Path(os.path.realpath(source if source.is_absolute() else workspace / source))
    try:
        relative = source.relative_to(workspace)
        module, roots = module_name(relative)
    except (ValueError, ActionInputError):
        return None, f"{request.document.path} cannot be imported as a module of the workspace"
    return ExampleRunner(workspace, relative.as_posix(), request.document.text, module, roots), ""


def _python_style(path: Path, text: str, configured: str) -> str:
    if configured != "auto":
        if configured not in DOC_STYLES:
            raise ActionInputError(f"doc_style {configured!r}: expected one of {', '.join(DOC_STYLES)}")
        return configured
    texts = [text]
    folder = path.resolve().parent
    for sibling in sorted(folder.glob("*.py"))[:STYLE_SAMPLE_FILES]:
        if sibling.name != Path(path).name:
            try:
                texts.append(sibling.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError):
                continue
    return detect_style(texts)


@dataclass
class DocumentJob(ActionJob):
    text: str
    symbol: Symbol
    facts: DocFacts
    style: str
    tsx: bool = False
    stop: list[str] = field(default_factory=list)
    max_tokens: int = 0  # 0: the engine's configured max_tokens
    review_focuses: list[str] = field(default_factory=lambda: list(CLAIM_QUESTIONS))
    runner: ExampleRunner | None = None  # runs the examples in a sandbox; None: prose only
    no_examples: str = ""  # why there is no runner
    review_whole: bool = False  # reviewers vote on each atomic claim (`questions`)
    question_style: str = "claim"
    default_reviewers: tuple[int, tuple[str, ...]] = (0, ())
    observe_first: bool = False  # doc_examples = "observed": calls run and shown to the writer first

    def __post_init__(self) -> None:
        self.target_label = self.symbol.qualname
        self.line = self.symbol.name_span.start_line + 1  # picks among same-named redefinitions
        self.schema = doc_schema(self.facts, examples=self.runner is not None)
        self.example_calls_run = 0
        self.examples_skipped = self.no_examples
        self.observed: list[str] = []  # what the probe's calls did, shown to the writer and the reviewers
        self.observed_outcomes: list[CallOutcome] = []
        self.probes = 0
        source = self.text.encode("utf-8")[self.symbol.span.start_byte : self.symbol.span.end_byte]
        self.source = source.decode("utf-8", errors="replace")[:MAX_SOURCE_CHARS]
        self.claims = ClaimReview(self.facts, fence(self.source, self.facts.language))
        self.return_annotation = ""
        if self.facts.language == "python":
            self.body_indent = py_docstring.body_indent(self.text, self.symbol.qualname, line=self.line)
            self.return_annotation = return_annotation(self.text, self.symbol.qualname)

    @property
    def examples_on(self) -> bool:
        return self.runner is not None and not self.examples_skipped

    def messages(self, feedback: list[str]) -> list[Message]:
        return doc_messages(self.facts, self.source, feedback, examples=self.examples_on, observed=self.observed)

    def probe(self) -> Probe | None:
        """Calls to run before the first candidate is written, once per local tier until some ran."""
        if not (self.observe_first and self.examples_on) or self.observed or self.probes >= MAX_PROBES:
            return None
        self.probes += 1
        return Probe(probe_messages(self.facts, self.source), probe_schema(self.facts), PROBE_MAX_TOKENS)

    def observe(self, reply: Reply, cancel: CancelToken) -> None:
        calls = reply.parsed.get("calls") if isinstance(reply.parsed, dict) else None
        if not isinstance(calls, list) or self.runner is None:
            return
        target = CallTarget(self.facts.name, method=self.facts.kind == "method")
        try:
            observation = observe_calls(self.runner, [c for c in calls if isinstance(c, str)], target,
                                        self.facts.raises, cancel)
        except ExampleSandboxError as exc:
            self._stop_examples(str(exc))
            return
        self.example_calls_run += observation.ran
        if observation.skipped:
            self._stop_examples(observation.skipped)
        self.observed, self.observed_outcomes = observation.lines, observation.outcomes
        self.claims.observed = observation.lines

    def review_material(self, evaluation: Evaluation) -> str:
        return doc_review_material(self.facts, self.source, evaluation.output, [g.name for g in evaluation.gates])

    def evaluate(self, reply: Reply, cancel: CancelToken | None = None) -> Evaluation:
        if not isinstance(reply.parsed, dict):
            reason = "the answer was not a complete JSON object"
            if reply.finish_reason == "length":
                reason += " (it was cut off at the token limit: write shorter descriptions)"
            return Evaluation([GateResult("json", False, [reason])], output=reply.text)
        content = DocContent.from_json(reply.parsed)
        checked = content_gate(content, self.facts, summary_max=SUMMARY_MAX, field_max=FIELD_MAX)
        if self.facts.language == "python":
            evaluation = self._evaluate_python(content, checked.passed, cancel)
        else:
            evaluation = self._evaluate_comment(content)
            self.claims.ask_about(evaluation, content, {})
        evaluation.gates.insert(0, checked)
        return evaluation

    def _evaluate_python(self, content: DocContent, content_passed: bool, cancel: CancelToken | None) -> Evaluation:
        claims_gate = doc_claims_gate(self.text, self.symbol.qualname, content)
        check = ExampleCheck(GateResult(EXAMPLES_GATE, True))
        if self.examples_on and content_passed and claims_gate.passed:  # the sandbox only for what may pass
            check = self._run_examples(content, cancel)
            content.examples = check.examples
        literal = render_docstring(content, self.facts, self.style, self.body_indent)
        if content.examples and self.runner is not None:
            docstring = inspect.cleandoc(ast.literal_eval(literal))
            kept, notes = confirm_doctest(self.runner, docstring, content.examples, cancel)
            check.notes += notes
            if kept != content.examples:
                content.examples = kept
                literal = render_docstring(content, self.facts, self.style, self.body_indent)
        new_text = py_docstring.apply_docstring(self.text, self.symbol.qualname, literal, line=self.line)
        gates = python_doc_gates(self.text, new_text, self.symbol.qualname, self.facts, self.style)
        gates.append(claims_gate)
        if self.examples_on:
            gates += [check.gate, returns_match_results(content.returns if self.facts.returns_value else "",
                                                        self.observed_outcomes + check.outcomes)]
        evaluation = Evaluation(gates, new_text=new_text, output=literal, notes=check.notes)
        restated = restates_annotation(content.returns, self.return_annotation)
        self.claims.ask_about(evaluation, content, check.raised, {"returns": restated} if restated else {})
        return evaluation

    def _run_examples(self, content: DocContent, cancel: CancelToken | None) -> ExampleCheck:
        assert self.runner is not None
        target = CallTarget(self.facts.name, method=self.facts.kind == "method")
        try:
            check = check_examples(self.runner, content, target, cancel)
        except ExampleSandboxError as exc:
            check = ExampleCheck(GateResult(EXAMPLES_GATE, True), skipped=str(exc))
        self.example_calls_run += check.ran
        if check.skipped:
            self._stop_examples(check.skipped)
        return check

    def _stop_examples(self, why: str) -> None:
        """The module cannot run here: prose only from now on, and say why."""
        self.examples_skipped = why
        self.schema = doc_schema(self.facts)

    def rejection_is_final(self, question: str) -> bool:
        return self.claims.is_required(question)

    def settle(self, evaluation: Evaluation, kept: list[str] | None) -> Evaluation:
        return self.claims.settle(evaluation, kept, self._rerender)

    def _rerender(self, content: DocContent) -> Evaluation:
        """The evaluation of `content` after the reviewers removed optional sentences from it."""
        if self.facts.language == "python":
            literal = render_docstring(content, self.facts, self.style, self.body_indent)
            new_text = py_docstring.apply_docstring(self.text, self.symbol.qualname, literal, line=self.line)
            gates = python_doc_gates(self.text, new_text, self.symbol.qualname, self.facts, self.style)
            return Evaluation(gates, new_text=new_text, output=literal)
        return self._evaluate_comment(content)

    def _evaluate_comment(self, content: DocContent) -> Evaluation:
        indent = doc_comment.line_indent(self.text, self.symbol)
        comment = doc_comment.render_doc_comment(self.facts.language, content, self.facts, indent)
        new_text, comment_range = doc_comment.apply_doc_comment(self.text, self.symbol, comment, tsx=self.tsx)
        gates = doc_comment.doc_comment_gates(
            self.text, new_text, self.facts.language, comment_range, self.facts, tsx=self.tsx
        )
        return Evaluation(gates, new_text=new_text, output=comment)

    def evidence(self, accepted: Evaluation | None) -> dict[str, Any]:
        evidence: dict[str, Any] = {
            "language": self.facts.language,
            "symbol_kind": self.symbol.kind,
            "style": self.style,
            "facts": {
                "params": list(self.facts.params),
                "returns_value": self.facts.returns_value,
                "raises": list(self.facts.raises),
                "had_doc": self.facts.existing_doc is not None,
            },
            "examples": {"mode": "verified" if self.runner is not None else "off",
                         "calls_run": self.example_calls_run, "skipped": self.examples_skipped,
                         "observed": self.observed},
        }
        if accepted is not None:
            evidence["documentation"] = accepted.output
            evidence["gates"] = [g.name for g in accepted.gates]
            evidence.update(self.claims.evidence(accepted))
        return evidence

    def close(self) -> None:
        if self.runner is not None:
            self.runner.close()
