"""The language server under fuzzing (issue 20, item 1): after any sequence of generated messages,
and after frames that break the framing, it is alive, answers a well-formed request, and has
written nothing outside its workspace. A short run here (fixed seed); bench/fuzz.py runs long.
Model jobs fail fast: the workspace's only tier is an Ollama host on a closed port."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.raw_lsp import RawServer
from tests.fuzz.strategies import framed, frames, messages

EXAMPLES = int(os.environ.get("SWARM_LSP_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


def make_workspace(root):
    workspace = root / "ws"
    workspace.mkdir()
    (workspace / "mod.py").write_text("import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    (workspace / "swarm-lsp.toml").write_text('tiers = ["ollama:fuzz"]\ncandidates = 1\n')
    return workspace


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if "ws" not in p.relative_to(folder).parts[:1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    workspace = make_workspace(root)
    before = listing(root)
    served = RawServer(workspace, env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    assert served.initialize() is not None
    yield served
    served.close()
    assert listing(root) == before, "the server wrote outside its workspace"


def probe(server: RawServer, shut_down: bool = False) -> None:
    """A well-formed request is answered: with its result, or after a `shutdown` request with
    InvalidRequest (the protocol: only `exit` is accepted then)."""
    answer = server.request("workspace/executeCommand", {"command": "swarm.status", "arguments": []})
    assert server.alive(), b"".join(server.stderr[-40:]).decode(errors="replace")
    assert answer is not None, "no answer"
    assert server.internal_errors == [], server.internal_errors[:3]  # a bad message is the client's error, never ours
    if shut_down:
        assert "result" in answer or answer["error"]["code"] == -32600, answer
    else:
        assert "result" in answer, answer


@FUZZ
@given(data=st.data())
def test_the_server_answers_after_any_messages(server, data):
    sent = data.draw(st.lists(messages(server.workspace.as_uri()), min_size=1, max_size=8))
    for message in sent:
        server.write(framed(message))
    server.shut_down = getattr(server, "shut_down", False) or any(m.get("method") == "shutdown" for m in sent)
    probe(server, server.shut_down)


@settings(FUZZ, max_examples=max(EXAMPLES // 4, 5))
@given(broken=st.lists(frames(), min_size=1, max_size=5))
def test_the_server_survives_broken_framing(tmp_path_factory, broken):
    workspace = make_workspace(tmp_path_factory.mktemp("framing"))
    served = RawServer(workspace, env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    try:
        assert served.initialize() is not None
        for frame in broken:
            served.write(frame)
        served.write(b"\r\n\r\n")  # a blank header block ends whatever the junk started
        probe(served)
    finally:
        served.close()


def test_shutdown_while_a_request_runs_is_answered(tmp_path):
    """Found by bench/fuzz.py: pygls's shutdown cancelled the other requests while iterating over
    them and ended in an internal error."""
    served = RawServer(make_workspace(tmp_path), env={"OLLAMA_HOST": "http://127.0.0.1:9"})
    try:
        assert served.initialize() is not None
        served.send({"id": 1, "method": "workspace/executeCommand",
                     "params": {"command": "swarm.audit", "arguments": [{"uri": (served.workspace / "mod.py").as_uri()}]}})
        answer = served.request("shutdown")
        assert answer is not None and "result" in answer, answer
        assert served.internal_errors == []
    finally:
        served.close()
