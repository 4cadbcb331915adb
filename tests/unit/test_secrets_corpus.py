"""Issue 20, "Secrets": a corpus of real-format (fake) credentials in code, comments, strings and
test data across languages (tests/fixtures/secrets_corpus, see its README). None may reach the cloud
tier, every kind is caught (100% recall, asserted per kind), ordinary look-alike code comes back
byte for byte, and markers the cloud reply quotes are mapped back to the user's own values."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from swarm_lsp.swarm.backends.anthropic import AUDIT_ENV, AnthropicBackend
from swarm_lsp.swarm.backends.openai_compat import OpenAICompatBackend, Retries
from swarm_lsp.swarm.redact import load_dotenv_values, redact_messages, restore, restore_json

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "secrets_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
SECRETS: list[dict] = MANIFEST["secrets"]
NEGATIVES: list[dict] = MANIFEST["negatives"]
FILES = sorted({entry["file"] for entry in SECRETS} | {entry["file"] for entry in NEGATIVES})
NEGATIVE_ONLY = sorted({entry["file"] for entry in NEGATIVES} - {entry["file"] for entry in SECRETS})
MODEL = "claude-sonnet-4-6"
# The kinds the corpus must keep covering: a generator change that drops one fails here.
KINDS = {
    "aws_access_key_id", "aws_secret_access_key", "pem_pkcs8_gcp", "azure_storage_key", "anthropic_key",
    "openai_project_key", "openai_legacy_key", "github_pat_classic", "github_pat_fine", "github_oauth",
    "gitlab_pat", "slack_bot_token", "slack_webhook", "stripe_secret_key", "stripe_restricted_key",
    "twilio_api_key", "twilio_auth_token", "sendgrid_key", "npm_token", "pypi_token", "google_api_key",
    "heroku_api_key", "digitalocean_token", "vault_token", "pem_rsa", "pem_ec", "pem_openssh", "pem_encrypted",
    "jwt", "bearer_token", "postgres_url_password", "mysql_url_password", "mongodb_url_password",
    "redis_url_password", "amqp_url_password", "basic_auth_url_password", "dotenv_value", "high_entropy_assignment",
}


def source(name: str) -> str:
    return (CORPUS / name).read_text()


def pieces(entry: dict) -> list[str]:
    """What must not survive: the value, and each body line of a PEM block."""
    return [entry["value"], *entry.get("parts", [])]


def cloud_redacted(text: str, extra_secrets: list[str] | tuple[str, ...] = ()) -> str:
    """The text as the cloud backends send it: through `redact_messages`, the function they call."""
    [message], _ = redact_messages([{"role": "user", "content": text}], extra_secrets)
    return message["content"]


def leaks(text: str, entries: list[dict]) -> list[tuple[str, str, str]]:
    return [(e["kind"], e["file"], piece[:24]) for e in entries for piece in pieces(e) if piece in text]


def test_the_manifest_matches_the_files() -> None:
    assert {e["kind"] for e in SECRETS} == KINDS
    assert {e["where"] for e in SECRETS} == {"code", "comment", "docstring", "string", "test_data"}
    assert len(SECRETS) >= 60 and len(NEGATIVES) >= 30
    for entry in SECRETS + NEGATIVES:
        text = entry.get("value", entry.get("text"))
        assert text in source(entry["file"]), entry
    for entry in SECRETS:
        assert all(part in source(entry["file"]) for part in pieces(entry)), entry


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("dotenv", [False, True], ids=["patterns-only", "with-dotenv-values"])
def test_no_secret_survives_redaction(name: str, dotenv: bool) -> None:
    # patterns-only: the shapes alone must catch everything, even with no .env to learn values from
    extra = load_dotenv_values(CORPUS) if dotenv else []
    assert leaks(cloud_redacted(source(name), extra), [e for e in SECRETS if e["file"] == name]) == []


def test_recall_is_total_for_every_kind(capsys) -> None:
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    redacted = {name: cloud_redacted(source(name)) for name in FILES}
    for entry in SECRETS:
        total[entry["kind"]] += 1
        found[entry["kind"]] += not leaks(redacted[entry["file"]], [entry])
    with capsys.disabled():
        print("\nsecrets corpus recall (found/total):",
              ", ".join(f"{kind} {found[kind]}/{total[kind]}" for kind in sorted(total)))
    assert {kind: (found[kind], total[kind]) for kind in total} == {kind: (n, n) for kind, n in total.items()}


@pytest.mark.parametrize("entry", NEGATIVES, ids=lambda e: f"{e['file']}:{e['text'][:30]}")
def test_negatives_are_left_alone(entry: dict) -> None:
    assert entry["text"] in cloud_redacted(source(entry["file"]), load_dotenv_values(CORPUS)), entry["why"]


@pytest.mark.parametrize("name", NEGATIVE_ONLY)
def test_files_of_negatives_come_back_byte_for_byte(name: str) -> None:
    [message], summary = redact_messages([{"role": "user", "content": source(name)}], load_dotenv_values(CORPUS))
    assert message["content"] == source(name) and summary.count == 0


# --- the cloud tier itself: a local server replaying the Messages API ------------------------


def message_json(content: list[dict], stop_reason: str = "end_turn") -> dict:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": MODEL, "content": content,
            "stop_reason": stop_reason, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}


@pytest.fixture
async def anthropic_api(httpserver: HTTPServer, monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    for name in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_CONFIG_DIR", "ANTHROPIC_PROFILE", "ANTHROPIC_CUSTOM_HEADERS"):
        monkeypatch.delenv(name, raising=False)
    made: list[AnthropicBackend] = []

    def make() -> AnthropicBackend:
        made.append(AnthropicBackend(MODEL, extra_secrets=load_dotenv_values(CORPUS), max_attempts=1))
        return made[-1]

    yield make
    for backend in made:
        await backend.aclose()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (*_strings(key), *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def fenced(name: str) -> str:
    return f"File `{name}`:\n\n```\n{source(name)}```\n"


def captured(server: HTTPServer) -> str:
    """Every byte the cloud received: request line, headers and body."""
    return "\n".join(f"{request.method} {request.full_path}\n{request.headers}\n{request.get_data(as_text=True)}"
                     for request, _ in server.log)


async def test_no_corpus_secret_reaches_the_cloud(anthropic_api, httpserver: HTTPServer, tmp_path) -> None:
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        message_json([{"type": "text", "text": "Looks fine."}]))
    system = {"role": "system", "content": "You review code. " + source("config.yaml")}  # secrets in every role
    prompt = "Review these files.\n\n" + "\n".join(fenced(name) for name in FILES)
    history = [{"role": "assistant", "content": source(".env")}, {"role": "user", "content": "And now?"}]
    await anthropic_api().chat([system, {"role": "user", "content": prompt}, *history])

    wire = captured(httpserver)
    body = "\n".join(_strings(httpserver.log[0][0].get_json()))  # every string sent, JSON escapes undone
    assert "test-key" in wire  # the capture does hold the headers
    assert "def twilio():" in body and 'token_type = "bearer"' in body  # the code itself still goes
    assert leaks(wire, SECRETS) == [] and leaks(body, SECRETS) == []
    assert leaks((tmp_path / "audit.jsonl").read_text(), SECRETS) == []


async def test_an_action_escalating_to_the_cloud_sends_no_corpus_secret(httpserver: HTTPServer, monkeypatch,
                                                                        tmp_path) -> None:
    from swarm_lsp.swarm.backends import BackendSettings, create_backend
    from swarm_lsp.swarm.backends.scripted import ScriptedBackend
    from swarm_lsp.swarm.engine import Swarm, SwarmSettings
    from swarm_lsp.swarm.ledger import Ledger
    from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / "audit.jsonl"))
    answer = {"summary": "Build the Twilio client.", "params": {}, "returns": "The client."}
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        message_json([{"type": "tool_use", "id": "t1", "name": "answer", "input": answer}], "tool_use"))
    local, cloud = "llamacpp:scripted", f"anthropic:{MODEL}"
    backends = {local: ScriptedBackend(local, ["not json"] * 2),
                cloud: create_backend(cloud, BackendSettings(secrets=tuple(load_dotenv_values(CORPUS))))}
    swarm = Swarm(SwarmSettings(tiers=(local, cloud), candidates=2), backends.__getitem__,
                  Ledger(tmp_path / "ledger.sqlite3"))
    text = source("app_settings.py")
    await swarm.run(ActionRequest("document", DocumentSnapshot("app_settings.py", text, 1), "twilio",
                                  workspace=str(CORPUS)))
    await backends[cloud].aclose()

    assert httpserver.log, "the action never reached the cloud tier"
    assert "def twilio():" in captured(httpserver)
    assert leaks(captured(httpserver), SECRETS) == []


async def test_markers_the_reply_quotes_are_mapped_back(anthropic_api, httpserver: HTTPServer) -> None:
    config = source("config.rs")
    gitlab, vault = (next(e["value"] for e in SECRETS if e["file"] == "config.rs" and e["kind"] == kind)
                     for kind in ("gitlab_pat", "vault_token"))
    quoted = ("Rotate [REDACTED:gitlab_token] and [REDACTED:vault_token]. "
              "Both constants hold a [REDACTED:secret_assignment].")
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        message_json([{"type": "text", "text": quoted}]))
    reply = await anthropic_api().chat([{"role": "user", "content": fenced("config.rs")}])

    assert gitlab not in captured(httpserver) and vault not in captured(httpserver)
    assert reply.text == f"Rotate {gitlab} and {vault}. Both constants hold a [REDACTED:secret_assignment]."
    assert gitlab in config  # (the values are the user's own, from the file that was sent)


async def test_markers_in_a_structured_reply_are_mapped_back(anthropic_api, httpserver: HTTPServer) -> None:
    [aws] = [e["value"] for e in SECRETS if e["kind"] == "aws_access_key_id" and e["file"] == "app_settings.py"]
    code = f'AWS_ACCESS_KEY_ID = "{aws}"\nregion = "eu-west-1"\n'
    edited = {"code": 'AWS_ACCESS_KEY_ID = "[REDACTED:aws_access_key_id]"\nregion = "eu-central-1"\n',
              "[REDACTED:aws_access_key_id]": ["[REDACTED:aws_access_key_id]"]}
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        message_json([{"type": "tool_use", "id": "t1", "name": "answer", "input": edited}], "tool_use"))
    schema = {"type": "object", "properties": {"code": {"type": "string"}}}
    reply = await anthropic_api().chat([{"role": "user", "content": f"```python\n{code}```\nMove region."}],
                                       schema=schema)

    assert aws not in captured(httpserver)
    assert reply.parsed == {"code": f'AWS_ACCESS_KEY_ID = "{aws}"\nregion = "eu-central-1"\n', aws: [aws]}
    assert json.loads(reply.text) == reply.parsed


async def test_an_openai_compatible_cloud_endpoint_maps_markers_back(httpserver: HTTPServer, tmp_path) -> None:
    [key] = [e["value"] for e in SECRETS if e["kind"] == "sendgrid_key" and e["file"] == "client.ts"]
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [
        {"index": 0, "delta": {"role": "assistant", "content": "Revoke [REDACTED:sendgrid_key]."},
         "finish_reason": "stop"}]}
    httpserver.expect_request("/v1/chat/completions").respond_with_response(
        Response(f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n", content_type="text/event-stream"))
    backend = OpenAICompatBackend("openai:m", "m", [f"http://{httpserver.host}:{httpserver.port}/v1"],
                                  retries=Retries(attempts=1), cloud=True, audit_log=tmp_path / "audit.jsonl")
    try:
        reply = await backend.chat([{"role": "user", "content": f"sendgrid: `{key}`"}])
    finally:
        await backend.aclose()
    assert key not in captured(httpserver)
    assert reply.text == f"Revoke {key}."


# --- mapping back: the rules ---------------------------------------------------------------


def test_only_a_marker_that_stood_for_one_value_is_mapped_back() -> None:
    messages = [{"role": "user", "content": 'password = "first-Secret-1"\ntok = "ghp_' + "a1" * 18 + '"'},
                {"role": "user", "content": 'db_password = "second-Secret-2"'}]
    sent, summary = redact_messages(messages)
    assert summary.originals["[REDACTED:secret_assignment]"] == ("first-Secret-1", "second-Secret-2")
    reply = "Keep [REDACTED:github_token]; [REDACTED:secret_assignment] is ambiguous."
    assert restore(reply, summary.originals) == f"Keep ghp_{'a1' * 18}; [REDACTED:secret_assignment] is ambiguous."
    assert restore_json({"k": ["[REDACTED:github_token]", 3]}, summary.originals) == {"k": ["ghp_" + "a1" * 18, 3]}


def test_a_value_holding_an_earlier_marker_maps_back_whole() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXRoYXQ"
    text = f'password = "x:{jwt}"'
    [message], summary = redact_messages([{"role": "user", "content": text}])
    assert jwt not in message["content"]
    assert restore(message["content"], summary.originals) == text
