"""An action's edit to a file other than its document (the tests action's module), as LSP edits:
created through the editor or by the server, refused when the file moved on or has unsaved edits."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from lsprotocol import types

from swarm_lsp.server.lsp.documents import DocumentStore
from swarm_lsp.server.lsp.other_file import other_file_edit
from swarm_lsp.swarm.types import Edit


def fake_server(document_changes: bool = True, create: bool = True) -> SimpleNamespace:
    operations = [types.ResourceOperationKind.Create] if create else []
    capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(
        workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=document_changes,
                                                             resource_operations=operations)))
    return SimpleNamespace(client_capabilities=capabilities, store=DocumentStore("utf-16"), root=Path("/"))


def existing(path: Path, text: str) -> Edit:
    path.write_text(text)
    return Edit(str(path), os.stat(path).st_mtime_ns, "", text + "def test_new():\n    pass\n")


def test_a_new_module_is_created_by_the_editor_or_left_to_the_server(tmp_path):
    edit = Edit(str(tmp_path / "tests" / "test_m.py"), 0, "", "def test_a():\n    pass\n", created=True)
    create, insert = other_file_edit(fake_server(), edit).document_changes
    assert isinstance(create, types.CreateFile) and create.uri == (tmp_path / "tests" / "test_m.py").as_uri()
    assert insert.edits[0].new_text == edit.new_text
    assert other_file_edit(fake_server(create=False), edit) is None
    assert other_file_edit(fake_server(document_changes=False), edit) is None


def test_a_module_that_appeared_meanwhile_is_not_overwritten(tmp_path):
    (tmp_path / "test_m.py").write_text("# mine\n")
    edit = Edit(str(tmp_path / "test_m.py"), 0, "", "x = 1\n", created=True)
    with pytest.raises(ValueError, match="created after the action ran"):
        other_file_edit(fake_server(), edit)


def test_an_existing_module_gets_one_versioned_edit_from_its_disk_text(tmp_path):
    edit = existing(tmp_path / "test_m.py", "import os\n")
    server = fake_server()
    [change] = other_file_edit(server, edit).document_changes
    assert change.text_document.version is None  # not open in the editor
    uri = (tmp_path / "test_m.py").as_uri()
    server.store.open(uri, "import os\n", 4)
    [change] = other_file_edit(server, edit).document_changes
    assert change.text_document.version == 4
    assert change.edits[0].range.start == types.Position(1, 0) and "def test_new" in change.edits[0].new_text


def test_unsaved_editor_changes_or_a_newer_disk_copy_refuse_the_edit(tmp_path):
    edit = existing(tmp_path / "test_m.py", "import os\n")
    server = fake_server()
    server.store.open((tmp_path / "test_m.py").as_uri(), "import os\nimport sys\n", 2)
    with pytest.raises(ValueError, match="unsaved changes"):
        other_file_edit(server, edit)
    os.utime(tmp_path / "test_m.py", ns=(edit.version + 10**9, edit.version + 10**9))
    with pytest.raises(ValueError, match="changed on disk"):
        other_file_edit(fake_server(), edit)
