"""Open documents: text, version, language and a tree-sitter tree that every change edits
incrementally, so `didChange` stays cheap and `codeAction` never parses (DESIGN.md §6).

LSP positions count a line's characters in the negotiated encoding (UTF-16 code units unless the
client agreed on UTF-8 or UTF-32) and end lines at `\\n`, `\\r\\n` or `\\r`; tree-sitter counts
UTF-8 bytes and ends rows at `\\n` only. A document is kept as UTF-8 bytes plus the byte offset
where each LSP line starts, and positions are converted at the edges.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import accumulate

from lsprotocol import types
from pygls.uris import to_fs_path
from tree_sitter import Tree

from swarm_lsp.swarm.analysis.languages import UnsupportedLanguage, is_tsx_path, language_for_path, parser_for
from swarm_lsp.swarm.analysis.symbols import index_tree
from swarm_lsp.swarm.types import Symbol
from swarm_lsp.swarm.errors import SwarmLspError

ENCODINGS = ("utf-8", "utf-16", "utf-32")
# JSON lets a client send a lone surrogate; keeping it beats a failed didChange and a store that
# no longer matches the editor.
_LENIENT = "surrogatepass"
_EOL = re.compile(rb"\r\n?|\n")


class DocumentNotOpen(SwarmLspError, KeyError):
    """A ranged change (or a symbol lookup) for a URI that was never opened or is closed."""

    def __init__(self, uri: str) -> None:
        super().__init__(uri)
        self.uri = uri

    def __str__(self) -> str:
        return f"{self.uri} is not open (no textDocument/didOpen, or it was closed)"


@dataclass(frozen=True)
class LineIndex:
    starts: list[int]  # byte offset where each LSP line starts; never mutated once built
    # A `\r` without `\n` may exist: LSP lines then differ from tree-sitter rows. Kept conservative
    # across edits (it only selects the slower, always-correct way of computing tree-sitter points).
    lone_cr: bool


@dataclass(frozen=True, eq=False)
class StoredDocument:
    """One version of an open document. Immutable: a job may hold it while the editor moves on."""

    uri: str
    path: str | None  # None for URIs that are not file:// (e.g. untitled:)
    text: str = field(repr=False)
    version: int
    language: str | None  # None: no grammar for this file, stored without a tree
    tree: Tree | None = field(repr=False)
    tsx: bool
    source: bytes = field(repr=False)  # `text` as UTF-8; tree-sitter byte offsets index into it
    lines: LineIndex = field(repr=False)


class DocumentStore:
    """The open documents of one client session. Mutations hold a lock; readers get snapshots."""

    def __init__(self, encoding: str = "utf-16") -> None:
        value = getattr(encoding, "value", encoding)  # lsprotocol's PositionEncodingKind or a str
        if value not in ENCODINGS:
            raise ValueError(f"unknown position encoding {encoding!r}: expected one of {', '.join(ENCODINGS)}")
        self.encoding: str = value
        self._lock = threading.Lock()
        self._documents: dict[str, StoredDocument] = {}
        self._symbols: dict[str, tuple[StoredDocument, tuple[Symbol, ...]]] = {}

    def open(self, uri: str, text: str, version: int) -> StoredDocument:
        document = _new_document(uri, version, text.encode("utf-8", _LENIENT))
        with self._lock:
            self._documents[uri] = document
            self._symbols.pop(uri, None)
        return document

    def change(
        self, uri: str, version: int, changes: Iterable[types.TextDocumentContentChangeEvent]
    ) -> StoredDocument:
        """Apply `changes` in order (ranged or whole-document). Raises DocumentNotOpen for a ranged
        change to a document that is not open; a whole-document change opens it."""
        with self._lock:
            document = _apply_changes(self._documents.get(uri), uri, version, list(changes), self.encoding)
            self._documents[uri] = document
            return document

    def close(self, uri: str) -> None:
        with self._lock:
            self._documents.pop(uri, None)
            self._symbols.pop(uri, None)

    def get(self, uri: str) -> StoredDocument | None:
        with self._lock:
            return self._documents.get(uri)

    def symbols(self, uri: str) -> list[Symbol]:
        """Every function, method and class of the open document (`index_tree`), computed on first
        use per version. Documents without a grammar have none."""
        with self._lock:
            document = self._documents.get(uri)
            cached = self._symbols.get(uri)
        if document is None:
            raise DocumentNotOpen(uri)
        if cached is not None and cached[0] is document:
            return list(cached[1])
        found = tuple(index_tree(document.tree, document.language)) if document.tree and document.language else ()
        with self._lock:
            if self._documents.get(uri) is document:
                self._symbols[uri] = (document, found)
        return list(found)

    def position_to_byte(self, document: StoredDocument, line: int, character: int) -> int:
        """The byte offset of an LSP position in `document.source`, clamped like editors do: past
        the end of a line -> its end, past the last line -> the end of the document."""
        return position_to_byte(document.source, document.lines, line, character, self.encoding)

    def byte_to_position(self, document: StoredDocument, offset: int) -> types.Position:
        """The LSP position of a byte offset (an offset inside a character moves to its start)."""
        return byte_to_position(document.source, document.lines, offset, self.encoding)


def _language_of(path: str | None) -> tuple[str | None, bool]:
    if path is None:
        return None, False
    try:
        return language_for_path(path), is_tsx_path(path)
    except UnsupportedLanguage:
        return None, False


def _new_document(uri: str, version: int, source: bytes) -> StoredDocument:
    path = to_fs_path(uri)
    language, tsx = _language_of(path)
    tree = parser_for(language, tsx).parse(source) if language else None
    text = source.decode("utf-8", _LENIENT)
    return StoredDocument(uri, path, text, version, language, tree, tsx, source, index_lines(source))


def _apply_changes(
    current: StoredDocument | None, uri: str, version: int, changes: list, encoding: str
) -> StoredDocument:
    if current is None:
        if not changes or getattr(changes[0], "range", None) is not None:
            raise DocumentNotOpen(uri)
        current = _new_document(uri, version, changes[0].text.encode("utf-8", _LENIENT))
        changes = changes[1:]
    if not changes:
        return replace(current, version=version)
    source, lines = current.source, current.lines
    # Tree.edit mutates: edit a copy so snapshots handed out earlier keep their tree intact.
    tree = current.tree.copy() if current.tree is not None else None
    for change in changes:
        where = getattr(change, "range", None)
        if where is None:
            source = change.text.encode("utf-8", _LENIENT)
            lines, tree = index_lines(source), None
            continue
        start = position_to_byte(source, lines, where.start.line, where.start.character, encoding)
        end = position_to_byte(source, lines, where.end.line, where.end.character, encoding)
        start, end = min(start, end), max(start, end)
        inserted = change.text.encode("utf-8", _LENIENT)
        if tree is not None:
            # Several edits may precede one reparse, each in the coordinates left by the previous.
            start_point = ts_point(source, lines, start)
            tree.edit(
                start_byte=start, old_end_byte=end, new_end_byte=start + len(inserted),
                start_point=start_point, old_end_point=ts_point(source, lines, end),
                new_end_point=end_point(start_point, inserted),
            )
        source = source[:start] + inserted + source[end:]
        lines = splice_lines(lines, source, start, end, len(inserted))
    new_tree = None
    if current.language is not None:
        parser = parser_for(current.language, current.tsx)
        new_tree = parser.parse(source, tree) if tree is not None else parser.parse(source)
    text = source.decode("utf-8", _LENIENT)
    return replace(current, text=text, version=version, tree=new_tree, source=source, lines=lines)


def index_lines(source: bytes) -> LineIndex:
    crs = source.count(b"\r")
    if crs and crs != source.count(b"\r\n"):
        return LineIndex([0, *(m.end() for m in _EOL.finditer(source))], True)
    # Only `\n` and `\r\n` endings: both end in `\n`, so splitting there is enough (and fast).
    return LineIndex([0, *accumulate(len(piece) + 1 for piece in source.split(b"\n")[:-1])], False)


def splice_lines(lines: LineIndex, source: bytes, start: int, old_end: int, inserted: int) -> LineIndex:
    """The index after bytes [start, old_end) were replaced by `inserted` bytes (`source` is the new
    text). Whether offset q starts a line depends only on bytes q-1 and q, so starts before the edit
    are kept, starts after it shift, and only [start-1, new_end] is scanned again."""
    new_end = start + inserted
    delta = new_end - old_end
    old = lines.starts
    head = old[: bisect_left(old, start)] if start > 0 else []
    tail = old[bisect_right(old, old_end):]
    low = max(start - 1, 0)
    middle = [0] if start == 0 else []
    middle += [q for m in _EOL.finditer(source, low, min(new_end + 1, len(source))) if (q := m.end()) <= new_end]
    window = source[low : new_end + 1]
    lone = window.count(b"\r") - window.count(b"\r\n")
    if new_end < len(source) and source[new_end] == 0x0D:
        lone -= 1  # the `\r` right after the edit is followed by unchanged text: no news about it
    shifted = tail if delta == 0 else [q + delta for q in tail]
    return LineIndex(head + middle + shifted, lines.lone_cr or lone > 0)


def ts_point(source: bytes, lines: LineIndex, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of `offset`: rows end at `\\n` only."""
    if lines.lone_cr:
        return source.count(b"\n", 0, offset), offset - source.rfind(b"\n", 0, offset) - 1
    row = bisect_right(lines.starts, offset) - 1
    return row, offset - lines.starts[row]


def end_point(point: tuple[int, int], inserted: bytes) -> tuple[int, int]:
    """The tree-sitter point where `inserted`, placed at `point`, ends."""
    newlines = inserted.count(b"\n")
    if not newlines:
        return point[0], point[1] + len(inserted)
    return point[0] + newlines, len(inserted) - inserted.rfind(b"\n") - 1


def _line_bounds(source: bytes, lines: LineIndex, line: int) -> tuple[int, int]:
    """(start, end) of a line's content, its line ending excluded."""
    start = lines.starts[line]
    end = lines.starts[line + 1] if line + 1 < len(lines.starts) else len(source)
    if end > start and source[end - 1] == 0x0A:
        end -= 1
    if end > start and source[end - 1] == 0x0D:
        end -= 1
    return start, end


def position_to_byte(source: bytes, lines: LineIndex, line: int, character: int, encoding: str) -> int:
    if line < 0:
        return 0
    if line >= len(lines.starts):
        return len(source)
    start, end = _line_bounds(source, lines, line)
    content, character = source[start:end], max(character, 0)
    if encoding == "utf-8":
        n = min(character, len(content))
        while 0 < n < len(content) and content[n] & 0xC0 == 0x80:  # inside a character: its start
            n -= 1
        return start + n
    if content.isascii():
        return start + min(character, len(content))
    text = content.decode("utf-8", _LENIENT)
    if encoding == "utf-32":
        return start + len(text[:character].encode("utf-8", _LENIENT))
    units = text.encode("utf-16-le", _LENIENT)
    cut = min(2 * character, len(units))
    if cut < len(units) and 0xDC00 <= int.from_bytes(units[cut : cut + 2], "little") <= 0xDFFF:
        cut -= 2  # between the halves of a surrogate pair: the start of the character
    return start + len(units[:cut].decode("utf-16-le", _LENIENT).encode("utf-8", _LENIENT))


def byte_to_position(source: bytes, lines: LineIndex, offset: int, encoding: str) -> types.Position:
    offset = min(max(offset, 0), len(source))
    line = bisect_right(lines.starts, offset) - 1
    start, end = _line_bounds(source, lines, line)
    offset = min(offset, end)
    while start < offset < len(source) and source[offset] & 0xC0 == 0x80:
        offset -= 1
    prefix = source[start:offset]
    if encoding == "utf-8" or prefix.isascii():
        return types.Position(line=line, character=len(prefix))
    text = prefix.decode("utf-8", _LENIENT)
    if encoding == "utf-32":
        return types.Position(line=line, character=len(text))
    return types.Position(line=line, character=len(text.encode("utf-16-le", _LENIENT)) // 2)
