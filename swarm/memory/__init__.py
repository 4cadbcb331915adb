"""The memory of a project (issue 18): a Chroma index of its functions and classes, searched by
meaning, and the context an action gets from it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from swarm_lsp.swarm.memory.embedders import Embedder, create_embedder
from swarm_lsp.swarm.memory.index import Hit, IndexStats, MemoryIndex
from swarm_lsp.swarm.memory.store import open_collection

__all__ = ["Hit", "IndexStats", "MemoryIndex", "open_memory"]

_embedders: dict[str, Embedder] = {}  # loaded once per process, shared by every workspace
_lock = threading.Lock()


def open_memory(root: Path, *, embedder: str = "wordllama", memory_url: str | None = None,
                threads: int | None = None, models_dir: str | Path | None = None,
                folder: Path | None = None) -> MemoryIndex:
    """The memory of the workspace at `root` (its store is created empty the first time)."""
    with _lock:
        if embedder not in _embedders:
            _embedders[embedder] = create_embedder(embedder, threads=threads, models_dir=models_dir)
        chosen = _embedders[embedder]
    return MemoryIndex(root, chosen, open_collection(root, chosen, memory_url=memory_url, folder=folder),
                       outputs=lambda: open_collection(root, chosen, memory_url=memory_url, folder=folder, kind="outputs"),
                       redact=_redactor(root) if memory_url else None)


def _redactor(root: Path) -> Callable[[str], str]:
    """Code bound for a team's server: secrets (and the workspace's .env values) replaced, as for the cloud."""
    from swarm_lsp.swarm.redact import load_dotenv_values, redact

    secrets = load_dotenv_values(root)
    return lambda text: redact(text, extra_secrets=secrets).text
