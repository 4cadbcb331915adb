"""Copying a workspace into a sandbox: what git would track (respecting .gitignore) or, outside
a git repo, everything but the usual build and environment folders; capped in files and bytes;
symlinks kept when they point inside the workspace, skipped otherwise."""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import stat
import subprocess
from pathlib import Path

from swarm_lsp.swarm.errors import SwarmLspError

log = logging.getLogger(__name__)

# Never copied, even when a git repo does not ignore them.
ALWAYS_SKIPPED = (
    ".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache"
)
# Also skipped when the workspace is not a git repo (no .gitignore to ask).
DEFAULT_IGNORED = (*ALWAYS_SKIPPED, "build", "dist", "*.egg-info")


class SandboxTooLarge(SwarmLspError):
    """The workspace exceeds the sandbox's byte or file-count cap."""


def is_within(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def list_files(folder: Path) -> list[str]:
    """The files under `folder` (relative, posix) that git would track, or that the built-in
    ignore list keeps outside a git repo."""
    entries = _git_entries(folder)
    return entries if entries is not None else _walk(folder, DEFAULT_IGNORED)


def copy_workspace(workspace: Path, root: Path, *, max_bytes: int, max_files: int) -> int:
    """Copy `workspace` into the empty folder `root`; the number of entries copied."""
    files = _check_caps(workspace, list_files(workspace), max_bytes, max_files)
    for rel in files:
        _copy_entry(workspace, root, rel)
    log.info("sandbox %s: copied %d entries from %s", root, len(files), workspace)
    return len(files)


def _git_entries(workspace: Path) -> list[str] | None:
    argv = ["git", "-C", str(workspace), "ls-files", "-z"]
    argv += ["--cached", "--others", "--exclude-standard"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("sandbox: git ls-files unavailable (%s); using built-in ignore list", exc)
        return None
    if done.returncode != 0:
        log.debug("sandbox: no usable git repo: %s", done.stderr.decode(errors="replace"))
        return None
    entries: list[str] = []
    for raw in done.stdout.split(b"\0"):
        rel = os.fsdecode(raw).rstrip("/")
        if not rel or any(part in ALWAYS_SKIPPED for part in rel.split("/")):
            continue
        path = workspace / rel
        if path.is_dir() and not path.is_symlink():  # submodule or nested repo
            entries.extend(f"{rel}/{sub}" for sub in _walk(path, DEFAULT_IGNORED))
        else:
            entries.append(rel)
    return sorted(set(entries))

def _walk(top: Path, ignored: tuple[str, ...]) -> list[str]:
    def skip(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pattern) for pattern in ignored)

    entries: list[str] = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel_dir = Path(dirpath).relative_to(top)
        kept_dirs = []
        for name in dirnames:
            if skip(name):
                continue
            if os.path.islink(os.path.join(dirpath, name)):
                entries.append((rel_dir / name).as_posix())  # copied as a link, not walked
            else:
                kept_dirs.append(name)
        dirnames[:] = kept_dirs
        entries.extend((rel_dir / name).as_posix() for name in filenames if not skip(name))
    return entries

def _check_caps(workspace: Path, entries: list[str], max_bytes: int, max_files: int) -> list[str]:
    kept: list[str] = []
    total = 0
    for rel in entries:
        try:
            info = (workspace / rel).lstat()
        except FileNotFoundError:  # in the index but deleted from the tree
            continue
        if not (stat.S_ISREG(info.st_mode) or stat.S_ISLNK(info.st_mode)):
            continue
        kept.append(rel)
        total += info.st_size if stat.S_ISREG(info.st_mode) else 0
        if len(kept) > max_files:
            raise SandboxTooLarge(
                f"workspace {workspace} has more than {max_files} files to copy "
                f"(max_files={max_files}); .gitignore generated files or raise the cap"
            )
        if total > max_bytes:
            raise SandboxTooLarge(
                f"workspace {workspace} has more than {max_bytes} bytes to copy "
                f"(max_bytes={max_bytes}, reached at {rel}); ignore large files in "
                ".gitignore or raise the cap"
            )
    return kept

def _copy_entry(workspace: Path, root: Path, rel: str) -> None:
    source = workspace / rel
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if not source.is_symlink():
        shutil.copy2(source, target, follow_symlinks=False)
        return
    resolved = Path(os.path.realpath(source))
    if not is_within(resolved, workspace):
        log.info("sandbox: skipping symlink %s -> %s (outside the workspace)", rel, resolved)
        return
    inside_copy = root / resolved.relative_to(workspace)
    os.symlink(os.path.relpath(inside_copy, target.parent), target)
