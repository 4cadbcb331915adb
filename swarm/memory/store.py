"""Where the memory lives: a Chroma store per workspace in the user data folder
(`PersistentClient`), or, with `memory_url` set, a team's Chroma server (`HttpClient`). One
collection per project and embedder: vectors of two embedders never meet in one index."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import platformdirs

from swarm_lsp.swarm.errors import InputError, SwarmLspError
from swarm_lsp.swarm.memory.embedders import MEMORY_INSTALL_HINT, Embedder, EmbedderUnavailable

log = logging.getLogger(__name__)


class MemoryUnavailable(SwarmLspError):
    """The Chroma store or server cannot be opened: which, and why."""


def memory_dir() -> Path:
    """The user data folder's `memory/` (SWARM_LSP_MEMORY_DIR moves it, as the tests do)."""
    override = os.environ.get("SWARM_LSP_MEMORY_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir("swarm-lsp")) / "memory"


def project_key(workspace: Path) -> str:
    """Names a project the same way on every machine of a team when it has a git remote (so a
    shared server holds one index per project), else by its folder on this machine."""
    remote = _git_remote(workspace)
    source = remote or str(workspace.resolve())
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", workspace.resolve().name).strip("-")[:40] or "root"
    return f"{slug}-{hashlib.sha256(source.encode()).hexdigest()[:10]}"


def collection_name(workspace: Path, embedder: Embedder, kind: str = "code") -> str:
    embedder_slug = re.sub(r"[^a-zA-Z0-9]+", "-", embedder.name).strip("-")
    return f"{kind}-{project_key(workspace)}-{embedder_slug}"[:200]


def open_collection(workspace: Path, embedder: Embedder, *, memory_url: str | None = None,
                    folder: Path | None = None, kind: str = "code") -> Any:
    """The project's collection of `kind` for `embedder` (created empty the first time): "code" (its
    chunks) or "outputs" (accepted action results, shown as examples)."""
    try:
        import chromadb
        from chromadb.config import Settings
    except ImportError as exc:
        raise EmbedderUnavailable(MEMORY_INSTALL_HINT) from exc
    settings = Settings(anonymized_telemetry=False)
    where = memory_url or str(folder or memory_dir())
    try:
        if memory_url:
            host, port, ssl = _server_address(memory_url)
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        else:
            Path(where).mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=where, settings=settings)
        return client.get_or_create_collection(
            collection_name(workspace, embedder, kind), embedding_function=cast(Any, _Refusing(embedder.name)),
            metadata={"hnsw:space": "cosine", "embedder": embedder.name, "workspace": str(workspace.resolve())})
    except InputError:
        raise
    except Exception as exc:  # chromadb raises its own, httpx's and the Rust core's errors
        raise MemoryUnavailable(f"the memory store at {where} cannot be opened: {exc}") from exc


def _server_address(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"memory_url {url!r}: expected http://HOST:PORT (a Chroma server, `chroma run`)")
    ssl = parts.scheme == "https"
    return parts.hostname, parts.port or (443 if ssl else 8000), ssl


def _git_remote(workspace: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(workspace), "config", "--get", "remote.origin.url"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


class _Refusing:
    """Stands where Chroma would put its default embedding function (which downloads a model): the
    memory always passes its own vectors, so this is never asked to embed anything."""

    def __init__(self, embedder: str) -> None:
        self.embedder = embedder

    def __call__(self, input: Any) -> Any:
        raise MemoryUnavailable(f"Chroma asked to embed text itself; the memory embeds with {self.embedder}")

    embed_query = __call__

    @staticmethod
    def name() -> str:
        return "swarm-lsp"

    def get_config(self) -> dict[str, Any]:
        return {"embedder": self.embedder}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "_Refusing":
        return _Refusing(str(config.get("embedder", "")))

    def is_legacy(self) -> bool:
        return False

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]
