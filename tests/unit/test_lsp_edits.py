"""Pure parts of the language server: minimal edits, rebasing, position encodings, file creation."""

from __future__ import annotations

import pytest
from lsprotocol import types

from swarm_lsp.server.lsp.edits import StaleEdit, minimal_change, new_file_edit, position_at, rebase, workspace_edit

OLD = "import os\n\ndef f(x):\n    return x\n\ndef g():\n    pass\n"
NEW = 'import os\n\ndef f(x):\n    """Return x."""\n    return x\n\ndef g():\n    pass\n'
TARGET = (OLD.index("def f"), OLD.index("\n\ndef g"))


def test_minimal_change_keeps_common_prefix_and_suffix():
    change = minimal_change(OLD, NEW)
    assert OLD[: change.start] + change.text + OLD[change.end :] == NEW
    assert change.text == '    """Return x."""\n' and change.start == change.end == OLD.index("    return")


def test_rebase_onto_a_document_changed_elsewhere():
    current = "import os\nimport sys\n\ndef f(x):\n    return x\n\ndef g():\n    return 1\n"
    rebased = rebase(OLD, NEW, current, TARGET)
    assert rebased == 'import os\nimport sys\n\ndef f(x):\n    """Return x."""\n    return x\n\ndef g():\n    return 1\n'
    assert rebase(OLD, NEW, OLD, TARGET) == NEW


@pytest.mark.parametrize("current", [
    "import os\n\ndef f(x):\n    return x + 1\n\ndef g():\n    pass\n",  # the target's body changed
    "import os\n\ndef f(x):\n    return x\n\ndef f(x):\n    return x\n",  # now there twice
])
def test_rebase_refuses_when_the_target_changed_or_is_ambiguous(current):
    with pytest.raises(StaleEdit):
        rebase(OLD, NEW, current, TARGET)


@pytest.mark.parametrize(("encoding", "character"), [
    (types.PositionEncodingKind.Utf16, 4), (types.PositionEncodingKind.Utf8, 7), (types.PositionEncodingKind.Utf32, 3),
])
def test_positions_in_each_encoding(encoding, character):
    text = "x = 1\nsé😀z\n"  # é: 2 UTF-8 bytes / 1 UTF-16 unit; 😀: 4 bytes / 2 units
    offset = text.index("z")
    assert position_at(text, offset, encoding) == types.Position(line=1, character=character)


def test_workspace_edit_is_versioned_when_the_client_supports_it():
    edit = workspace_edit("file:///a.py", 7, OLD, NEW, encoding="utf-16", document_changes=True)
    [document_edit] = edit.document_changes
    assert document_edit.text_document.version == 7
    [text_edit] = document_edit.edits
    assert text_edit.range.start == types.Position(3, 0) == text_edit.range.end
    plain = workspace_edit("file:///a.py", 7, OLD, NEW, encoding="utf-16", document_changes=False)
    assert list(plain.changes) == ["file:///a.py"]


def test_a_new_file_is_created_then_filled():
    edit = new_file_edit("file:///ws/tests/test_new.py", "def test_x():\n    assert True\n")
    create, fill = edit.document_changes
    assert isinstance(create, types.CreateFile) and create.options.ignore_if_exists
    assert fill.text_document.version is None and fill.edits[0].new_text.startswith("def test_x")
