"""Memory tests use a real Chroma store (in a temporary folder) and the real WordLlama embeddings,
wrapped to count what is embedded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from swarm_lsp.swarm.memory.embedders import WordLlamaEmbedder
from swarm_lsp.swarm.memory.index import MemoryIndex
from swarm_lsp.swarm.memory.store import open_collection

PROJECT = Path(__file__).parents[1] / "fixtures" / "memory_project"
_wordllama = WordLlamaEmbedder()  # loaded once for the whole session


class CountingEmbedder:
    """The real WordLlama embedder, recording every text it is asked to embed."""

    name = "wordllama"

    def __init__(self) -> None:
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.texts.extend(texts)
        return _wordllama.embed(texts)


@pytest.fixture
def project(tmp_path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(PROJECT, copy)
    return copy


@pytest.fixture
def memory(project, tmp_path) -> MemoryIndex:
    embedder = CountingEmbedder()
    store = tmp_path / "store"
    return MemoryIndex(project, embedder, open_collection(project, embedder, folder=store),
                       outputs=lambda: open_collection(project, embedder, folder=store, kind="outputs"))
