"""Files on disk: finding the workspace root, reading a versioned snapshot, writing an edit safely."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.types import DocumentSnapshot, Edit, workspace_relative

WORKSPACE_MARKERS = ("pyproject.toml", "swarm-lsp.toml", ".git")


class StaleFile(SwarmLspError):
    """The file changed between reading it and applying an edit computed from it."""


def find_workspace(path: Path) -> Path:
    """The nearest folder at or above `path` holding a workspace marker; else the path's folder."""
    start = path.resolve()
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in WORKSPACE_MARKERS):
            return candidate
    return folder


def read_snapshot(path: Path, root: Path | None = None) -> DocumentSnapshot:
    """Read a file as UTF-8 text; its version is the modification time in nanoseconds. With `root`,
    the snapshot's path is relative to it (when the file is inside)."""
    with open(path, "rb") as handle:
        version = os.fstat(handle.fileno()).st_mtime_ns
        data = handle.read()
    # newline="" semantics: keep \r\n so that edits and diffs are byte-exact
    shown = workspace_relative(path, root) if root is not None else str(path)
    return DocumentSnapshot(path=shown, text=data.decode("utf-8"), version=version, version_kind="mtime")


def is_inside(path: Path, root: Path) -> bool:
    """Whether `path` (symlinks resolved) is `root` or below it."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(root))
    return real == base or base in real.parents


def write_if_unchanged(path: Path, snapshot: DocumentSnapshot, new_text: str) -> None:
    """Atomically replace `path` with `new_text` (temp file + rename), refusing if it changed on disk."""
    current = read_snapshot(path)
    if current.text != snapshot.text or current.version != snapshot.version:
        raise StaleFile(f"{path} changed after it was read; the edit was not applied (run again)")
    _replace(path, new_text)


def write_other_file(edit: Edit, workspace: Path) -> Path:
    """Write an edit to a file other than the action's document, inside `workspace`: created only
    if it still does not exist, replaced only if its version (mtime_ns) is the one the action read."""
    path = Path(os.path.realpath(workspace / edit.path))
    root = Path(os.path.realpath(workspace))
    if root not in path.parents:
        raise StaleFile(f"{edit.path} is outside the workspace {root}; the edit was not applied")
    if edit.created:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise StaleFile(f"{path} was created after the action ran; the edit was not applied (run again)") from None
        with os.fdopen(fd, "wb") as handle:
            handle.write(edit.new_text.encode("utf-8"))
        return path
    if not path.exists() or os.stat(path).st_mtime_ns != edit.version:
        raise StaleFile(f"{path} changed after it was read; the edit was not applied (run again)")
    _replace(path, edit.new_text)
    return path


def _replace(path: Path, new_text: str) -> None:
    mode = os.stat(path).st_mode & 0o7777
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".swarm-lsp.tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(new_text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
