"""Path confinement: relative, `..`, absolute and symlink paths against the workspace root."""

from __future__ import annotations

import os

import pytest

from swarm_lsp.server.mcp.confine import PathOutsideRoot, resolve_file_inside, resolve_inside


@pytest.fixture
def root(tmp_path):
    ws = tmp_path / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "mod.py").write_text("x = 1\n")
    (tmp_path / "outside.py").write_text("secret = 1\n")
    return ws


def test_relative_path_resolves_inside(root):
    assert resolve_inside(root, "pkg/mod.py") == (root / "pkg" / "mod.py").resolve()


def test_absolute_path_inside_is_accepted(root):
    path = str((root / "pkg" / "mod.py").resolve())
    assert resolve_file_inside(root, path) == (root / "pkg" / "mod.py").resolve()


def test_dotdot_inside_the_root_is_fine(root):
    assert resolve_inside(root, "pkg/../pkg/mod.py") == (root / "pkg" / "mod.py").resolve()


def test_dotdot_escape_is_refused_with_the_resolved_path(root):
    with pytest.raises(PathOutsideRoot) as info:
        resolve_inside(root, "../outside.py")
    message = str(info.value)
    assert "`../outside.py` resolves to" in message
    assert str((root.parent / "outside.py").resolve()) in message
    assert f"outside the workspace root {root.resolve()}" in message


def test_absolute_path_elsewhere_is_refused(root):
    with pytest.raises(PathOutsideRoot, match="outside the workspace root"):
        resolve_inside(root, "/etc/passwd")


def test_sibling_with_common_prefix_is_refused(root):
    sibling = root.parent / "ws-evil"
    sibling.mkdir()
    with pytest.raises(PathOutsideRoot):
        resolve_inside(root, str(sibling / "x.py"))


def test_symlink_escaping_the_root_is_refused_and_named(root):
    os.symlink(root.parent / "outside.py", root / "link.py")
    with pytest.raises(PathOutsideRoot) as info:
        resolve_inside(root, "link.py")
    assert "through the symlink" in str(info.value) and "link.py" in str(info.value)


def test_symlinked_folder_escaping_the_root_is_refused(root):
    os.symlink(root.parent, root / "up")
    with pytest.raises(PathOutsideRoot, match="outside the workspace root"):
        resolve_inside(root, "up/outside.py")


def test_symlink_staying_inside_is_accepted(root):
    os.symlink(root / "pkg" / "mod.py", root / "alias.py")
    assert resolve_file_inside(root, "alias.py") == (root / "pkg" / "mod.py").resolve()


def test_root_given_through_a_symlink_still_matches(root, tmp_path):
    os.symlink(root, tmp_path / "ws-link")
    assert resolve_file_inside(tmp_path / "ws-link", "pkg/mod.py") == (root / "pkg" / "mod.py").resolve()


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_path_is_refused(root, bad):
    with pytest.raises(PathOutsideRoot, match="non-empty"):
        resolve_inside(root, bad)


def test_folder_and_missing_file_are_refused_when_a_file_is_needed(root):
    with pytest.raises(PathOutsideRoot, match="not a regular file"):
        resolve_file_inside(root, "pkg")
    with pytest.raises(PathOutsideRoot, match="does not exist"):
        resolve_file_inside(root, "pkg/missing.py")
