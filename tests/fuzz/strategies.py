"""What the fuzzer sends a language server: JSON-RPC messages with wrong types, impossible positions
and ranges, huge and odd documents, floods of edits and cancels, requests for closed documents and
unknown methods (`messages`), and frames that break the framing itself (`frames`)."""

from __future__ import annotations

import json

from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
NUMBER = st.integers(-3, 3) | st.integers(-2**31, 2**31) | st.sampled_from([2**53, -2**63, 10**30])
COMMANDS = ["swarm.run", "swarm.audit", "swarm.status", "swarm.cancel", "swarm.report", "swarm.memory", "no.such"]


def uris(workspace_uri: str) -> st.SearchStrategy[str]:
    return st.sampled_from([f"{workspace_uri}/mod.py", f"{workspace_uri}/mod.rs", f"{workspace_uri}/closed.py",
                            f"{workspace_uri}/../outside.py", "file:///etc/passwd", "untitled:Untitled-1", "",
                            "not a uri", f"{workspace_uri}/%00.py", f"{workspace_uri}/" + "a" * 300 + ".py"])


def texts() -> st.SearchStrategy[str]:
    return (st.text(max_size=300) | st.sampled_from(["def f(x):\n    return x\n", "def (:\n", "\ufeff\x00\ud7ff"])
            | st.integers(10_000, 400_000).map(lambda n: "x = 1\n" * (n // 6)))


def messages(workspace_uri: str) -> st.SearchStrategy[dict]:
    uri, position = uris(workspace_uri), st.fixed_dictionaries({"line": NUMBER, "character": NUMBER})
    span = st.fixed_dictionaries({"start": position, "end": position})
    document = st.fixed_dictionaries({"uri": uri, "version": NUMBER})
    ids = st.integers(0, 50) | st.text(max_size=5) | JSON
    notifications = st.one_of(
        st.builds(lambda u, lang, v, t: {"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": u, "languageId": lang, "version": v, "text": t}}}, uri, st.sampled_from(["python", "rust", "x"]),
            NUMBER, texts()),
        st.builds(lambda d, changes: {"method": "textDocument/didChange", "params": {
            "textDocument": d, "contentChanges": changes}}, document,
            st.lists(st.fixed_dictionaries({"text": texts()}, optional={"range": span}), max_size=20)),
        st.builds(lambda d: {"method": "textDocument/didSave", "params": {"textDocument": d}}, document),
        st.builds(lambda d: {"method": "textDocument/didClose", "params": {"textDocument": d}}, document),
        st.builds(lambda i: {"method": "$/cancelRequest", "params": {"id": i}}, ids),
        st.builds(lambda s: {"method": "workspace/didChangeConfiguration", "params": {"settings": s}}, JSON),
    )
    requests = st.one_of(
        st.builds(lambda d, r: {"method": "textDocument/codeAction", "params": {
            "textDocument": d, "range": r, "context": {"diagnostics": []}}}, document, span),
        st.builds(lambda c, a: {"method": "workspace/executeCommand", "params": {"command": c, "arguments": a}},
                  st.sampled_from(COMMANDS), st.lists(JSON, max_size=3) | st.just([{"uri": workspace_uri + "/mod.py"}])),
        st.builds(lambda m, p: {"method": m, "params": p}, st.text(max_size=30), JSON),
    ).flatmap(lambda message: ids.map(lambda i: {**message, "id": i}))
    wrong_types = st.builds(lambda m, p, i: {"method": m, "params": p, "id": i},
                            st.sampled_from(["textDocument/codeAction", "workspace/executeCommand",
                                             "textDocument/didOpen", "initialize", "shutdown"]) | JSON, JSON, ids)
    # `exit` ends the server by design (tests/lsp cover it); `shutdown` stays: what follows must be refused
    return st.one_of(notifications, requests, wrong_types).filter(lambda m: m.get("method") != "exit")


def framed(message: dict) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def frames() -> st.SearchStrategy[bytes]:
    """Bytes that break the framing but never declare more body than they carry, so a server that
    resynchronises on the next header can go on."""
    body = st.binary(max_size=200) | st.sampled_from([b"{", b"[]", b"42", b'"x"', b"\xff\xfe\x00", b'{"jsonrpc": "2.0"}',
                                                      b'{"jsonrpc": "1.0", "id": 1, "method": "shutdown"}'])
    return st.one_of(
        body.map(lambda b: b"Content-Length: %d\r\n\r\n" % len(b) + b),
        body.map(lambda b: b"Content-Length: %d\r\nContent-Type: x\r\n\r\n" % len(b) + b),
        body.map(lambda b: b"content-length:%d\r\n\r\n" % len(b) + b),
        st.binary(max_size=100).filter(lambda b: b"Content-Length" not in b),
        body.map(lambda b: b"Content-Length: abc\r\n\r\n" + b),
        body.map(lambda b: b"Content-Length: -5\r\n\r\n" + b),
        body.map(lambda b: b"X-Other: 1\r\n\r\n" + b),
        body.map(lambda b: b"Content-Length: %d\r\n\r\n" % max(len(b) - 3, 0) + b),
    )
