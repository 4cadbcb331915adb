"""Python docstring styles: detect the project's style, render a `DocContent`, parse sections back.

Three styles are supported: "google" (`Args:`), "numpy" (`Parameters` + dashes) and "rest"
(`:param x:`). Rendering produces the docstring *literal* as it appears in source; the gates parse
the literal's value back with docstring_parser so render and check cannot drift apart silently.
"""

from __future__ import annotations

import ast
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import docstring_parser

from .codemods.content import DocContent, DocFacts
from .docstyle_examples import example_lines

STYLES = ("google", "numpy", "rest")
DEFAULT_STYLE = "google"
LINE_WIDTH = 88

_MARKERS = {
    "google": re.compile(
        r"^\s*(Args|Arguments|Keyword Args|Returns|Yields|Raises|Attributes|Examples?|Notes?):\s*$",
        re.MULTILINE,
    ),
    "numpy": re.compile(
        r"^\s*(Parameters|Other Parameters|Returns|Yields|Raises|Attributes|See Also|Notes|Examples)"
        r"\s*\n\s*-{3,}\s*$",
        re.MULTILINE,
    ),
    "rest": re.compile(
        r"^\s*:(param|parameter|arg|type|returns?|rtype|raises?|except|yields?)\b[^:\n]*:", re.MULTILINE
    ),
}
_PARSER_STYLES = {
    "google": docstring_parser.DocstringStyle.GOOGLE,
    "numpy": docstring_parser.DocstringStyle.NUMPYDOC,
    "rest": docstring_parser.DocstringStyle.REST,
}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")


def _docstrings(text: str) -> Iterable[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield doc


def detect_style(texts: Iterable[str]) -> str:
    """Return "google", "numpy" or "rest": the style most existing docstrings in `texts` use.

    Each docstring votes for the style whose section markers it contains most often; a docstring
    without markers, or with a tie, does not vote. A tie between styles, or no votes, gives "google".
    """
    votes: Counter[str] = Counter()
    for text in texts:
        for doc in _docstrings(text):
            counts = {style: len(pattern.findall(doc)) for style, pattern in _MARKERS.items()}
            best = max(counts.values())
            winners = [style for style, count in counts.items() if count == best]
            if best and len(winners) == 1:
                votes[winners[0]] += 1
    ranked = votes.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return DEFAULT_STYLE
    return ranked[0][0]


# --- rendering -------------------------------------------------------------------------------


def _clean(text: str) -> str:
    text = _LINE_BREAKS.sub("\n", text).replace("\t", "    ")
    return _CONTROL_CHARS.sub("", text).strip()


def _one_paragraph(text: str) -> str:
    return " ".join(_clean(text).split())


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    """Wrap one paragraph; `first` prefixes the first line, `rest` the continuation lines."""
    return textwrap.wrap(
        text,
        width=max(width, 30),
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]


def _wrap_lines(text: str, width: int) -> list[str]:
    """Wrap each line of free text separately, so lists and paragraph breaks survive."""
    out: list[str] = []
    for line in _clean(text).split("\n"):
        stripped = line.lstrip()
        lead = line[: len(line) - len(stripped)]
        out.extend(_wrap(stripped, width, lead, lead) if stripped else [""])
    return out


@dataclass(frozen=True)
class _SignatureDetails:
    starred: dict[str, str]  # "args" -> "*args", "kwargs" -> "**kwargs"
    return_annotation: str


def _signature_details(signature: str) -> _SignatureDetails:
    """Read star parameters and the return annotation from `DocFacts.signature` (best effort)."""
    lines = textwrap.dedent(signature).rstrip().splitlines()
    def_lines = [ln for ln in lines if ln.lstrip().startswith(("def ", "async def "))]
    if not def_lines:
        return _SignatureDetails({}, "")
    body_indent = def_lines[-1][: len(def_lines[-1]) - len(def_lines[-1].lstrip())] + "    "
    try:
        tree = ast.parse("\n".join(lines) + "\n" + body_indent + "pass\n")
    except SyntaxError:
        return _SignatureDetails({}, "")
    func = next((n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
    if func is None:
        return _SignatureDetails({}, "")
    starred = {}
    if func.args.vararg:
        starred[func.args.vararg.arg] = "*" + func.args.vararg.arg
    if func.args.kwarg:
        starred[func.args.kwarg.arg] = "**" + func.args.kwarg.arg
    annotation = ast.unparse(func.returns) if func.returns else ""
    return _SignatureDetails(starred, "" if annotation == "None" else annotation)


def _documented_params(content: DocContent, facts: DocFacts) -> list[tuple[str, str]]:
    # Keys the model wrote as "*args" match the fact "args"; names not in facts are dropped.
    by_name = {key.lstrip("*").strip("`"): text for key, text in content.params.items()}
    return [(name, by_name[name]) for name in facts.params if _one_paragraph(by_name.get(name, ""))]


def _documented_raises(content: DocContent, facts: DocFacts) -> list[tuple[str, str]]:
    # Facts order first, spelled as in the code; extra types the model names (raised by callees,
    # say) are kept after them.
    remaining = {key: text for key, text in content.raises.items() if _one_paragraph(text)}
    ordered: list[tuple[str, str]] = []
    for fact in facts.raises:
        for key in list(remaining):
            if key == fact or key == fact.rsplit(".", 1)[-1]:
                ordered.append((fact, remaining.pop(key)))
                break
    return ordered + list(remaining.items())


_TITLES = {
    "google": ("Args:", "Returns:", "Raises:"),
    "numpy": ("Parameters\n----------", "Returns\n-------", "Raises\n------"),
    "rest": ("", "", ""),
}


def _entry(style: str, head: str, text: str, width: int) -> list[str]:
    """One section item: `head` is the name/type (Google, NumPy) or the whole field (reST)."""
    text = _one_paragraph(text)
    if style == "google":
        return _wrap(text, width, f"    {head}: " if head else "    ", "        ")
    if style == "numpy":
        return [head, *_wrap(text, width, "    ", "    ")]
    return _wrap(text, width, f":{head}: ", "    ")


def _section_lines(content: DocContent, facts: DocFacts, style: str, width: int) -> list[list[str]]:
    details = _signature_details(facts.signature)
    params_title, returns_title, raises_title = (t.splitlines() for t in _TITLES[style])
    sections: list[list[str]] = []

    params = _documented_params(content, facts)
    if params:
        if style == "rest":  # `:param *args:` is not valid reST field syntax
            heads = [f"param {name}" for name, _ in params]
        else:
            heads = [details.starred.get(name, name) for name, _ in params]
        items = [line for head, (_, text) in zip(heads, params) for line in _entry(style, head, text, width)]
        sections.append([*params_title, *items])

    returns = _one_paragraph(content.returns) if facts.returns_value and facts.kind != "class" else ""
    if returns:
        # NumPy requires a type line; without an annotation the only honest type is `object`.
        head = {"google": "", "numpy": details.return_annotation or "object", "rest": "returns"}[style]
        sections.append([*returns_title, *_entry(style, head, returns, width)])

    raises = _documented_raises(content, facts)
    if raises:
        heads = [f"raises {name}" if style == "rest" else name for name, _ in raises]
        items = [line for head, (_, text) in zip(heads, raises) for line in _entry(style, head, text, width)]
        sections.append([*raises_title, *items])

    if style == "rest" and sections:  # reST fields form one block, not blank-separated sections
        sections = [[line for section in sections for line in section]]
    examples = example_lines(style, content.examples)
    if examples:  # reST: before the fields, which end the docstring
        sections.insert(0, examples) if style == "rest" else sections.append(examples)
    return sections


def _escape(body: str) -> str:
    # Every quote in a run of three or more is escaped, so no run can close the literal early.
    return re.sub(r'"{3,}', lambda m: '\\"' * len(m.group()), body)


def _closes_cleanly(body: str) -> bool:
    """Whether `body` can be followed directly by the closing quotes: no unescaped quote or
    backslash at its end."""
    match = re.search(r'(\\*)("?)$', body)
    assert match is not None
    odd_backslashes = len(match.group(1)) % 2 == 1
    return odd_backslashes if match.group(2) else not odd_backslashes


def render_docstring(content: DocContent, facts: DocFacts, style: str, indent: str) -> str:
    """Render `content` as a docstring literal in `style`, indented for a body at `indent`.

    Only parameters that exist in `facts.params` are rendered, in facts order: anything else the
    model wrote is a hallucination and is dropped. A Returns section is rendered only when the
    function returns a value (generators included: `facts.returns_value` covers `yield`). Text
    containing a backslash makes a raw literal; runs of three quotes are backslash-escaped.
    """
    if style not in STYLES:
        raise ValueError(f"unknown docstring style {style!r}; expected one of {', '.join(STYLES)}")
    width = LINE_WIDTH - len(indent.expandtabs(4))
    paragraphs: list[list[str]] = []
    summary = _one_paragraph(content.summary)
    if summary:
        paragraphs.append(_wrap(summary, width - 4))
    if _clean(content.description):
        paragraphs.append(_wrap_lines(content.description, width))
    paragraphs.extend(_section_lines(content, facts, style, width))
    lines = [line for i, para in enumerate(paragraphs) for line in ([""] if i else []) + para]
    body = "\n".join(lines)
    prefix = "r" if "\\" in body else ""
    body = _escape(body)
    if len(lines) <= 1 and _closes_cleanly(body):
        return f'{prefix}"""{body}"""'
    indented = "\n".join(indent + line if line else "" for line in body.split("\n"))
    return f'{prefix}"""{indented[len(indent):]}\n{indent}"""'


# --- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocSections:
    """What a docstring documents, as read back by docstring_parser."""

    summary: str
    params: tuple[str, ...]  # names without leading `*`, in docstring order
    has_returns: bool  # a non-empty Returns or Yields section
    raises: tuple[str, ...]  # exception type names as written


def _parse(docstring: str, style: docstring_parser.DocstringStyle) -> docstring_parser.Docstring | None:
    try:
        return docstring_parser.parse(docstring, style)
    except docstring_parser.ParseError:
        return None


def parse_docstring_sections(docstring: str, style: str) -> DocSections:
    """Parse a cleaned docstring with the parser for `style`, falling back to auto-detection
    when that parser fails or finds no sections."""
    parsed = _parse(docstring, _PARSER_STYLES.get(style, docstring_parser.DocstringStyle.AUTO))
    if parsed is None or not parsed.meta:
        fallback = _parse(docstring, docstring_parser.DocstringStyle.AUTO)
        if fallback is not None and (parsed is None or fallback.meta):
            parsed = fallback
    if parsed is None:
        lines = docstring.strip().splitlines()
        return DocSections(lines[0].strip() if lines else "", (), False, ())
    params = tuple(p.arg_name.replace("\\", "").lstrip("*").strip() for p in parsed.params)
    has_returns = any(
        (r.description or "").strip() or (r.type_name or "").strip() for r in parsed.many_returns
    )
    raises = tuple(r.type_name.strip() for r in parsed.raises if r.type_name)
    first = docstring.strip().splitlines()
    return DocSections(first[0].strip() if first else "", params, has_returns, raises)
