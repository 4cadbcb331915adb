"""Path confinement for MCP tools: every path a client names must resolve inside the workspace root.

Relative paths are taken relative to the root; symlinks are resolved before the check, so a link
inside the root that points elsewhere is refused just like `../x.py` or `/etc/passwd`.
"""

from __future__ import annotations

from pathlib import Path

from swarm_lsp.swarm.errors import InputError


class PathOutsideRoot(InputError):
    """A client-supplied path is not usable inside the workspace root; the message says why."""


def resolve_inside(root: Path, user_path: str) -> Path:
    """The resolved path `user_path` names, refusing anything that resolves outside `root`."""
    if not isinstance(user_path, str) or not user_path.strip():
        raise PathOutsideRoot("`path` must be a non-empty file path inside the workspace root")
    if "\x00" in user_path:
        raise PathOutsideRoot(f"`{user_path!r}` contains a NUL byte")
    real_root = root.resolve(strict=False)
    given = Path(user_path).expanduser() if user_path.startswith("~") else Path(user_path)
    candidate = given if given.is_absolute() else real_root / given
    resolved = candidate.resolve(strict=False)
    if resolved != real_root and real_root not in resolved.parents:
        via_link = _first_symlink(real_root, candidate)
        reason = f" (through the symlink {via_link})" if via_link else ""
        raise PathOutsideRoot(
            f"`{user_path}` resolves to {resolved}{reason}, outside the workspace root {real_root}"
        )
    return resolved


def resolve_file_inside(root: Path, user_path: str) -> Path:
    """Like `resolve_inside`, and the path must be an existing regular file."""
    resolved = resolve_inside(root, user_path)
    if not resolved.exists():
        raise PathOutsideRoot(f"`{user_path}` does not exist (looked for {resolved})")
    if not resolved.is_file():
        raise PathOutsideRoot(f"`{user_path}` is not a regular file ({resolved})")
    return resolved


def _first_symlink(root: Path, candidate: Path) -> Path | None:
    """The first symlink along `candidate` (for the error message), if any."""
    try:
        parts = candidate.relative_to(root).parts
    except ValueError:
        return None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None
