"""Keeping a project's memory up to date and searching it. Incremental by content: a chunk is
embedded again only when its text changed; chunks of deleted files and symbols are removed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.memory.chunks import MAX_FILE_BYTES, Chunk, file_chunks, indexable
from swarm_lsp.swarm.memory.embedders import Embedder
from swarm_lsp.swarm.memory.lexical import BM25, fuse
from swarm_lsp.swarm.verify.workspace_copy import list_files

log = logging.getLogger(__name__)

EMBED_BATCH = 32
CANDIDATES = 100  # taken from each ranking before they are fused
MAX_OUTPUT_CHARS = 2000  # of an accepted output kept as an example, and of the code it is found by
Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


@dataclass
class IndexStats:
    files: int = 0  # files read
    chunks: int = 0  # chunks found in them
    embedded: int = 0  # new or changed, embedded now
    unchanged: int = 0
    removed: int = 0  # gone from the tree or the file
    skipped: list[str] = field(default_factory=list)  # files not read: why

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "chunks": self.chunks, "embedded": self.embedded,
                "unchanged": self.unchanged, "removed": self.removed, "skipped": self.skipped}


@dataclass(frozen=True)
class Hit:
    path: str
    symbol: str
    kind: str
    start_line: int
    end_line: int
    score: float  # cosine similarity, 1 = same direction
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "symbol": self.symbol, "kind": self.kind, "start_line": self.start_line,
                "end_line": self.end_line, "score": round(self.score, 4)}


@dataclass(frozen=True)
class _Lexical:
    count: int
    ids: list[str]
    ranker: BM25


class MemoryIndex:
    def __init__(self, root: Path, embedder: Embedder, collection: Any, outputs: Callable[[], Any] | None = None,
                 redact: Callable[[str], str] | None = None) -> None:
        self.root, self.embedder, self.collection = root.resolve(), embedder, collection
        self._bm25: _Lexical | None = None
        self._open_outputs, self._outputs = outputs, None
        # what leaves this machine (a team's server): secrets replaced before it is embedded or stored
        self._shown: Callable[[str], str] = redact or (lambda text: text)

    def outputs(self) -> Any:
        """The collection of accepted outputs (opened on first use); None when this index keeps none."""
        if self._outputs is None and self._open_outputs is not None:
            self._outputs = self._open_outputs()
        return self._outputs

    def remember(self, action: str, path: str, symbol: str, code: str, output: str) -> None:
        """Keep an accepted output, found later by the code it was written for (one per target)."""
        outputs = self.outputs()
        if outputs is None or not output.strip():
            return
        code, output = self._shown(code[:MAX_OUTPUT_CHARS]), self._shown(output[:MAX_OUTPUT_CHARS])
        outputs.upsert(ids=[f"{action}:{path}::{symbol}"], embeddings=self.embedder.embed([code]),
                       documents=[output], metadatas=[{"action": action, "path": path, "symbol": symbol}])

    def examples(self, action: str, code: str, k: int = 2) -> list[Hit]:
        """Earlier accepted outputs of `action` for the code most like `code` (score: that likeness)."""
        outputs = self.outputs()
        if outputs is None or k <= 0 or outputs.count() == 0:
            return []
        found = outputs.query(query_embeddings=self.embedder.embed([code[:MAX_OUTPUT_CHARS]]), n_results=min(k, outputs.count()),
                              where={"action": action}, include=["metadatas", "documents", "distances"])
        return [Hit(str(m["path"]), str(m["symbol"]), action, 0, 0, 1.0 - float(d), f"{action} output\n{doc}")
                for m, doc, d in zip(found["metadatas"][0], found["documents"][0], found["distances"][0])]

    def update(self, paths: Iterable[str] | None = None, *, progress: Progress | None = None,
               cancel: CancelToken | None = None) -> IndexStats:
        """Index the whole tree (`paths` None: files deleted since are dropped too) or the given
        workspace-relative files. Cancelling stops between batches; what was embedded is kept."""
        whole_tree = paths is None
        wanted = sorted(p for p in (list_files(self.root) if paths is None else paths) if indexable(p))
        stats = IndexStats()
        chunks: list[Chunk] = []
        for rel in wanted:
            found = self._read(rel, stats)
            if found is not None:
                chunks.extend(found)
        stats.files, stats.chunks = len(wanted) - len(stats.skipped), len(chunks)
        known = self._known(None if whole_tree else wanted)
        current = {c.id for c in chunks}
        gone = [i for i in known if i not in current]
        if gone:
            self.collection.delete(ids=gone)
            stats.removed = len(gone)
        todo = [c for c in chunks if known.get(c.id) != c.digest]
        if gone or todo:
            self._bm25 = None
        stats.unchanged = len(chunks) - len(todo)
        for start in range(0, len(todo), EMBED_BATCH):
            if cancel is not None and cancel.cancelled:
                raise Cancelled(cancel.reason or "indexing cancelled")
            batch = todo[start:start + EMBED_BATCH]
            texts = [self._shown(c.text) for c in batch]
            self.collection.upsert(ids=[c.id for c in batch], embeddings=self.embedder.embed(texts),
                                   documents=texts, metadatas=[c.metadata() for c in batch])
            stats.embedded += len(batch)
            if progress is not None:
                progress(stats.embedded, len(todo))
        log.info("memory %s: %d files, %d chunks, %d embedded, %d unchanged, %d removed", self.root,
                 stats.files, stats.chunks, stats.embedded, stats.unchanged, stats.removed)
        return stats

    def search(self, query: str, k: int = 5, *, where: dict[str, Any] | None = None, hybrid: bool = True) -> list[Hit]:
        """The k chunks that best answer `query`: the vector ranking fused with BM25's (`hybrid`;
        measured in bench/memory_recall.py), or the vector ranking alone. A hit's score is its cosine
        similarity to the query either way."""
        if not query.strip():
            return []
        count = self.collection.count()
        if count == 0:
            return []
        vector = self.embedder.embed([query])
        found = self.collection.query(query_embeddings=vector, n_results=min(max(k, CANDIDATES) if hybrid else k, count),
                                      where=where, include=["distances"])
        ids, similarity = found["ids"][0], {i: 1.0 - float(d) for i, d in zip(found["ids"][0], found["distances"][0])}
        if hybrid and where is None:
            lexical = self._lexical(count)
            ids = fuse(ids, [lexical.ids[j] for j in lexical.ranker.top(query, CANDIDATES)])
        ids = ids[:k]
        held = self.collection.get(ids=ids, include=["metadatas", "documents", "embeddings"])
        rows = {i: (m, doc, e) for i, m, doc, e in zip(held["ids"], held["metadatas"], held["documents"], held["embeddings"])}
        hits = []
        for i in ids:
            m, doc, embedding = rows[i]
            score = similarity.get(i)
            if score is None:  # found by its words alone
                score = float(sum(a * b for a, b in zip(vector[0], embedding)))
            hits.append(Hit(str(m["path"]), str(m["symbol"]), str(m["kind"]), int(m["start_line"]), int(m["end_line"]),
                            score, str(doc)))
        return hits

    def _lexical(self, count: int) -> _Lexical:
        """BM25 over every chunk held, rebuilt when the count changes (or after this index's own update)."""
        if self._bm25 is None or self._bm25.count != count:
            held = self.collection.get(include=["documents"])
            self._bm25 = _Lexical(count, list(held["ids"]), BM25([str(d) for d in held["documents"]]))
        return self._bm25

    def _read(self, rel: str, stats: IndexStats) -> list[Chunk] | None:
        path = self.root / rel
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                stats.skipped.append(f"{rel}: larger than {MAX_FILE_BYTES // 1000} KB")
                return None
            return file_chunks(rel, path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []  # deleted: its chunks go
        except (OSError, UnicodeDecodeError) as exc:
            stats.skipped.append(f"{rel}: {exc}")
            return None

    def _known(self, paths: list[str] | None) -> dict[str, str]:
        """id -> digest of what the collection holds (for `paths`, or all of it)."""
        known: dict[str, str] = {}
        if paths is not None and not paths:
            return known
        batches: list[list[str] | None] = [None] if paths is None else [paths[i:i + 500] for i in range(0, len(paths), 500)]
        for batch in batches:
            where = None if batch is None else {"path": {"$in": batch}}
            found = self.collection.get(where=where, include=["metadatas"])
            known.update({i: str(m.get("digest", "")) for i, m in zip(found["ids"], found["metadatas"])})
        return known
