"""The document action: a docstring (Python) or doc comment (JS/TS/Go/Rust) for one symbol.

Writers return a `DocContent` as JSON; this module renders it in the project's style, applies it
with a codemod (libcst for Python, a byte-exact insertion at the tree-sitter range otherwise) and
runs the language's gates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.actions.base import Action, ActionInputError, ActionJob, Evaluation, document_symbols, target_symbol
from swarm_lsp.swarm.actions.doc_prompt import (
    FIELD_MAX,
    REVIEW_FOCUSES,
    SUMMARY_MAX,
    doc_messages,
    doc_review_material,
    doc_schema,
)
from swarm_lsp.swarm.analysis.languages import LANGUAGES
from swarm_lsp.swarm.backends.base import Message, Reply
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.codemods import doc_comment, py_docstring
from swarm_lsp.swarm.codemods.content import DocContent, DocFacts
from swarm_lsp.swarm.docstyle import detect_style, render_docstring
from swarm_lsp.swarm.gates.doc_claims import doc_claims_gate
from swarm_lsp.swarm.gates.doc_content import content_gate
from swarm_lsp.swarm.gates.python_doc import python_doc_gates
from swarm_lsp.swarm.settings import DOC_STYLES
from swarm_lsp.swarm.types import ActionRequest, GateResult, Symbol

log = logging.getLogger(__name__)

STYLE_SAMPLE_FILES = 20  # sibling .py files read to detect the project's docstring style
MAX_SOURCE_CHARS = 6000  # the symbol's source shown to the writer is cut beyond this


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
        else:
            facts = doc_comment.doc_facts_for(document.text, symbol, tsx=tsx)
            style = {"javascript": "jsdoc", "typescript": "jsdoc", "go": "godoc", "rust": "rustdoc"}[language]
        return DocumentJob(document.text, symbol, facts, style, tsx)


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
    review_focuses: list[str] = field(default_factory=lambda: list(REVIEW_FOCUSES))

    def __post_init__(self) -> None:
        self.target_label = self.symbol.qualname
        self.line = self.symbol.name_span.start_line + 1  # picks among same-named redefinitions
        self.schema = doc_schema(self.facts)
        source = self.text.encode("utf-8")[self.symbol.span.start_byte : self.symbol.span.end_byte]
        self.source = source.decode("utf-8", errors="replace")[:MAX_SOURCE_CHARS]
        if self.facts.language == "python":
            self.body_indent = py_docstring.body_indent(self.text, self.symbol.qualname, line=self.line)

    def messages(self, feedback: list[str]) -> list[Message]:
        return doc_messages(self.facts, self.source, feedback)

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
            evaluation = self._evaluate_python(content)
        else:
            evaluation = self._evaluate_comment(content)
        evaluation.gates.insert(0, checked)
        return evaluation

    def _evaluate_python(self, content: DocContent) -> Evaluation:
        literal = render_docstring(content, self.facts, self.style, self.body_indent)
        new_text = py_docstring.apply_docstring(self.text, self.symbol.qualname, literal, line=self.line)
        gates = python_doc_gates(self.text, new_text, self.symbol.qualname, self.facts, self.style)
        gates.append(doc_claims_gate(self.text, self.symbol.qualname, content))
        return Evaluation(gates, new_text=new_text, output=literal)

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
        }
        if accepted is not None:
            evidence["documentation"] = accepted.output
            evidence["gates"] = [g.name for g in accepted.gates]
        return evidence
