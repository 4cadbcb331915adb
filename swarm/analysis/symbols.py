"""The symbol index: functions, methods and classes of a file, and finding the one a user means.

Targets come from the CLI / MCP / LSP as `PATH::Qualified.name` or `PATH:LINE` (DESIGN.md §4,
`ActionRequest.target`); `parse_target` splits them and `resolve_symbol` picks the symbol.
"""

from __future__ import annotations

import difflib
import re

from tree_sitter import Tree

from ..errors import InputError
from ..types import Symbol
from .languages import LANGUAGES, UnsupportedLanguage, parse
from .symbols_go import index_go
from .symbols_js import index_js
from .symbols_python import index_python
from .symbols_rust import index_rust

__all__ = ["SymbolNotFound", "index_symbols", "index_tree", "parse_target", "resolve_symbol"]


class SymbolNotFound(InputError, LookupError):
    """The target names no symbol (or several). `suggestions` holds qualnames worth offering."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


def index_symbols(text: str, language: str, *, tsx: bool = False) -> list[Symbol]:
    """Every function, method and class in `text`, in document order (outer before inner)."""
    if language not in LANGUAGES:
        raise UnsupportedLanguage(f"unknown language {language!r}: supported languages are {', '.join(LANGUAGES)}")
    return index_tree(parse(text, language, tsx=tsx), language)


def index_tree(tree: Tree, language: str) -> list[Symbol]:
    """`index_symbols` for an already parsed tree (e.g. one kept up to date per open document)."""
    root = tree.root_node
    if language == "python":
        symbols = index_python(root)
    elif language in ("javascript", "typescript"):
        symbols = index_js(root, language)
    elif language == "go":
        symbols = index_go(root)
    elif language == "rust":
        symbols = index_rust(root)
    else:
        raise UnsupportedLanguage(f"unknown language {language!r}: supported languages are {', '.join(LANGUAGES)}")
    return sorted(symbols, key=lambda s: (s.span.start_byte, -s.span.end_byte))


def resolve_symbol(symbols: list[Symbol], target: str) -> Symbol:
    """The symbol `target` means: a 1-based line number ("42") picks the innermost symbol whose span
    contains the line; otherwise a qualname ("Outer.method"), or a unique trailing part of one
    ("method", "Inner.method"). Rust `Type::method` and Go `(*Type).Method` spellings are accepted.
    Raises SymbolNotFound with the closest names or the choices."""
    target = re.sub(r"^\(\*?([\w$]+)\)\.", r"\1.", target.strip().replace("::", "."))
    if not symbols:
        raise SymbolNotFound(f"no functions, methods or classes found, so `{target}` cannot be resolved")
    if target.isdigit():
        return _by_line(symbols, int(target))
    exact = [s for s in symbols if s.qualname == target]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        choices = ", ".join(f"line {s.span.start_line + 1}" for s in exact)
        raise SymbolNotFound(
            f"`{target}` is defined {len(exact)} times ({choices}); target one by line as PATH:LINE",
            [target],
        )
    suffix = "." + target
    partial = [s for s in symbols if s.qualname.endswith(suffix)]
    if len(partial) == 1:
        return partial[0]
    if len(partial) > 1:
        names = _unique(s.qualname for s in partial)
        raise SymbolNotFound(
            f"`{target}` is ambiguous; use one of: " + ", ".join(f"`{n}`" for n in names), names
        )
    return _not_found(symbols, target)


def _by_line(symbols: list[Symbol], line: int) -> Symbol:
    row = line - 1
    containing = [s for s in symbols if s.span.start_line <= row <= s.span.end_line]
    if containing:
        # Innermost = smallest span; on a tie the later start is the nested one.
        return min(containing, key=lambda s: (s.span.end_byte - s.span.start_byte, -s.span.start_byte))
    nearest = sorted(symbols, key=lambda s: min(abs(s.span.start_line - row), abs(s.span.end_line - row)))[:3]
    names = [s.qualname for s in nearest]
    where = ", ".join(f"`{s.qualname}` (lines {s.span.start_line + 1}-{s.span.end_line + 1})" for s in nearest)
    raise SymbolNotFound(f"line {line} is not inside any function, method or class; nearest: {where}", names)


def _not_found(symbols: list[Symbol], target: str) -> Symbol:
    qualnames = _unique(s.qualname for s in symbols)
    by_lower = {q.lower(): q for q in qualnames}
    candidates = qualnames + [s.name for s in symbols if s.name not in by_lower.values()]
    close = difflib.get_close_matches(target, candidates, n=3, cutoff=0.6)
    if not close:
        # Case slips ("getuser" for "getUser") are common and score poorly with difflib.
        lowered = difflib.get_close_matches(target.lower(), list(by_lower), n=3, cutoff=0.6)
        close = [by_lower[name] for name in lowered]
    suggestions = _unique(_qualify(name, symbols) for name in close)
    if suggestions:
        hint = "did you mean " + ", ".join(f"`{n}`" for n in suggestions) + "?"
    else:
        shown = qualnames[:10]
        more = f" (and {len(qualnames) - 10} more)" if len(qualnames) > 10 else ""
        hint = "symbols in this file: " + ", ".join(f"`{n}`" for n in shown) + more
    raise SymbolNotFound(f"no function, method or class named `{target}`; {hint}", suggestions)


def _qualify(name: str, symbols: list[Symbol]) -> str:
    """A suggested bare name becomes its qualname when that is unique."""
    matches = [s.qualname for s in symbols if s.name == name and s.qualname != name]
    return matches[0] if len(matches) == 1 and not any(s.qualname == name for s in symbols) else name


def _unique(names) -> list[str]:
    return list(dict.fromkeys(names))


def parse_target(spec: str) -> tuple[str, str | None]:
    """Split a CLI target: `PATH::Qualified.name` -> (PATH, "Qualified.name"), `PATH:LINE` ->
    (PATH, "LINE") when everything after the last colon is digits, plain `PATH` -> (PATH, None).
    Rust-style `Type::method` after the first `::` is accepted and normalised to `Type.method`."""
    if "::" in spec:
        path, _, name = spec.partition("::")
        name = name.strip().replace("::", ".")
        if not path or not name:
            raise ValueError(f"bad target {spec!r}: expected PATH::Qualified.name")
        return path, name
    head, sep, tail = spec.rpartition(":")
    if sep and head and tail.isdigit():
        return head, tail
    return spec, None


def target_source(text: str, path: str, target: str) -> tuple[str, str]:
    """The code `target` names in the file at `path` and its qualified name; the whole text and ""
    for a whole-file target ("") or one that names nothing."""
    from .languages import is_tsx_path, language_for_path

    if not target:
        return text, ""
    try:
        found = resolve_symbol(index_symbols(text, language_for_path(path), tsx=is_tsx_path(path)), target)
    except (LookupError, UnsupportedLanguage):
        return text, ""
    return text.encode("utf-8")[found.span.start_byte:found.span.end_byte].decode("utf-8", "replace"), found.qualname
