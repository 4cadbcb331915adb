"""The pieces of code the memory indexes: every function, method and class that tree-sitter finds
in a file of one of the five languages, with its path, qualified name and line range. A class is
indexed by its header, docstring and attributes plus one line per method (its methods are chunks of
their own), so a question about the class does not have to out-score all its code."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, is_tsx_path, language_for_path
from swarm_lsp.swarm.analysis.symbols import index_symbols
from swarm_lsp.swarm.types import Symbol

MAX_CHUNK_CHARS = 2000  # what is embedded of one symbol; its range still covers all of it
MAX_FILE_BYTES = 1_000_000  # larger files are generated or data, not code worth recalling


@dataclass(frozen=True)
class Chunk:
    path: str  # workspace-relative, posix
    symbol: str  # qualified name, e.g. "Outer.method"
    kind: str  # function | method | class
    language: str
    start_line: int  # 1-based, inclusive
    end_line: int
    text: str  # what is embedded: a heading naming path, kind and symbol, then the code
    digest: str  # of `text`: the chunk is embedded again only when it changes

    @property
    def id(self) -> str:
        return f"{self.path}::{self.symbol}@{self.start_line}"

    def metadata(self) -> dict[str, str | int]:
        return {"path": self.path, "symbol": self.symbol, "name": self.symbol.rsplit(".", 1)[-1],
                "kind": self.kind, "language": self.language,
                "start_line": self.start_line, "end_line": self.end_line, "digest": self.digest}


def indexable(path: str) -> bool:
    try:
        language_for_path(path)
    except UnsupportedLanguage:
        return False
    return True


def file_chunks(rel_path: str, text: str) -> list[Chunk]:
    """The chunks of one file's text (an unsupported extension has none)."""
    try:
        language = language_for_path(rel_path)
    except UnsupportedLanguage:
        return []
    symbols = index_symbols(text, language, tsx=is_tsx_path(rel_path))
    lines = text.splitlines()
    chunks = []
    for symbol in symbols:
        body = _class_outline(symbol, symbols, lines) if symbol.kind == "class" else _lines(symbol, lines)
        heading = f"{rel_path} {symbol.kind} {symbol.qualname}\n"
        embedded = heading + body[:MAX_CHUNK_CHARS]
        chunks.append(Chunk(rel_path, symbol.qualname, symbol.kind, language, symbol.span.start_line + 1,
                            symbol.span.end_line + 1, embedded, hashlib.sha256(embedded.encode()).hexdigest()[:32]))
    return _unique_ids(chunks)


def _lines(symbol: Symbol, lines: list[str]) -> str:
    return "\n".join(lines[symbol.span.start_line:symbol.span.end_line + 1])


def _class_outline(cls: Symbol, symbols: list[Symbol], lines: list[str]) -> str:
    members = [s for s in symbols if s is not cls and cls.span.start_byte <= s.span.start_byte
               and s.span.end_byte <= cls.span.end_byte and s.qualname.count(".") == cls.qualname.count(".") + 1]
    if not members:
        return _lines(cls, lines)
    head = lines[cls.span.start_line:members[0].span.start_line]
    signatures = [lines[m.name_span.start_line].strip() for m in members]
    return "\n".join([*head, *("    " + s for s in signatures)])


def _unique_ids(chunks: list[Chunk]) -> list[Chunk]:
    """Two symbols of one name on one line cannot happen; the id also carries the line, so
    overloads and property setters stay apart."""
    seen: set[str] = set()
    unique = []
    for chunk in chunks:
        if chunk.id not in seen:
            seen.add(chunk.id)
            unique.append(chunk)
    return unique
