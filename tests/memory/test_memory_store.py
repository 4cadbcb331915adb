"""Where the memory lives and what it embeds with: a real Chroma server started by the test
(`chroma run` on a loopback port), the store's own refusal to embed with Chroma's default
function, the checksum of WordLlama's files, and Ollama's embedding endpoint (replayed: Ollama
cannot run here)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarm_lsp.swarm.errors import InputError
from swarm_lsp.swarm.memory.embedders import EmbedderUnavailable, OllamaEmbedder, create_embedder, verified
from swarm_lsp.swarm.memory.index import MemoryIndex
from swarm_lsp.swarm.memory.store import MemoryUnavailable, collection_name, open_collection, project_key

from .conftest import CountingEmbedder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture
def chroma_server(tmp_path) -> Iterator[str]:
    chroma = shutil.which("chroma") or str(Path(__import__("sys").executable).parent / "chroma")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("w")
    server = subprocess.Popen([chroma, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):  # up to a minute on a loaded machine; counted, not timed
            if _heartbeat(url) or server.poll() is not None:
                break
            time.sleep(0.1)
        assert server.poll() is None, (tmp_path / "chroma.log").read_text()
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_a_team_shares_one_index_on_a_chroma_server(chroma_server, project, tmp_path):
    first = CountingEmbedder()
    memory = MemoryIndex(project, first, open_collection(project, first, memory_url=chroma_server))
    assert memory.update().embedded == 17
    # a second process (a teammate's editor) opens the same project's collection on the server
    second = CountingEmbedder()
    again = MemoryIndex(project, second, open_collection(project, second, memory_url=chroma_server))
    assert again.update().embedded == 0 and second.texts == []
    assert again.search("decide which server stores a key", 1)[0].symbol == "shard_for"


def test_code_sent_to_a_team_server_has_its_secrets_replaced(chroma_server, project):
    from swarm_lsp.swarm.memory import open_memory

    key = "AKIA" + "N4GZFGL3ZJTISSXQ"  # an AWS-shaped fake key, split so no scanner flags this file
    (project / "shop" / "cloud.py").write_text(f'def connect():\n    key_id = "{key}"\n    return key_id\n')
    (project / ".env").write_text("SHOP_DB_PASSWORD=correct-horse-battery\n")
    (project / "shop" / "db.py").write_text('def dsn():\n    return "postgres://shop:correct-horse-battery@db/shop"\n')
    memory = open_memory(project, memory_url=chroma_server)
    memory.update()
    stored = "\n".join(memory.collection.get(include=["documents"])["documents"])
    assert "connect" in stored and "dsn" in stored
    assert key not in stored and "correct-horse-battery" not in stored and "[REDACTED:" in stored


def test_a_server_that_does_not_answer_is_a_clear_error(project):
    with pytest.raises(MemoryUnavailable, match=f"127.0.0.1:{_free_port()}|cannot be opened"):
        open_collection(project, CountingEmbedder(), memory_url=f"http://127.0.0.1:{_free_port()}")
    with pytest.raises(InputError, match="memory_url"):
        open_collection(project, CountingEmbedder(), memory_url="ftp://chroma")


def test_chroma_is_never_asked_to_embed_with_its_default_function(memory):
    memory.update()
    with pytest.raises(Exception, match="embeds with wordllama"):
        memory.collection.query(query_texts=["anything"], n_results=1)


def test_collections_are_per_project_and_embedder(project, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(project, other)
    wordllama, qwen = CountingEmbedder(), CountingEmbedder()
    qwen.name = "llamacpp:qwen2.5-coder-0.5b"
    names = {collection_name(project, wordllama), collection_name(other, wordllama), collection_name(project, qwen)}
    assert len(names) == 3
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "remote", "add", "origin", "https://example.org/shop.git"], check=True)
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    subprocess.run(["git", "-C", str(other), "remote", "add", "origin", "https://example.org/shop.git"], check=True)
    assert project_key(project).rsplit("-", 1)[1] == project_key(other).rsplit("-", 1)[1]  # one project, two clones


def test_wordllama_files_are_refused_when_their_checksum_differs(tmp_path):
    tampered = tmp_path / "weights.safetensors"
    tampered.write_bytes(b"not the weights")
    with pytest.raises(EmbedderUnavailable, match="does not match its SHA-256"):
        verified(tampered, "0" * 64)
    with pytest.raises(EmbedderUnavailable, match="reinstall"):
        verified(tmp_path / "missing.safetensors", "0" * 64)


def test_unknown_embedders_are_named_with_the_choices():
    with pytest.raises(InputError, match="wordllama, llamacpp:MODEL"):
        create_embedder("sentence-transformers")
    with pytest.raises(InputError, match="qwen2.5-coder-0.5b"):
        create_embedder("llamacpp:qwen-70b")


def test_ollama_embeddings_request_and_reply(httpserver):
    httpserver.expect_request("/api/embed", method="POST", json={"model": "nomic-embed-text", "input": ["a", "b"]}) \
        .respond_with_json({"model": "nomic-embed-text", "embeddings": [[3.0, 4.0], [0.0, 2.0]]})
    embedder = OllamaEmbedder("nomic-embed-text", host=httpserver.url_for("/"))
    assert embedder.embed(["a", "b"]) == [[0.6, 0.8], [0.0, 1.0]]  # unit length, as the index expects
    assert embedder.name == "ollama:nomic-embed-text"


def test_ollama_errors_say_what_to_do(httpserver):
    httpserver.expect_request("/api/embed").respond_with_data(json.dumps({"error": "model not found"}), status=404)
    with pytest.raises(EmbedderUnavailable, match="ollama pull nomic-embed-text"):
        OllamaEmbedder("nomic-embed-text", host=httpserver.url_for("/")).embed(["a"])
