"""Resolving the tests action's target: import path, line range, test module, refusals."""

from __future__ import annotations

import pytest

from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions.base import ActionInputError
from swarm_lsp.swarm.actions.tests_target import resolve_test_target
from swarm_lsp.swarm.types import ActionRequest

SOURCE = "import os\n\n\nclass Box:\n    @property\n    def size(self):\n        return 1\n\n\ndef outer():\n    def inner():\n        return 2\n    return inner\n"


def target_for(root, relative, symbol, text=SOURCE):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return resolve_test_target(ActionRequest("tests", read_snapshot(path), symbol, workspace=str(root)))


def test_a_method_imports_its_class_and_covers_its_own_lines_with_decorators(tmp_path):
    target = target_for(tmp_path, "pkg/box.py", "Box.size")
    assert target.target_import.statement == "from pkg.box import Box"
    assert (target.first_line, target.last_line) == (5, 7)
    assert target.test_path == "tests/test_box.py" and not target.test_exists
    assert target.import_roots == (".",) and not target.is_coroutine


def test_src_layout_and_package_init_modules(tmp_path):
    target = target_for(tmp_path, "src/pkg/__init__.py", "outer")
    assert target.target_import.statement == "from pkg import outer" and target.import_roots == (".", "src")


def test_an_existing_test_module_is_read_with_its_version(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_box.py").write_text("def test_old():\n    pass\n")
    target = target_for(tmp_path, "box.py", "Box")
    assert target.test_exists and target.test_text.startswith("def test_old")
    assert target.test_version == (tmp_path / "tests" / "test_box.py").stat().st_mtime_ns


@pytest.mark.parametrize("relative, symbol, message", [
    ("pkg/box.py", "outer.inner", "nested inside the function outer"),
    ("my-pkg/box.py", "Box", "cannot be imported as a Python module"),
    ("pkg/box.py", "Crate", "Crate"),
])
def test_targets_a_test_cannot_import_are_refused_with_the_reason(tmp_path, relative, symbol, message):
    with pytest.raises(ActionInputError, match=message):
        target_for(tmp_path, relative, symbol)


def test_a_file_outside_the_workspace_is_refused(tmp_path):
    (tmp_path / "elsewhere.py").write_text(SOURCE)
    (tmp_path / "ws").mkdir()
    request = ActionRequest("tests", read_snapshot(tmp_path / "elsewhere.py"), "Box", workspace=str(tmp_path / "ws"))
    with pytest.raises(ActionInputError, match="not inside the workspace"):
        resolve_test_target(request)
