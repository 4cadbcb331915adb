"""The session's memory of its workspace: opened on first use, indexed whole in the background the
first time, then kept up to date as files are saved. One worker thread does all of it, off the
event loop; saves that arrive while it works are gathered into its next update."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from swarm_lsp.server.config import Config
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.memory import Hit, IndexStats, MemoryIndex, open_memory
from swarm_lsp.swarm.memory.store import MemoryUnavailable
from swarm_lsp.swarm.types import workspace_relative

log = logging.getLogger(__name__)


class MemoryKeeper:
    def __init__(self, root: Callable[[], Path], config: Callable[[], Config]) -> None:
        self._root, self._config = root, config  # both read at each use: initialize may move the root
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-lsp-memory")
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._scheduled: Future[None] | None = None
        self._memory: MemoryIndex | None = None
        self._key: tuple[Path, str, str | None] | None = None
        self.unavailable: str | None = None  # why the memory cannot be used, once known
        self.indexed_tree = False
        self.last_stats: IndexStats | None = None

    def memory(self) -> MemoryIndex | None:
        """The workspace's memory, or None when it is off or cannot be opened (`unavailable` says
        why). Blocks while it opens: call off the event loop."""
        config = self._config()
        if not config.memory:
            return None
        key = (self._root(), config.memory_embedder, config.memory_url)
        with self._lock:
            if self._memory is None or key != self._key:
                try:
                    self._memory = open_memory(key[0], embedder=key[1], memory_url=key[2], threads=config.threads,
                                               models_dir=config.models_dir)
                    self._key, self.unavailable, self.indexed_tree = key, None, False
                except SwarmLspError as exc:
                    if self.unavailable != str(exc):
                        log.warning("memory unavailable: %s", exc)
                    self._memory, self.unavailable = None, str(exc)
            return self._memory

    def saved(self, path: Path) -> Future[None] | None:
        """Note a saved file; its chunks are updated on the worker (the whole tree the first time)."""
        if not self._config().memory:
            return None
        rel = workspace_relative(path, self._root())
        if rel.startswith("/"):
            return None  # outside the workspace
        with self._lock:
            self._pending.add(rel)
            if self._scheduled is None or self._scheduled.done():
                self._scheduled = self._worker.submit(self._drain)
            return self._scheduled

    def _drain(self) -> None:
        while True:
            with self._lock:
                paths, self._pending = sorted(self._pending), set()
            if not paths:
                return
            memory = self.memory()
            if memory is None:
                return
            try:
                self.last_stats = memory.update(None if not self.indexed_tree else paths)
                self.indexed_tree = True
            except Exception:  # noqa: BLE001 - the memory must never take the language server down
                log.exception("memory update failed for %s", ", ".join(paths[:5]))
                return

    def search(self, query: str, k: int = 5, *, refresh: bool = False) -> list[Hit]:
        """The best chunks for `query`, after bringing the whole tree up to date with `refresh` (only
        what changed is embedded). Blocking: call off the event loop. MemoryUnavailable when the
        memory is off or unusable, saying why."""
        memory = self.memory()
        if memory is None:
            raise MemoryUnavailable(self.unavailable or "the memory is off (memory = false)")
        if refresh:
            self.last_stats, self.indexed_tree = memory.update(), True
        return memory.search(query, k)

    def status(self) -> dict[str, Any]:
        """What the memory holds and why it may not (blocking: call off the event loop)."""
        config = self._config()
        memory = self.memory()
        return {"enabled": config.memory, "embedder": config.memory_embedder, "server": config.memory_url,
                "unavailable": self.unavailable, "indexed_tree": self.indexed_tree,
                "chunks": memory.collection.count() if memory is not None else 0,
                "last_update": self.last_stats.to_dict() if self.last_stats is not None else None}

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
