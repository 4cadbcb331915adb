"""Doc comments for JavaScript / TypeScript (JSDoc), Go (GoDoc) and Rust (rustdoc).

facts (tree-sitter) -> model writes a DocContent -> `render_doc_comment` -> `apply_doc_comment`
-> `doc_comment_gates`. Python docstrings are a separate (libcst) codemod.

Decisions:
- Go and Rust have no formal parameter tags, but every parameter must be covered: the renderer
  lists them (Go `Parameters:` + `  - name: ...`, Rust `# Arguments` + `* `name` - ...`) and the
  `params_documented` gate only asks that each name is mentioned, so prose naming them passes too.
- Rust raises facts are "Err" (returns a `Result`) and "panic" (`panic!` in the body), rendered as
  the `# Errors` / `# Panics` sections of the Rust API guidelines. Go errors are values: no raises.
- Returns are rendered only when the facts say the function returns a value; gates that do not
  apply (no return value, nothing raised) are omitted from the list.
"""

from __future__ import annotations

import re
import textwrap

from ..analysis.bodies import definition_node, raised, returns_value, signature
from ..analysis.doc_comments import (
    DOC_LANGUAGES, doc_block_problems, jsdoc_param_names, line_of, line_start, locate_doc, markdown_headings,
    nodes_in_range, snippet,
)
from ..analysis.languages import new_errors, parse
from ..types import GateResult, Symbol
from .content import DocContent, DocFacts

__all__ = ["apply_doc_comment", "doc_comment_gates", "doc_facts_for", "line_indent", "render_doc_comment"]

_JS = ("javascript", "typescript")


def _check_language(language: str) -> None:
    if language not in DOC_LANGUAGES:
        raise ValueError(f"doc comments are for {', '.join(DOC_LANGUAGES)}; {language} uses docstrings")


def doc_facts_for(text: str, symbol: Symbol, *, tsx: bool = False) -> DocFacts:
    """What analysis knows about `symbol` in `text`: params, return value, raises, doc, signature."""
    _check_language(symbol.language)
    src = text.encode("utf-8")
    root = parse(text, symbol.language, tsx=tsx).root_node
    definition = definition_node(root, symbol)
    return DocFacts(
        name=symbol.name,
        kind=symbol.kind,
        language=symbol.language,
        params=symbol.params,
        returns_value=returns_value(symbol.language, definition),
        raises=raised(symbol.language, definition),
        existing_doc=locate_doc(src, root, symbol).text,
        signature=signature(src, symbol, definition),
    )


def line_indent(text: str, symbol: Symbol) -> str:
    """The indentation of the symbol's first line: what `render_doc_comment` should prefix."""
    src = text.encode("utf-8")
    line = src[line_start(src, symbol.span.start_byte) : symbol.span.start_byte].decode("utf-8", "replace")
    return line[: len(line) - len(line.lstrip(" \t"))]


WIDTH = 100  # target line length, indentation and comment markers included


def render_doc_comment(language: str, content: DocContent, facts: DocFacts, indent: str) -> str:
    """The comment text (each line prefixed by `indent`, ending with a newline) to place directly
    above the definition's first line."""
    _check_language(language)
    if language in _JS:
        opener, prefix, closer = "/**", " * ", " */"
    else:
        opener, prefix, closer = None, ("// " if language == "go" else "/// "), None
    width = max(40, WIDTH - len(indent.expandtabs(4)) - len(prefix))
    blocks = {"go": _godoc_blocks, "rust": _rustdoc_blocks}.get(language, _jsdoc_blocks)(content, facts, width)
    body: list[str] = []
    for block in (b for b in blocks if b):
        body += ([""] if body else []) + block
    lines = [indent + opener] if opener else []
    for line in body:
        if language in _JS:
            line = line.replace("*/", "*\\/")
        lines.append(indent + (prefix + line if line else prefix.rstrip()))
    if closer:
        lines.append(indent + closer)
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        " ".join(text.split()), width, initial_indent=first, subsequent_indent=rest,
        break_long_words=False, break_on_hyphens=False,
    ) or ([first.rstrip()] if first.strip() else [])


def _items(pairs: list[tuple[str, str]], template: str, width: int, first: str, rest: str) -> list[str]:
    """A wrapped list: one `template.format(name, text)` item per pair."""
    return [line for name, text in pairs for line in _wrap(template.format(name, text), width, first, rest)]


def _paragraphs(text: str, width: int) -> list[str]:
    """Blank-line separated paragraphs, wrapped; paragraphs holding lists or code keep their lines."""
    lines: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        raw = paragraph.splitlines()
        structured = any(re.match(r"\s*([-*+]\s|\d+[.)]\s|```|#)|\s{4}", line) for line in raw)
        lines += ([""] if lines else []) + ([line.rstrip() for line in raw] if structured else _wrap(paragraph, width))
    return lines


def _ordered_params(content: DocContent, facts: DocFacts) -> list[tuple[str, str]]:
    """Descriptions in the facts' order; sub-properties (`param0.x`) follow their parameter and
    names that are not parameters are dropped."""
    ordered: list[tuple[str, str]] = []
    for param in facts.params:
        if param in content.params:
            ordered.append((param, content.params[param]))
        ordered += [(k, v) for k, v in content.params.items() if k.startswith(param + ".")]
    return ordered


def _raises_in_order(content: DocContent, facts: DocFacts) -> list[tuple[str, str]]:
    keys = [k for k in facts.raises if k in content.raises] + [k for k in content.raises if k not in facts.raises]
    return [(k, content.raises[k]) for k in keys]


def _lower_first(text: str) -> str:
    word = text.split(" ", 1)[0]
    if not word or any(c.isupper() for c in word[1:]) or not word[0].isalpha():  # JSON, iPhone, `x`
        return text
    return text[0].lower() + text[1:]


def _sentence(text: str, lead: str = "") -> str:
    """`text` as a sentence: "when x" with lead "Returns `Err`" -> "Returns `Err` when x."."""
    if lead and not text.lower().startswith(lead.split()[0].lower()):
        text = f"{lead} {_lower_first(text)}"
    text = text[:1].upper() + text[1:] if text[:1].isalpha() else text
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _jsdoc_blocks(content: DocContent, facts: DocFacts, width: int) -> list[list[str]]:
    tags: list[str] = []
    for name, text in _ordered_params(content, facts):
        tags += _wrap(f"@param {name} {text}", width, rest="  ")
    if facts.returns_value and content.returns:
        tags += _wrap(f"@returns {content.returns}", width, rest="  ")
    for name, text in _raises_in_order(content, facts):
        tags += _wrap(f"@throws {{{name}}} {text}", width, rest="  ")
    return [_wrap(content.summary, width), _paragraphs(content.description, width), tags]


def _go_summary(name: str, summary: str) -> str:
    """GoDoc sentences start with the symbol's name ("Add returns ..."; types may say "A Stack")."""
    words = [w.strip(".,:;`*") for w in summary.split()[:2]]
    if not words:
        return name
    if words[0] == name or (words[0] in ("A", "An", "The") and words[1:] == [name]):
        return summary
    if words[0].lower() == name.lower():
        return name + summary[len(summary.split()[0]):]
    return f"{name} {_lower_first(summary)}"


def _godoc_blocks(content: DocContent, facts: DocFacts, width: int) -> list[list[str]]:
    params = _items(_ordered_params(content, facts), "{}: {}", width, "  - ", "    ")
    errors = _items(_raises_in_order(content, facts), "{}: {}", width, "  - ", "    ")
    returns = _wrap(_sentence(content.returns, "Returns"), width) if facts.returns_value and content.returns else []
    return [
        _wrap(_go_summary(facts.name, content.summary), width),
        _paragraphs(content.description, width),
        ["Parameters:"] + params if params else [],
        returns,
        ["Errors:"] + errors if errors else [],
    ]


def _rustdoc_blocks(content: DocContent, facts: DocFacts, width: int) -> list[list[str]]:
    params = _items(_ordered_params(content, facts), "`{}` - {}", width, "* ", "  ")
    raises = _raises_in_order(content, facts)
    panics = [text for name, text in raises if name.lower() in ("panic", "panics")]
    errors = [(name, text) for name, text in raises if name.lower() not in ("panic", "panics")]
    if len(errors) == 1 and errors[0][0] in ("Err", "Error"):
        error_lines = _wrap(_sentence(errors[0][1], "Returns `Err`"), width)
    else:
        error_lines = _items(errors, "`{}` - {}", width, "* ", "  ")
    blocks = [_wrap(content.summary, width), _paragraphs(content.description, width)]
    blocks += [["# Arguments", ""] + params if params else []]
    blocks += [_wrap(_sentence(content.returns, "Returns"), width) if facts.returns_value and content.returns else []]
    blocks += [["# Errors", ""] + error_lines if error_lines else []]
    blocks += [["# Panics", ""] + _wrap(_sentence(" ".join(panics), "Panics"), width) if panics else []]
    return blocks


def apply_doc_comment(text: str, symbol: Symbol, comment: str, *, tsx: bool = False) -> tuple[str, tuple[int, int]]:
    """Put `comment` on the lines directly above the symbol (above its decorators, `export`,
    attributes and Go directives), replacing its existing doc comment. Returns the new text and
    the (start_byte, end_byte) of the comment in the new text's UTF-8 bytes."""
    _check_language(symbol.language)
    src = text.encode("utf-8")
    location = locate_doc(src, parse(text, symbol.language, tsx=tsx).root_node, symbol)
    block = comment if comment.endswith("\n") else comment + "\n"
    if "\r\n" in text:  # keep the file's line endings
        block = block.replace("\r\n", "\n").replace("\n", "\r\n")
    inserted = block.encode("utf-8")
    new = src[: location.start] + inserted + src[location.anchor :]
    return new.decode("utf-8"), (location.start, location.start + len(inserted))


def doc_comment_gates(
    original: str, new: str, language: str, comment_range: tuple[int, int], facts: DocFacts, *, tsx: bool = False
) -> list[GateResult]:
    """Deterministic checks of a doc-comment edit: `parses`, `outside_unchanged`,
    `params_documented`, and where they apply `returns_documented` (JSDoc) and
    `raises_documented` (JSDoc `@throws`, rustdoc `# Errors` / `# Panics`)."""
    _check_language(language)
    old_src, new_src = original.encode("utf-8"), new.encode("utf-8")
    start, end = comment_range
    old_end = len(old_src) - (len(new_src) - end)  # where the unchanged tail starts in the original
    comment = new_src[start:end].decode("utf-8", "replace")
    old_tree, new_tree = parse(original, language, tsx=tsx), parse(new, language, tsx=tsx)
    gates = [
        _parses(language, old_tree, new_tree, new_src, start, end, old_end),
        _outside_unchanged(old_tree, old_src, new_src, start, end, old_end),
        _params_documented(language, comment, facts),
    ]
    if language in _JS and facts.returns_value:
        gates.append(_returns_documented(comment, facts))
    if facts.raises and language != "go":
        gates.append(_raises_documented(language, comment, facts))
    return gates


def _parses(language, old_tree, new_tree, new_src, start, end, old_end) -> GateResult:
    reasons = [f"the file no longer parses: {e}" for e in new_errors(old_tree, new_tree, start, old_end, end)]
    reasons += doc_block_problems(language, new_tree.root_node, new_src, start, end)
    return GateResult("parses", not reasons, reasons)


def _outside_unchanged(old_tree, old_src, new_src, start, end, old_end) -> GateResult:
    reasons: list[str] = []
    if not (0 <= start <= end <= len(new_src)):
        return GateResult("outside_unchanged", False, [f"comment range {start}..{end} does not fit the new text"])
    old_end = max(old_end, start)  # a tail longer than the original's has changed anyway
    if new_src[:start] != old_src[:start]:
        first = next((i for i, (a, b) in enumerate(zip(new_src, old_src)) if a != b), start)
        where = line_of(new_src, first)
        reasons.append(f"the text before the comment changed at line {where}; only the doc comment may change")
    if new_src[end:] != old_src[old_end:]:
        tail_new, tail_old = new_src[end:], old_src[old_end:]
        same = next((i for i, (a, b) in enumerate(zip(reversed(tail_new), reversed(tail_old))) if a != b), 0)
        where = line_of(new_src, len(new_src) - same - 1)
        reasons.append(f"the code after the comment changed (line {where}); only the doc comment may change")
    else:
        _, code = nodes_in_range(old_tree.root_node, start, old_end)
        if code:
            removed = snippet(code[0])
            reasons.append(f"the edit removed code above the definition (`{removed}`), not just the old doc comment")
    if (start and new_src[start - 1 : start] != b"\n") or not new_src[start:end].endswith(b"\n"):
        reasons.append("the doc comment must occupy whole lines directly above the definition")
    return GateResult("outside_unchanged", not reasons, reasons)


def _params_documented(language: str, comment: str, facts: DocFacts) -> GateResult:
    reasons: list[str] = []
    if language in _JS:
        documented = jsdoc_param_names(comment)
        roots = {name.split(".")[0] for name in documented}
        missing = [p for p in facts.params if p not in roots]
        reasons += [f"@param for `{p}` is missing; add `@param {p} <description>`" for p in missing]
        known = ", ".join(f"`{p}`" for p in facts.params) or "none"
        reasons += [
            f"@param `{name}` does not name a parameter of `{facts.name}` (its parameters: {known})"
            for name in documented
            if name.split(".")[0] not in facts.params
        ]
    else:
        where = "under `# Arguments`" if language == "rust" else "in the comment"
        for param in facts.params:
            pattern = re.escape(param) if not param.isidentifier() else rf"(?<![\w]){re.escape(param)}(?![\w])"
            if not re.search(pattern, comment):
                reasons.append(f"parameter `{param}` is not mentioned; describe it {where}")
    return GateResult("params_documented", not reasons, reasons)


def _returns_documented(comment: str, facts: DocFacts) -> GateResult:
    match = re.search(r"@returns?\b[ \t]*([^\n]*)", comment)
    if match is None:
        reason = f"@returns is missing: `{facts.name}` returns a value; add `@returns <what it returns>`"
        return GateResult("returns_documented", False, [reason])
    if not match.group(1).strip(" *"):
        return GateResult("returns_documented", False, ["@returns has no description of the returned value"])
    return GateResult("returns_documented", True)


def _raises_documented(language: str, comment: str, facts: DocFacts) -> GateResult:
    reasons: list[str] = []
    headings = markdown_headings(comment)
    for name in facts.raises:
        if language in _JS:
            typed = re.escape(name)
            if not re.search(rf"@(?:throws|exception)\s*(?:\{{\s*{typed}\s*\}}|{typed}\b)", comment):
                reasons.append(f"@throws for `{name}` is missing; add `@throws {{{name}}} <when it is thrown>`")
        elif name == "Err" and "# Errors" not in headings:
            reasons.append(f"`{facts.name}` returns a `Result`: add a `# Errors` section saying when it returns `Err`")
        elif name == "panic" and "# Panics" not in headings:
            reasons.append(f"`{facts.name}` can `panic!`: add a `# Panics` section saying when")
    return GateResult("raises_documented", not reasons, reasons)
