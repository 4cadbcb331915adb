"""The bearer token of the MCP HTTP transport (DESIGN.md §8): generated on first use with
`secrets.token_urlsafe(32)` and kept in `user_config_dir("swarm-lsp")/mcp-token` (or the file named by
`SWARM_LSP_MCP_TOKEN_FILE`), created with mode 0600. A token file that group or others can read is
refused rather than used: anyone who can read it can drive the swarm."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from swarm_lsp.swarm.errors import SwarmLspError

TOKEN_ENV = "SWARM_LSP_MCP_TOKEN_FILE"
TOKEN_FILENAME = "mcp-token"


class TokenFileError(SwarmLspError):
    """The token file cannot be used (unsafe permissions, empty, unreadable)."""


def token_path(path: str | os.PathLike[str] | None = None) -> Path:
    """`path`, else `$SWARM_LSP_MCP_TOKEN_FILE`, else the file in the user config dir."""
    if path is not None:
        return Path(path).expanduser()
    override = os.environ.get(TOKEN_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("swarm-lsp")) / TOKEN_FILENAME


def _check_private(path: Path) -> None:
    if os.name == "nt":  # POSIX modes do not describe Windows ACLs
        return
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenFileError(
            f"token file {path} is accessible by group or others (mode {stat.S_IMODE(mode):03o}); "
            f"run `chmod 600 {path}` and try again")


def _read(path: Path) -> str:
    _check_private(path)
    token = path.read_text(encoding="utf-8").strip()
    if not token:
        raise TokenFileError(f"token file {path} is empty; delete it to have a new token generated")
    return token


def load_or_create_token(path: str | os.PathLike[str] | None = None) -> str:
    """The MCP HTTP bearer token, created (mode 0600) if the file does not exist yet."""
    file = token_path(path)
    if file.exists():
        return _read(file)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = secrets.token_urlsafe(32)
    try:
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created concurrently: use that one
        return _read(file)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return token
