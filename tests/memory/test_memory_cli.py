"""`swarm-lsp index` and `swarm-lsp memory search` in-process, on a real store in the user data
folder (a temporary one) with the real WordLlama embeddings."""

from __future__ import annotations

import json

import pytest

from swarm_lsp.server.cli import main


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("SWARM_LSP_MEMORY_DIR")  # the tests' own store: here the user data folder is tried
    for name in ("SWARM_LSP_MEMORY_URL", "SWARM_LSP_MEMORY_EMBEDDER"):
        monkeypatch.delenv(name, raising=False)


def test_index_then_search(project, tmp_path, capsys):
    assert main(["index", str(project), "--json", "--no-progress"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert {k: done[k] for k in ("workspace", "embedder", "files", "chunks", "embedded")} == {
        "workspace": str(project), "embedder": "wordllama", "files": 7, "chunks": 17, "embedded": 17}
    assert (tmp_path / "data" / "swarm-lsp" / "memory").is_dir()  # the store is in the user data folder

    assert main(["memory", "search", "decide which server stores a key", "--root", str(project), "--json", "-k", "2"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [h["symbol"] for h in found["hits"]][0] == "shard_for" and len(found["hits"]) == 2
    assert set(found["hits"][0]) == {"path", "symbol", "kind", "start_line", "end_line", "score"}

    assert main(["memory", "search", "decide which server stores a key", "--root", str(project)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert "web/hash.rs:5-9  function shard_for" in first


def test_indexing_one_file_and_again_embeds_nothing(project, capsys):
    assert main(["index", str(project / "shop" / "cart.py"), "--workspace", str(project), "--no-progress"]) == 0
    assert "6 functions and classes; 6 embedded, 0 unchanged" in capsys.readouterr().out
    assert main(["index", str(project / "shop"), "--workspace", str(project), "--no-progress"]) == 0
    assert "3 files, 11 functions and classes; 5 embedded, 6 unchanged" in capsys.readouterr().out


def test_searching_an_empty_memory_says_how_to_fill_it(project, capsys):
    assert main(["memory", "search", "anything", "--root", str(project)]) == 0
    assert f"run `swarm-lsp index {project}` first" in capsys.readouterr().err


def test_bad_input_is_a_usage_error(project, tmp_path, capsys):
    assert main(["index", str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert main(["index", str(tmp_path), "--workspace", str(project)]) == 2
    assert "outside the workspace" in capsys.readouterr().err
    assert main(["memory", "search", "x", "--root", str(project), "-k", "0"]) == 2
    assert "expected 1 to 50" in capsys.readouterr().err
