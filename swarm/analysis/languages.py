"""Which tree-sitter grammar reads which file, and parsing with it.

Grammars come from the official wheels (tree-sitter-python, -javascript, -typescript, -go, -rust);
see DESIGN.md §5 for why not tree-sitter-languages / tree-sitter-language-pack.
"""

from __future__ import annotations

import functools
import threading
from pathlib import PurePath

import tree_sitter
import tree_sitter_go
import tree_sitter_javascript
import tree_sitter_python
import tree_sitter_rust
import tree_sitter_typescript

from swarm_lsp.swarm.errors import InputError

LANGUAGES: tuple[str, ...] = ("python", "javascript", "typescript", "go", "rust")

EXTENSIONS: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "typescript",
    ".go": "go",
    ".rs": "rust",
}

TSX_EXTENSIONS = frozenset({".tsx"})


class UnsupportedLanguage(InputError):
    """The file's extension (or the given language name) has no grammar here."""


def _supported_list() -> str:
    return ", ".join(sorted(EXTENSIONS))


def language_for_path(path: str | PurePath) -> str:
    """The language name for a file path, e.g. "src/app.tsx" -> "typescript"."""
    suffix = PurePath(path).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        shown = suffix or "no extension"
        raise UnsupportedLanguage(
            f"cannot analyse {str(path)!r} ({shown}): supported extensions are {_supported_list()}"
        ) from None


def is_tsx_path(path: str | PurePath) -> bool:
    return PurePath(path).suffix.lower() in TSX_EXTENSIONS


@functools.cache
def grammar(language: str, tsx: bool = False) -> tree_sitter.Language:
    """The tree-sitter Language object (immutable, so shared by all threads)."""
    if language == "python":
        capsule = tree_sitter_python.language()
    elif language == "javascript":
        capsule = tree_sitter_javascript.language()
    elif language == "typescript":
        capsule = tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    elif language == "go":
        capsule = tree_sitter_go.language()
    elif language == "rust":
        capsule = tree_sitter_rust.language()
    else:
        raise UnsupportedLanguage(
            f"unknown language {language!r}: supported languages are {', '.join(LANGUAGES)}"
        )
    return tree_sitter.Language(capsule)


# A Parser carries mutable state and must not be used by two threads at once; actions may run in
# worker threads, so each thread gets its own parsers.
_local = threading.local()


def parser_for(language: str, tsx: bool = False) -> tree_sitter.Parser:
    """A cached parser for `language` (per thread); `tsx` selects the TSX grammar for typescript."""
    cache: dict[tuple[str, bool], tree_sitter.Parser] = _local.__dict__.setdefault("parsers", {})
    key = (language, bool(tsx and language == "typescript"))
    parser = cache.get(key)
    if parser is None:
        parser = tree_sitter.Parser(grammar(*key))
        cache[key] = parser
    return parser


def resolve_language(path_or_language: str | PurePath, tsx: bool = False) -> tuple[str, bool]:
    """(language, tsx) for either a language name ("go", "tsx") or a file path."""
    value = str(path_or_language)
    if value in LANGUAGES:
        return value, tsx and value == "typescript"
    if value == "tsx":
        return "typescript", True
    return language_for_path(value), is_tsx_path(value)


def parse(text: str, path_or_language: str | PurePath, *, tsx: bool = False) -> tree_sitter.Tree:
    """Parse `text` (encoded as UTF-8) with the grammar for a language name or a file path."""
    language, use_tsx = resolve_language(path_or_language, tsx)
    return parser_for(language, use_tsx).parse(text.encode("utf-8"))


def error_nodes(tree: tree_sitter.Tree) -> list[tree_sitter.Node]:
    """ERROR and MISSING nodes in document order (only subtrees flagged `has_error` are visited)."""
    found: list[tree_sitter.Node] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            found.append(node)
            if node.is_missing:
                continue
        stack.extend(child for child in reversed(node.children) if child.has_error or child.is_missing)
    return found


def describe_error(node: tree_sitter.Node) -> str:
    """"line 3, col 5: missing `;`" — 1-based line and (byte) column."""
    where = f"line {node.start_point.row + 1}, col {node.start_point.column + 1}"
    if node.is_missing:
        return f"{where}: missing `{node.type}`"
    snippet = (node.text or b"").decode("utf-8", "replace").strip().splitlines()
    near = f" near `{snippet[0][:40]}`" if snippet else ""
    return f"{where}: syntax error{near}"


def has_errors(tree: tree_sitter.Tree) -> list[str]:
    """Human-readable descriptions of the tree's syntax errors; empty when it parsed cleanly."""
    return [describe_error(node) for node in error_nodes(tree)]


def new_errors(
    old: tree_sitter.Tree, new: tree_sitter.Tree, edit_start: int, old_end: int, new_end: int
) -> list[str]:
    """Errors of `new` that `old` did not have, where `new` is `old` with the bytes
    [edit_start, old_end) replaced by [edit_start, new_end). Old errors are matched by type and
    position shifted past the edit."""
    shift = new_end - old_end
    known = {(n.type, n.start_byte if n.start_byte < edit_start else n.start_byte + shift) for n in error_nodes(old)}
    return [describe_error(n) for n in error_nodes(new) if (n.type, n.start_byte) not in known]
