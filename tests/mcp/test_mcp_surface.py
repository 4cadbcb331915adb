"""The MCP surface (issue 20, item 6) through a real SDK client session (JSON-RPC framing): every
tool's annotations against the table below, output capped with a truncation marker, and no secret,
home directory or absolute path outside the root in a result or an error. Plus the sanitiser alone."""

from __future__ import annotations

import json
import site
from pathlib import Path
from typing import Any

import pytest
from mcp.client import Client

from swarm_lsp.server.mcp.app import create_mcp_server
from swarm_lsp.server.mcp.sanitise import MAX_ITEMS, MAX_RESULT_CHARS, MAX_STRING_CHARS, Sanitiser
from swarm_lsp.swarm.errors import SwarmLspError

from .conftest import scripted_factory

# tool -> (readOnlyHint, destructiveHint, idempotentHint, openWorldHint). A new tool fails the test
# until it is added here, with hints chosen for it.
ANNOTATIONS = {
    "document": (False, True, False, False),
    "generate_tests": (False, False, False, False),
    "refactor": (False, True, False, False),
    "audit": (True, False, True, False),
    "token_report": (True, False, True, False),
    "swarm_status": (True, False, True, False),
    "memory_search": (True, False, True, False),  # writes only the memory's own store, never the workspace
}
FAKE_KEY = "sk-ant-api03-" + "Zq9" * 30 + "AA"  # an Anthropic-shaped fake key
NO_MODEL = {"untrusted_inputs": [], "operations": []}  # the audit model's answer: nothing to add


def everything(result: Any) -> str:
    """All the client got: text blocks and structured content."""
    texts = [getattr(block, "text", "") for block in result.content]
    return "\n".join(texts) + json.dumps(result.structured_content)


def assert_clean(text: str, root: Path) -> None:
    for leak in (str(root.parent), str(Path.home()) + "/", "/etc/passwd", "site-packages", FAKE_KEY):
        assert leak not in text, leak


async def test_every_tool_has_the_annotations_of_the_table(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == set(ANNOTATIONS)
    for name, tool in tools.items():
        hints = tool.annotations
        assert hints is not None, name
        got = (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint)
        assert got == ANNOTATIONS[name], name


async def test_a_refused_escape_shows_no_outside_path(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        escape = await client.call_tool("document", {"path": "../" * 40 + "etc/passwd", "symbol": "x"})
        absolute = await client.call_tool("document", {"path": "/etc/passwd", "symbol": "x"})
    for result, given in ((escape, "../" * 40 + "etc/passwd"), (absolute, "/etc/passwd")):
        text = everything(result)
        assert result.is_error and "resolves to <outside root>, outside the workspace root <workspace root>" in text
        assert_clean(text.replace(f"`{given}`", ""), root)  # a relative argument may be echoed as given
    assert "`<outside root>` resolves to" in everything(absolute)  # an absolute one is not


async def test_a_library_error_with_a_site_packages_path_is_sanitised(root):
    library = site.getsitepackages()[0]

    def broken(_root):
        raise SwarmLspError(f"cannot load {library}/llama_cpp/lib/libllama.so: invalid ELF header")

    async with Client(create_mcp_server(root, swarm_factory=broken), mode="legacy") as client:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"})
    text = everything(result)
    assert result.is_error and "cannot load <outside root>: invalid ELF header" in text
    assert library not in text
    assert_clean(text, root)


async def test_a_secret_quoted_by_an_audit_finding_is_redacted(root):
    (root / "pkg" / "creds.py").write_text(
        f'import hashlib\n\n\ndef login(data):\n    auth_token = "{FAKE_KEY}"\n'
        '    return hashlib.md5(data + auth_token).hexdigest()\n')
    server = create_mcp_server(root, swarm_factory=scripted_factory(lambda messages: NO_MODEL))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("audit", {"path": "pkg/creds.py"})
    findings = result.structured_content["evidence"]["findings"]
    assert {f["cwe"] for f in findings} == {259, 328}  # the hard-coded secret is still reported
    assert any("[REDACTED:" in f["snippet"] for f in findings)
    assert all(f["path"] == "pkg/creds.py" for f in findings)  # inside the root: relative
    assert_clean(everything(result), root)


async def test_many_findings_are_capped_with_a_marker(root):
    lines = "".join(f"    h{i} = hashlib.md5(data).hexdigest()\n" for i in range(MAX_ITEMS + 30))
    (root / "pkg" / "many.py").write_text(f"import hashlib\n\n\ndef digests(data):\n{lines}    return h0\n")
    server = create_mcp_server(root, swarm_factory=scripted_factory(lambda messages: NO_MODEL))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("audit", {"path": "pkg/many.py", "symbol": "digests"})
    evidence = result.structured_content["evidence"]
    assert len(evidence["findings"]) == MAX_ITEMS
    marker = evidence["findings_truncated"]
    assert marker.startswith("[truncated by swarm-lsp: 30 of 230 items left out") and "`symbol`" in marker


async def test_a_huge_result_of_any_tool_is_capped_with_a_marker(root):
    server = create_mcp_server(root, swarm_factory=scripted_factory())

    def huge() -> dict[str, Any]:  # a tool added later gets the same caps
        return {"diff": "+x\n" * 200_000, "message": f"read {root}/big.txt and {Path.home()}/notes",
                "rows": list(range(MAX_ITEMS * 3))}

    server.add_tool(huge, name="huge", structured_output=True)
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("huge", {})
    data = result.structured_content
    assert len(data["diff"]) < MAX_STRING_CHARS + 300
    assert "[truncated by swarm-lsp: " in data["diff"] and "apply=true still writes the whole edit" in data["diff"]
    # the budget is spent, yet a short string keeps its start; the message says the diff was cut
    assert data["message"].startswith("read big.txt and <outside root>; the diff shown is cut")
    assert len(data["rows"]) == MAX_ITEMS and data["rows_truncated"].startswith("[truncated by swarm-lsp: 400 of 600")
    # the cap counts characters of the strings; their JSON text escapes each newline as two
    assert len(result.content[0].text) < 2 * MAX_RESULT_CHARS + 10_000


def test_the_sanitiser_shows_paths_relative_and_hides_the_rest(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / ".env").write_text("DATABASE_URL=postgres-very-private-value\n")
    clean = Sanitiser(root, home=Path("/home/alice")).text
    assert clean(f"{root}/pkg/a.py:3 in {root}") == "pkg/a.py:3 in <workspace root>"
    assert clean("/home/alice/.ssh/id_rsa ~/x /home/alice") == "<outside root> <outside root> <outside root>"
    assert clean("file:///etc/hosts C:\\Users\\alice\\x.py") == "<outside root> <outside root>"
    kept = "https://example.com/a/b x/y a / b // note --- /dev/null #!/usr/bin/env python"
    assert clean(kept) == kept
    assert clean("dsn = postgres-very-private-value") == "dsn = [REDACTED:known_secret]"  # a .env value


@pytest.mark.parametrize("size", [10, MAX_STRING_CHARS + 1])
def test_a_string_is_cut_only_over_the_cap(tmp_path, size):
    value = Sanitiser(tmp_path, extra_secrets=[]).value({"text": "y" * size})["text"]
    assert (value == "y" * size) == (size <= MAX_STRING_CHARS)
