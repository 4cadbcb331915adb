"""Where a symbol's doc comment is (or would go) in JavaScript, TypeScript, Go and Rust.

A doc comment is the comment block directly above the definition (no blank line between):
JSDoc `/** ... */`, Go `//` lines, Rust `///` lines (or one `/** ... */` block). Go compiler
directives (`//go:noinline`) directly above a function stay where they are: the doc goes above them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tree_sitter import Node

from ..types import Symbol
from .nodes import squash

COMMENT_TYPES = frozenset({"comment", "line_comment", "block_comment"})
DOC_LANGUAGES = ("javascript", "typescript", "go", "rust")
_GO_DIRECTIVE = re.compile(rb"^//(go:|line |export |extern |nolint)")


@dataclass(frozen=True)
class DocLocation:
    anchor: int  # byte offset of the line start where a doc comment belongs
    start: int  # byte offset of the line start of the existing doc comment (== anchor if none)
    text: str | None  # the existing doc comment without comment markers, or None


def line_start(src: bytes, pos: int) -> int:
    return src.rfind(b"\n", 0, pos) + 1


def is_doc_comment(language: str, comment: bytes) -> bool:
    """Whether a comment node's text is doc-comment syntax for `language`."""
    if language in ("javascript", "typescript"):
        return comment.startswith(b"/**") and not comment.startswith(b"/**/")
    if language == "go":
        return comment.startswith(b"//") and not _GO_DIRECTIVE.match(comment)
    if language == "rust":
        line_doc = comment.startswith(b"///") and not comment.startswith(b"////")
        block_doc = comment.startswith(b"/**") and not comment.startswith((b"/***", b"/**/"))
        return line_doc or block_doc
    return False


def _whole_line_comment_above(src: bytes, root: Node, pos: int) -> Node | None:
    """The comment that ends on the line directly above the line starting at `pos` and is the only
    thing on its lines, or None."""
    q = pos - 1
    while q >= 0 and src[q : q + 1] in (b" ", b"\t", b"\r", b"\n"):
        q -= 1
    if q < 0 or src.count(b"\n", q + 1, pos) > 1:  # a blank line separates them (or nothing above)
        return None
    node = root.descendant_for_byte_range(q, q + 1)
    while node is not None and node.type not in COMMENT_TYPES:
        node = node.parent
    if node is None or src[line_start(src, node.start_byte) : node.start_byte].strip():
        return None
    return node


def locate_doc(src: bytes, root: Node, symbol: Symbol) -> DocLocation:
    """Find the insertion line and the existing doc comment of `symbol` in the UTF-8 `src`."""
    language = symbol.language
    if language not in DOC_LANGUAGES:
        raise ValueError(f"doc comments are for {', '.join(DOC_LANGUAGES)}; {language} uses docstrings")
    anchor = line_start(src, symbol.span.start_byte)
    if language == "go":
        while (node := _whole_line_comment_above(src, root, anchor)) is not None and _GO_DIRECTIVE.match(
            node.text or b""
        ):
            anchor = line_start(src, node.start_byte)
    start = anchor
    blocks: list[bytes] = []
    while (node := _whole_line_comment_above(src, root, start)) is not None:
        raw = node.text or b""
        if not is_doc_comment(language, raw):
            break
        # Line-comment styles stack up line by line; a `/** */` block is the whole doc on its own.
        if blocks and raw.startswith(b"/*"):
            break
        blocks.insert(0, raw)
        start = line_start(src, node.start_byte)
        if raw.startswith(b"/*"):
            break
    text = clean_doc("\n".join(b.decode("utf-8", "replace").rstrip("\n") for b in blocks)) if blocks else None
    return DocLocation(anchor=anchor, start=start, text=text)


def clean_doc(raw: str) -> str:
    """Comment markers stripped: `/** * x */`, `// x` and `/// x` all give "x"."""
    lines: list[str] = []
    if raw.lstrip().startswith("/*"):
        body = raw.strip()[3:]
        body = body[:-2] if body.endswith("*/") else body
        for line in body.splitlines():
            line = line.strip()
            line = line[1:] if line.startswith("*") else line
            lines.append(line[1:] if line.startswith(" ") else line)
    else:
        for line in raw.splitlines():
            line = line.strip().lstrip("/")
            lines.append(line[1:] if line.startswith(" ") else line)
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(line.rstrip() for line in lines)


def nodes_in_range(root: Node, start: int, end: int) -> tuple[list[Node], list[Node]]:
    """(comments, code) overlapping the byte range [start, end): comment nodes as a whole, other
    nodes as leaves (tokens). A comment that sticks out of the range is reported as code, because
    then the range does not hold whole comments."""
    comments: list[Node] = []
    code: list[Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.end_byte <= start or node.start_byte >= end or node.start_byte == node.end_byte:
            continue
        if node.type in COMMENT_TYPES:
            inside = start <= node.start_byte and node.end_byte <= end
            (comments if inside else code).append(node)
        elif node.child_count == 0:
            code.append(node)
        else:
            stack.extend(node.children)
    comments.sort(key=lambda n: n.start_byte)
    code.sort(key=lambda n: n.start_byte)
    return comments, code


def snippet(node: Node) -> str:
    return squash((node.text or b"").decode("utf-8", "replace"))[:40]


def line_of(src: bytes, pos: int) -> int:
    """1-based line number of byte offset `pos`."""
    return src.count(b"\n", 0, pos) + 1


def doc_block_problems(language: str, root: Node, src: bytes, start: int, end: int) -> list[str]:
    """Why the bytes [start, end) of `src` are not one well-formed doc comment block for
    `language` (empty when they are): code inside it, plain comments, several JSDoc blocks."""
    problems: list[str] = []
    block = src[start:end].strip()
    if block.startswith(b"/*") and not block.endswith(b"*/"):
        problems.append("the comment is not closed: end it with a ` */` line")
    comments, code = nodes_in_range(root, start, end)
    if code:
        problem = f"line {line_of(src, code[0].start_byte)} of the comment is read as code (`{snippet(code[0])}`)"
        if b"*/" in src[start:end]:
            problem += "; a `*/` inside the text closes the comment early: write `*\\/` or rephrase"
        problems.append(problem)
    if language in ("javascript", "typescript") and len(comments) > 1:
        problems.append("the doc comment must be a single `/** ... */` block")
    marker = {"go": "//", "rust": "///"}.get(language, "/**")
    for node in comments:
        if not is_doc_comment(language, node.text or b""):
            where = line_of(src, node.start_byte)
            problems.append(f"line {where} is not doc-comment syntax: start it with `{marker}`")
    if not comments and not code:
        problems.append("the inserted text contains no comment")
    return problems


_JSDOC_TYPE = r"(?:\{(?:[^{}]|\{[^{}]*\})*\}\s*)?"  # `{T}` or `{{a: T}}`
_JSDOC_PARAM = re.compile(r"@(?:param|arg|argument)\s+" + _JSDOC_TYPE + r"\[?\s*([A-Za-z_$][\w$]*(?:\.[\w$]+)*)")


def jsdoc_param_names(comment: str) -> list[str]:
    """Names of the `@param` tags, e.g. `@param {number} [count=1] ...` -> "count", in order."""
    return list(dict.fromkeys(_JSDOC_PARAM.findall(comment)))


def markdown_headings(comment: str) -> set[str]:
    """`# Errors`-style headings of a rustdoc comment (markers stripped), e.g. {"# Errors"}."""
    lines = (line.strip().lstrip("/*!").strip() for line in comment.splitlines())
    return {line for line in lines if line.startswith("#")}
