"""A whole action escalating from a failing local tier to the Anthropic tier, which is a local
server replaying the Messages API: the workspace's .env secrets never reach it, the call is
audited, and its tokens (cache included) land in the usage and the ledger as cloud tokens."""

from __future__ import annotations

import json

from swarm_lsp.swarm.backends import BackendSettings, create_backend
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger
from swarm_lsp.swarm.redact import load_dotenv_values
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

DB_PASSWORD = "hunter2-but-longer-9931"
SOURCE = f'''def connect(host, port):
    """Old."""
    return open_db(host, port, password="{DB_PASSWORD}")
'''
ANSWER = {"summary": "Open a connection to the database.",
          "params": {"host": "The database server name.", "port": "The TCP port it listens on."},
          "returns": "The open database connection."}
USAGE = {"input_tokens": 400, "output_tokens": 60, "cache_creation_input_tokens": 300, "cache_read_input_tokens": 0}
LOCAL, CLOUD = "llamacpp:scripted", "anthropic:claude-sonnet-4-6"


async def test_escalates_to_the_cloud_without_leaking_secrets(httpserver, monkeypatch, tmp_path):
    (tmp_path / ".env").write_text(f"DB_PASSWORD={DB_PASSWORD}\n")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    audit = tmp_path / "audit.jsonl"
    monkeypatch.setenv("SWARM_LSP_CLOUD_AUDIT_LOG", str(audit))
    reply = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-6",
             "content": [{"type": "tool_use", "id": "t1", "name": "answer", "input": ANSWER}],
             "stop_reason": "tool_use", "stop_sequence": None, "usage": USAGE}
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(reply)

    secrets = tuple(load_dotenv_values(tmp_path))
    backends = {LOCAL: ScriptedBackend(LOCAL, ["not json"] * 2),
                CLOUD: create_backend(CLOUD, BackendSettings(secrets=secrets))}
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    swarm = Swarm(SwarmSettings(tiers=(LOCAL, CLOUD), candidates=2), backends.__getitem__, ledger)
    request = ActionRequest("document", DocumentSnapshot("db.py", SOURCE, 3), "connect", workspace=str(tmp_path))
    result = await swarm.run(request)

    assert result.status == "accepted" and result.tier == CLOUD
    assert [a.tier for a in result.attempts] == [LOCAL, LOCAL, CLOUD]
    [(sent, _)] = httpserver.log
    body = sent.get_data(as_text=True)
    assert DB_PASSWORD not in body and "[REDACTED" in body
    assert "def connect(host, port)" in body  # the code itself still goes, minus the secret
    assert result.usage.cloud_tokens == 400 + 60 + 300
    assert result.usage.by_model[CLOUD].cache_write_tokens == 300
    [row] = [r for r in ledger.recent_calls(10) if r.cloud]
    assert (row.prompt_tokens, row.completion_tokens, row.cache_write_tokens) == (400, 60, 300)
    [audit_line] = audit.read_text().splitlines()
    assert DB_PASSWORD not in audit_line and "test-key" not in audit_line
    assert json.loads(audit_line)["outcome"] == "ok"
    await backends[CLOUD].aclose()
