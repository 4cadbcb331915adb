"""What turns code and questions into vectors for the memory. Never Chroma's default embedding
function: it downloads a model at run time and fails offline. The choices, measured against each
other in docs/benchmarks.md:

- `wordllama`: WordLlama's l2_supercat 256-dimension token embeddings, shipped inside the
  `wordllama` wheel and checked against their SHA-256 before use (the files are third-party); a
  table lookup and a mean, so a whole repository embeds in seconds on a CPU.
- `llamacpp:<embedded model>`: the mean of the embedded GGUF's last hidden states (llama.cpp in this
  process, its own context, the model verified as for generation).
- `ollama:<model>`: Ollama's `/api/embed` (e.g. `ollama:nomic-embed-text`), on `OLLAMA_HOST`.

Each is called off the event loop; `embed` takes a batch and returns one vector per text.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from swarm_lsp.swarm.errors import InputError, SwarmLspError
from swarm_lsp.swarm.memory.lexical import as_words

WORDLLAMA_FILES = {  # wordllama 0.4.0.post1, MIT
    "weights/l2_supercat_256.safetensors": "64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5",
    "tokenizers/l2_supercat_tokenizer_config.json": "93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68",
}
LLAMACPP_EMBED_CTX = 512  # tokens of a chunk the model reads; a chunk is cut there
MEMORY_INSTALL_HINT = "the memory needs the `memory` extra: pip install 'swarm-lsp[memory]'"


class EmbedderUnavailable(SwarmLspError):
    """The embedder cannot run here: what is missing and how to get it."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class WordLlamaEmbedder:
    name = "wordllama"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from safetensors import safe_open
                    from tokenizers import Tokenizer
                    from wordllama.inference import WordLlamaInference  # type: ignore[import-untyped]
                except ImportError as exc:
                    raise EmbedderUnavailable(MEMORY_INSTALL_HINT) from exc
                package = Path(str(resources.files("wordllama")))
                paths = {rel: verified(package / rel, digest) for rel, digest in WORDLLAMA_FILES.items()}
                with safe_open(str(paths["weights/l2_supercat_256.safetensors"]), framework="np", device="cpu") as f:
                    table = f.get_tensor("embedding.weight")
                tokenizer = Tokenizer.from_file(str(paths["tokenizers/l2_supercat_tokenizer_config.json"]))
                self._model = WordLlamaInference(table, tokenizer)
            return self._model

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        # identifiers split into words on both sides (measured on the development questions of
        # bench/memory_recall.py: recall@1 10% -> 27%); a text with no words (punctuation) as it is
        words = [as_words(t) or t for t in texts]
        vectors = self._load().embed(words, norm=False, batch_size=32)
        return [_normalised([float(x) for x in row]) for row in vectors]


class LlamaCppEmbedder:
    def __init__(self, model: str, *, threads: int | None = None, models_dir: str | Path | None = None) -> None:
        from swarm_lsp.swarm import models

        try:
            self._embedded = models.get_model(model)
        except LookupError as exc:
            raise InputError(f"memory embedder llamacpp:{model}: {exc}") from exc
        self.name = f"llamacpp:{model}"
        self.threads, self.models_dir = threads, models_dir
        self._llama: Any = None
        self._lock = threading.Lock()  # one llama.cpp context: one batch at a time

    def embed(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            # each text cut at the batch size (LLAMACPP_EMBED_CTX tokens), mean-pooled, unit length
            return [list(v) for v in self._load().embed(texts, normalize=True, truncate=True)] if texts else []

    def _load(self) -> Any:
        if self._llama is None:
            from llama_cpp import LLAMA_POOLING_TYPE_MEAN

            from swarm_lsp.swarm.backends.llamacpp_worker import load_llama
            from swarm_lsp.swarm.models import ensure_verified

            path = ensure_verified(self._embedded, dest_dir=self.models_dir)
            self._llama = load_llama(path, n_ctx=LLAMACPP_EMBED_CTX, threads=self.threads, embedding=True,
                                     pooling_type=LLAMA_POOLING_TYPE_MEAN, n_batch=LLAMACPP_EMBED_CTX,
                                     n_ubatch=LLAMACPP_EMBED_CTX)
        return self._llama


class OllamaEmbedder:
    def __init__(self, model: str, host: str | None = None, timeout_s: float = 120.0) -> None:
        self.name, self.model, self.timeout_s = f"ollama:{model}", model, timeout_s
        host = host or os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
        self.host = (host if "://" in host else f"http://{host}").split(",")[0].rstrip("/")

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        body = json.dumps({"model": self.model, "input": texts}).encode()
        request = urllib.request.Request(f"{self.host}/api/embed", body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                vectors = json.loads(response.read())["embeddings"]
        except (OSError, ValueError, KeyError) as exc:
            raise EmbedderUnavailable(f"{self.name} on {self.host}: {exc} (is Ollama running, and `ollama pull "
                                      f"{self.model}` done?)") from exc
        if len(vectors) != len(texts):
            raise EmbedderUnavailable(f"{self.name}: {len(vectors)} embeddings for {len(texts)} texts")
        return [_normalised(v) for v in vectors]


def create_embedder(name: str, *, threads: int | None = None, models_dir: str | Path | None = None) -> Embedder:
    kind, _, model = name.partition(":")
    if name == "wordllama":
        return WordLlamaEmbedder()
    if kind == "llamacpp" and model:
        return LlamaCppEmbedder(model, threads=threads, models_dir=models_dir)
    if kind == "ollama" and model:
        return OllamaEmbedder(model)
    raise InputError(f"unknown memory embedder {name!r}: use wordllama, llamacpp:MODEL (an embedded model) "
                     "or ollama:MODEL (e.g. ollama:nomic-embed-text)")


def embedder_problem(name: str) -> str | None:
    """Why `name` cannot embed here (None: it can, as far as can be told without running it)."""
    kind, _, model = name.partition(":")
    try:
        if name == "wordllama":
            WordLlamaEmbedder()._load()
        elif kind == "llamacpp":
            from swarm_lsp.swarm import models

            state = models.status(models.get_model(model))
            if not state.verified_cached and not state.parts_installed:
                return f"{model} is not assembled: swarm-lsp models fetch {model}"
        elif kind != "ollama":
            create_embedder(name)
    except (SwarmLspError, LookupError) as exc:
        return str(exc)
    return None


def verified(path: Path, sha256: str) -> Path:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise EmbedderUnavailable(f"{path}: {exc}; reinstall it: pip install --force-reinstall wordllama==0.4.0.post1") from exc
    if digest.hexdigest() != sha256:
        raise EmbedderUnavailable(f"{path} does not match its SHA-256 (expected {sha256}, got {digest.hexdigest()}): "
                                  "refusing to load it; reinstall wordllama==0.4.0.post1")
    return path


def _normalised(vector: list[float]) -> list[float]:
    """Unit length; a vector with nothing in it (an empty text) becomes the first axis, so every
    text has a direction and no NaN reaches the index."""
    norm = sum(x * x for x in vector) ** 0.5
    if not norm or norm != norm:
        return [1.0] + [0.0] * (len(vector) - 1)
    return [float(x) / norm for x in vector]
