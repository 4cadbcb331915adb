"""Versioned workspace edits from an ActionResult, and rebasing onto a document that changed.

An edit is computed from the text of document version V. If the editor's document is still at V
it is sent as a `TextDocumentEdit` stamped V. If it moved on, the edit is *rebased* when the text
it touches (the target symbol plus the changed lines) is still present, exactly once, in the new
text; otherwise it is refused. Nothing is ever applied blind.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types

from swarm_lsp.swarm.errors import SwarmLspError


class StaleEdit(SwarmLspError):
    """The document changed where the edit applies: the edit cannot be applied safely."""


@dataclass(frozen=True)
class Change:
    """Replace old_text[start:end] (str offsets) with `text`."""

    start: int
    end: int
    text: str


def minimal_change(old: str, new: str) -> Change:
    """The smallest run of whole lines replaced to turn `old` into `new` (common leading and
    trailing lines kept): clients show and undo whole-line edits more naturally."""
    old_lines, new_lines = old.splitlines(keepends=True), new.splitlines(keepends=True)
    prefix = 0
    while prefix < min(len(old_lines), len(new_lines)) and old_lines[prefix] == new_lines[prefix]:
        prefix += 1
    suffix = 0
    while (suffix < min(len(old_lines), len(new_lines)) - prefix
           and old_lines[len(old_lines) - 1 - suffix] == new_lines[len(new_lines) - 1 - suffix]):
        suffix += 1
    start = sum(map(len, old_lines[:prefix]))
    end = len(old) - sum(map(len, old_lines[len(old_lines) - suffix :]))
    return Change(start, end, "".join(new_lines[prefix : len(new_lines) - suffix]))


def rebase(old: str, new: str, current: str, target: tuple[int, int]) -> str:
    """Carry the change old -> new over to `current`, or raise StaleEdit.

    `target` is the (start, end) str range of the target symbol in `old`; the protected region is
    that range widened to cover the change. It must occur exactly once, unchanged, in `current`."""
    if current == old:
        return new
    change = minimal_change(old, new)
    # whole lines, so that a change inside a line of the target can never look like a match
    start = old.rfind("\n", 0, min(change.start, target[0])) + 1
    line_end = old.find("\n", max(change.end, target[1]))
    end = len(old) if line_end < 0 else line_end + 1
    protected = old[start:end]
    found = current.find(protected)
    while found > 0 and current[found - 1] != "\n":  # must start at a line start too
        found = current.find(protected, found + 1)
    if not protected or found < 0:
        raise StaleEdit("the target changed since the job started; the edit was not applied (run the action again)")
    if current.find(protected, found + 1) >= 0:
        raise StaleEdit("the target's text now appears more than once; the edit was not applied (run it again)")
    replaced = protected[: change.start - start] + change.text + protected[change.end - start :]
    return current[:found] + replaced + current[found + len(protected) :]


def position_at(text: str, offset: int, encoding: str) -> types.Position:
    """The LSP position of str offset `offset`, in the negotiated position encoding."""
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    prefix = text[line_start:offset]
    if encoding == types.PositionEncodingKind.Utf8:
        character = len(prefix.encode("utf-8"))
    elif encoding == types.PositionEncodingKind.Utf32:
        character = len(prefix)
    else:
        character = len(prefix.encode("utf-16-le")) // 2
    return types.Position(line=line, character=character)


def workspace_edit(
    uri: str, version: int | None, current: str, new: str, *, encoding: str, document_changes: bool
) -> types.WorkspaceEdit:
    """One TextEdit turning `current` (the document at `version`) into `new`. With
    `document_changes` the edit is a TextDocumentEdit stamped with `version`, so the client rejects
    it if the document moved on; otherwise the plain `changes` map is used."""
    change = minimal_change(current, new)
    edit = types.TextEdit(
        range=types.Range(start=position_at(current, change.start, encoding), end=position_at(current, change.end, encoding)),
        new_text=change.text,
    )
    if not document_changes:
        return types.WorkspaceEdit(changes={uri: [edit]})
    identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=identifier, edits=[edit])])


def new_file_edit(uri: str, text: str) -> types.WorkspaceEdit:
    """A file that does not exist yet: CreateFile, then insert its text (version None: new)."""
    identifier = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None)
    insert = types.TextEdit(range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)), new_text=text)
    return types.WorkspaceEdit(document_changes=[
        types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True)),
        types.TextDocumentEdit(text_document=identifier, edits=[insert]),
    ])
