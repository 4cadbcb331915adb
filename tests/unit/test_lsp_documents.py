"""The open-document store: incremental edits must leave exactly the text and the tree a fresh
parse gives, in every position encoding, with CRLF, multi-byte characters and clamped positions."""

from __future__ import annotations

import random
import re
import threading

import pytest
from lsprotocol import types

from swarm_lsp.server.lsp import documents
from swarm_lsp.server.lsp.documents import DocumentNotOpen, DocumentStore
from swarm_lsp.swarm.analysis.languages import parse

URI = "file:///work/project/app.py"

SAMPLE = '''\
"""Module with é, ü, 日本 and 😀 in it."""


class Greeter:
    def greet(self, name):
        return f"héllo {name} 👋"

    def wave(self):
        return "🙂" * 3


def top(a, b):
    total = a + b  # ∑
    return total
'''


def ranged(start: tuple[int, int], end: tuple[int, int], text: str) -> types.TextDocumentContentChangePartial:
    return types.TextDocumentContentChangePartial(
        range=types.Range(start=types.Position(*start), end=types.Position(*end)), text=text
    )


def whole(text: str) -> types.TextDocumentContentChangeWholeDocument:
    return types.TextDocumentContentChangeWholeDocument(text=text)


def shape(tree) -> list[tuple]:
    """Every node with its byte range and points: equal shapes mean equivalent trees."""
    found, stack = [], [tree.root_node]
    while stack:
        node = stack.pop()
        found.append((node.type, node.start_byte, node.end_byte, tuple(node.start_point), tuple(node.end_point)))
        stack.extend(reversed(node.children))
    return found


# --- an independent model of LSP positions over a str, to check the store against ---------------

def lsp_lines(text: str) -> list[tuple[int, str]]:
    """(start index, content without its line ending) of each line; LSP ends lines at \\n, \\r\\n, \\r."""
    lines, start = [], 0
    for match in re.finditer(r"\r\n?|\n", text):
        lines.append((start, text[start : match.start()]))
        start = match.end()
    lines.append((start, text[start:]))
    return lines


def units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def random_position(rng: random.Random, text: str, encoding: str) -> tuple[tuple[int, int], int]:
    """A random LSP position and the str index it means; sometimes past the end of its line."""
    lines = lsp_lines(text)
    line = rng.randrange(len(lines))
    start, content = lines[line]
    if rng.random() < 0.1:  # past the end of the line: editors clamp it to the end
        return (line, units(content, encoding) + rng.randint(1, 5)), start + len(content)
    k = rng.randint(0, len(content))
    return (line, units(content[:k], encoding)), start + k


ALPHABET = ["a", "x", " ", "\n", "é", "😀", "日", "(", ")", ":", "def f", "class C", "    ", '"', "#", "\r\n", "\r"]


def random_edit(rng: random.Random, text: str, encoding: str) -> tuple[types.TextDocumentContentChangePartial, str]:
    (p1, i1), (p2, i2) = random_position(rng, text, encoding), random_position(rng, text, encoding)
    if i2 < i1:
        (p1, i1), (p2, i2) = (p2, i2), (p1, i1)
    if i2 - i1 > 12:  # local edits, as typing makes (and the text does not shrink away)
        return random_edit(rng, text, encoding)
    insert = "".join(rng.choice(ALPHABET) for _ in range(rng.choice([0, 1, 1, 2, 4])))
    return ranged(p1, p2, insert), text[:i1] + insert + text[i2:]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8", "utf-32"])
@pytest.mark.parametrize(("uri", "language", "seed_text"), [
    (URI, "python", SAMPLE),
    ("file:///work/project/app.py", "python", SAMPLE.replace("\n", "\r\n")),
    ("file:///work/project/app.ts", "typescript", "export class A {\n  m(): string { return 'é😀'; }\n}\n"),
])
def test_random_incremental_edits_match_a_fresh_parse(encoding, uri, language, seed_text):
    rng = random.Random(f"{encoding}-{language}-{len(seed_text)}")
    store = DocumentStore(encoding=encoding)
    store.open(uri, seed_text, 1)
    text = seed_text
    for version in range(2, 302):
        batch = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # several changes in one didChange, in order
            change, text = random_edit(rng, text, encoding)
            batch.append(change)
        document = store.change(uri, version, batch)
        assert document.text == text
        assert document.version == version
        assert document.source == text.encode()
        assert shape(document.tree) == shape(parse(text, language))
        # The line index is spliced, not rebuilt: it must equal a fresh one.
        fresh = documents.index_lines(document.source)
        assert document.lines.starts == fresh.starts
        assert document.lines.lone_cr or not fresh.lone_cr


def test_lone_carriage_returns_end_lsp_lines_but_not_tree_sitter_rows():
    store = DocumentStore()
    text = "x = 1\ry = 2\rdef f():\r\n    return 3\n"
    store.open(URI, text, 1)
    document = store.change(URI, 2, [ranged((1, 4), (1, 5), "20"), ranged((3, 11), (3, 12), "'é'")])
    text = "x = 1\ry = 20\rdef f():\r\n    return 'é'\n"
    assert document.text == text
    assert shape(document.tree) == shape(parse(text, "python"))
    # Joining a lone \r with a following \n makes one CRLF line ending out of two lines.
    document = store.change(URI, 3, [ranged((0, 5), (1, 0), "\r\n")])
    assert document.text == "x = 1\r\ny = 20\rdef f():\r\n    return 'é'\n"
    assert store.position_to_byte(document, 1, 0) == len("x = 1\r\n")
    assert shape(document.tree) == shape(parse(document.text, "python"))


def test_tree_sitter_points_count_rows_at_newlines_only():
    for text in ["a\rb\r\nc\nd", "x = 1\ny = 2\n", "é\r\n😀\n\r"]:
        source = text.encode()
        lines = documents.index_lines(source)
        for offset in range(len(source) + 1):
            row = source.count(b"\n", 0, offset)
            point = (row, offset - source.rfind(b"\n", 0, offset) - 1)
            assert documents.ts_point(source, lines, offset) == point
            for inserted in (b"xy", b"a\nbc\r\nd", "é\n".encode()):  # where an insertion here ends
                after = source[:offset] + inserted + source[offset:]
                end = documents.ts_point(after, documents.index_lines(after), offset + len(inserted))
                assert documents.end_point(point, inserted) == end


def test_crlf_positions_exclude_the_line_ending():
    store = DocumentStore()
    document = store.open(URI, "def f():\r\n    return 1\r\n", 1)
    assert store.position_to_byte(document, 1, 0) == 10
    assert store.position_to_byte(document, 0, 99) == 8  # clamped before \r\n
    assert store.byte_to_position(document, 9) == types.Position(0, 8)  # between \r and \n
    document = store.change(URI, 2, [ranged((1, 12), (1, 12), "0")])
    assert document.text == "def f():\r\n    return 10\r\n"
    assert store.position_to_byte(document, 2, 0) == len(document.source)


@pytest.mark.parametrize(("encoding", "character"), [("utf-16", 8), ("utf-8", 11), ("utf-32", 7)])
def test_multibyte_characters_in_each_encoding(encoding, character):
    store = DocumentStore(encoding=encoding)
    document = store.open(URI, 'x = "😀é"\n', 1)
    closing_quote = 'x = "😀é'.encode()
    assert store.position_to_byte(document, 0, character) == len(closing_quote)
    assert store.byte_to_position(document, len(closing_quote)) == types.Position(0, character)
    for offset in range(len(document.source) + 1):  # inside a character -> its start, never a crash
        position = store.byte_to_position(document, offset)
        assert store.position_to_byte(document, position.line, position.character) <= offset


def test_a_position_between_the_halves_of_a_surrogate_pair_means_the_character_start():
    store = DocumentStore()
    document = store.open(URI, "a😀b", 1)
    assert store.position_to_byte(document, 0, 2) == 1


def test_positions_past_the_end_are_clamped():
    store = DocumentStore()
    document = store.open(URI, "ab\ncd", 1)
    assert store.position_to_byte(document, 0, 50) == 2
    assert store.position_to_byte(document, 7, 0) == 5
    assert store.byte_to_position(document, 99) == types.Position(1, 2)
    document = store.change(URI, 2, [ranged((0, 50), (9, 0), "!")])
    assert document.text == "ab!"


def test_whole_document_changes_replace_and_can_mix_with_ranged_ones():
    store = DocumentStore()
    store.open(URI, "def old():\n    pass\n", 1)
    document = store.change(URI, 2, [whole("def new():\n    pass\n"), ranged((0, 4), (0, 7), "fresh")])
    assert document.text == "def fresh():\n    pass\n"
    assert shape(document.tree) == shape(parse(document.text, "python"))
    assert [s.qualname for s in store.symbols(URI)] == ["fresh"]


def test_snapshots_are_immutable_while_the_document_changes():
    store = DocumentStore()
    before = store.open(URI, SAMPLE, 1)
    old_shape = shape(before.tree)
    after = store.change(URI, 2, [ranged((0, 0), (0, 0), "import os\n")])
    assert before.text == SAMPLE and before.version == 1
    assert shape(before.tree) == old_shape  # the old tree was not edited in place
    assert after.tree.root_node.end_byte == len(after.source)
    assert store.get(URI) is after


def test_close_unknown_uris_and_unsupported_languages():
    store = DocumentStore()
    store.open(URI, "x = 1\n", 1)
    store.close(URI)
    store.close(URI)  # closing twice is harmless
    assert store.get(URI) is None
    with pytest.raises(DocumentNotOpen) as error:
        store.change(URI, 2, [ranged((0, 0), (0, 0), "y")])
    assert isinstance(error.value, KeyError)
    assert "file:///work/project/app.py is not open" in str(error.value)
    with pytest.raises(DocumentNotOpen):
        store.symbols(URI)
    # A whole-document change carries all the text, so it can stand in for a lost didOpen.
    assert store.change(URI, 3, [whole("y = 2\n")]).text == "y = 2\n"

    notes = store.open("file:///work/project/NOTES.md", "# Notes\n", 1)
    assert (notes.language, notes.tree, notes.path) == (None, None, "/work/project/NOTES.md")
    assert store.change(notes.uri, 2, [ranged((0, 2), (0, 7), "Todo")]).text == "# Todo\n"
    assert store.symbols(notes.uri) == []
    untitled = store.open("untitled:Untitled-1", "def f(): pass\n", 1)
    assert (untitled.path, untitled.language) == (None, None)


def test_tsx_and_language_from_the_path():
    store = DocumentStore()
    document = store.open("file:///w/App.tsx", "export const App = () => <div>é</div>;\n", 1)
    assert (document.language, document.tsx) == ("typescript", True)
    assert not document.tree.root_node.has_error
    assert [s.qualname for s in store.symbols(document.uri)] == ["App"]


def test_symbols_are_cached_per_version(monkeypatch):
    calls = []
    real = documents.index_tree
    monkeypatch.setattr(documents, "index_tree", lambda tree, language: calls.append(1) or real(tree, language))
    store = DocumentStore()
    store.open(URI, SAMPLE, 1)
    first = store.symbols(URI)
    assert store.symbols(URI) == first and len(calls) == 1
    assert "Greeter.greet" in [s.qualname for s in first]
    store.change(URI, 2, [ranged((14, 0), (14, 0), "def added():\n    pass\n")])
    assert [s.qualname for s in store.symbols(URI)][-1] == "added"
    assert len(calls) == 2
    store.close(URI)
    store.open(URI, "def other(): pass\n", 2)  # same version number, new text: not the old cache
    assert [s.qualname for s in store.symbols(URI)] == ["other"]


def test_encodings_accept_lsprotocol_kinds_and_reject_unknown_names():
    assert DocumentStore(encoding=types.PositionEncodingKind.Utf8).encoding == "utf-8"
    assert DocumentStore().encoding == "utf-16"
    with pytest.raises(ValueError, match="utf-16"):
        DocumentStore(encoding="latin-1")


def test_readers_on_other_threads_always_see_consistent_snapshots():
    store = DocumentStore()
    store.open(URI, SAMPLE, 1)
    problems: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            document = store.get(URI)
            if document.tree.root_node.end_byte > len(document.source) or document.text.encode() != document.source:
                problems.append(f"inconsistent snapshot at version {document.version}")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(2, 200):
            store.change(URI, version, [ranged((13, 4), (13, 4), "x")])
    finally:
        done.set()
        reader.join()
    assert problems == []
