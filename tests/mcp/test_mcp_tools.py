"""The MCP server through the SDK's in-memory client (JSON-RPC framing in `legacy` mode, direct
dispatch in `auto` mode), on the zero-latency scripted backend; one subprocess test over stdio."""

from __future__ import annotations

import json
import os
import sys

import anyio
import pytest
from mcp.client import Client
from mcp.client.stdio import StdioServerParameters

from swarm_lsp.server import cli
from swarm_lsp.server.mcp.app import create_mcp_server
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger

from tests.fixtures.report_ledger import DAY2, workspaces, write_rows

from .conftest import GOOD, SOURCE, TIER, BlockingBackend, scripted_factory

ACTION_ARGS = {"path", "symbol", "line", "apply", "tiers"}


def text_of(result) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


@pytest.fixture(params=["legacy", "auto"])
def mode(request):
    return request.param


async def test_tools_are_listed_with_their_schemas_and_annotations(root, mode):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode=mode) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"document", "token_report", "swarm_status"} <= set(tools)
    document = tools["document"]
    assert ACTION_ARGS <= set(document.input_schema["properties"])
    assert document.input_schema["required"] == ["path"]
    assert document.input_schema["properties"]["apply"]["default"] is False
    assert "apply` defaults to false" in document.description
    assert document.annotations.destructive_hint is True and document.annotations.read_only_hint is False
    assert document.annotations.open_world_hint is False and document.annotations.idempotent_hint is False
    assert {"status", "tier", "diff", "applied", "evidence", "usage", "message", "elapsed_s"} <= set(
        document.output_schema["properties"])
    assert tools["token_report"].annotations.read_only_hint is True


async def test_dry_run_returns_a_diff_and_writes_nothing(root, mode):
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value, total, message):
        progress.append((value, total, message))

    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode=mode) as client:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"},
                                        progress_callback=on_progress)
    assert not result.is_error, text_of(result)
    data = result.structured_content
    assert data["status"] == "accepted" and data["tier"] == TIER
    assert data["applied"] is False and "dry run" in data["message"]
    assert data["diff"].startswith("--- a/pkg/scale.py\n+++ b/pkg/scale.py\n")
    assert '+    """Multiply every value by a factor.' in data["diff"]
    assert data["usage"]["local_tokens"] > 0 and data["usage"]["cloud_tokens"] == 0
    assert data["evidence"]["facts"]["params"] == ["values", "factor"]
    assert data["evidence"]["summary"].endswith("claims verified") and data["evidence"]["summary"] in data["message"]
    assert (root / "pkg" / "scale.py").read_text() == SOURCE
    messages = [message for _, _, message in progress]
    assert messages and messages[0].startswith("analysing pkg/scale.py")
    assert [value for value, _, _ in progress] == sorted(value for value, _, _ in progress)


async def test_line_targets_the_symbol_and_apply_writes_the_file(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "line": 3, "apply": True})
    data = result.structured_content
    assert data["status"] == "accepted" and data["applied"] is True, data
    written = (root / "pkg" / "scale.py").read_text()
    assert '"""Multiply every value by a factor.' in written and "ValueError" in written


async def test_a_file_changed_during_the_run_is_not_overwritten(root):
    target = root / "pkg" / "scale.py"

    def reply_after_editing_the_file(messages):
        target.write_text(SOURCE + "\n# edited by the user meanwhile\n")
        return GOOD

    server = create_mcp_server(root, swarm_factory=scripted_factory(reply_after_editing_the_file))
    async with Client(server, mode="legacy") as client:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale", "apply": True})
    data = result.structured_content
    assert data["status"] == "accepted" and data["applied"] is False
    assert "changed after it was read" in data["message"]
    assert target.read_text().endswith("# edited by the user meanwhile\n")


@pytest.mark.parametrize("path, why", [
    ("../outside.py", "resolves to"),
    ("__ABSOLUTE__", "outside the workspace root"),
    ("escape.py", "through the symlink"),
    ("pkg/missing.py", "does not exist"),
    ("pkg", "not a regular file"),
])
async def test_paths_outside_the_root_are_tool_errors_that_say_why(root, path, why):
    os.symlink(root.parent / "outside.py", root / "escape.py")
    if path == "__ABSOLUTE__":
        path = str(root.parent / "outside.py")
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        result = await client.call_tool("document", {"path": path, "symbol": "scale"})
    assert result.is_error
    assert why in text_of(result)
    if path != "pkg/missing.py" and path != "pkg":  # no absolute path reaches the client (sanitise.py)
        assert "outside the workspace root <workspace root>" in text_of(result)
    assert str(root.parent) not in text_of(result)


@pytest.mark.parametrize("arguments, why", [
    ({"path": "pkg/scale.py"}, "exactly one of `symbol`"),
    ({"path": "pkg/scale.py", "symbol": "scale", "line": 1}, "exactly one of `symbol`"),
    ({"path": "pkg/scale.py", "symbol": "nope"}, "nope"),
    ({"path": "notes.txt", "line": 1}, "notes.txt"),
    ({"path": "pkg/scale.py", "symbol": "scale", "tiers": ["bogus"]}, "kind:model"),
])
async def test_bad_arguments_are_tool_errors(root, arguments, why):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        result = await client.call_tool("document", arguments)
    assert result.is_error and why in text_of(result), text_of(result)
    assert (root / "pkg" / "scale.py").read_text() == SOURCE


async def test_tiers_override_the_configured_tiers_for_one_call(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        result = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale",
                                                     "tiers": ["llamacpp:qwen2.5-coder-0.5b"]})
    assert result.structured_content["tier"] == "llamacpp:qwen2.5-coder-0.5b"


async def test_token_report_and_resources_read_the_ledger(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"})
        report = (await client.call_tool("token_report", {})).structured_content
        resource = json.loads((await client.read_resource("swarm://report")).contents[0].text)
        recent = json.loads((await client.read_resource("swarm://ledger/recent")).contents[0].text)
        listed = {str(r.uri) for r in (await client.list_resources()).resources}
    assert {"swarm://report", "swarm://ledger/recent"} <= listed
    for data in (report, resource):
        for scope in ("today", "workspace", "all_time"):  # the workspace served: the root
            assert data[scope]["calls"] == 1 and data[scope]["local_tokens"] > 0
            assert data[scope]["actions_by_status"]["accepted"] == 1
        assert data["actions"]["accepted_locally"] == 1 and data["by_model"][TIER]["calls"] == 1
    [row] = recent
    assert row["backend"] == TIER and row["action"] == "document" and row["outcome"] == "ok"


async def test_token_report_is_the_cli_report(root, monkeypatch, capsys):
    folders = workspaces(root.parent)
    with Ledger() as ledger:  # the scripted swarm's ledger too: SWARM_LSP_LEDGER_PATH (tests/conftest.py)
        write_rows(ledger, folders)
    monkeypatch.chdir(root)  # the CLI serves the same workspace as the MCP server
    server = create_mcp_server(root, swarm_factory=scripted_factory())
    clean = server.swarm_state.sanitiser.value  # the CLI's report as the client may see it: no paths outside
    async with Client(server, mode="legacy") as client:
        for flags, arguments in (([], {}), (["--since", DAY2, "--workspace", str(folders["a"])],
                                            {"since": DAY2, "workspace": str(folders["a"])})):
            assert cli.main(["report", "--json", *flags]) == 0
            expected = clean(json.loads(capsys.readouterr().out))
            assert (await client.call_tool("token_report", arguments)).structured_content == expected
            if not flags:
                resource = json.loads((await client.read_resource("swarm://report")).contents[0].text)
                assert resource == expected
        relative = await client.call_tool("token_report", {"workspace": "../ws-a"})  # from the root
        bad = await client.call_tool("token_report", {"since": "soon"})
    assert relative.structured_content["filters"]["workspace"] == "<outside root>"  # ../ws-a, outside the root
    assert expected["actions"]["total"] == 1 and expected["actions"]["by_status"]["cancelled"] == 1
    assert bad.is_error and "'soon' is not a time" in text_of(bad)


async def test_cancelling_the_call_reaches_the_swarm_and_status_shows_the_running_call(root):
    backend = BlockingBackend("llamacpp:blocking")
    ledger = Ledger()

    def factory(_root):
        return Swarm(SwarmSettings(tiers=(backend.name,), candidates=1), lambda name: backend, ledger)

    async with Client(create_mcp_server(root, swarm_factory=factory), mode="legacy") as client:
        async with anyio.create_task_group() as group:
            scope = anyio.CancelScope()

            async def call():
                with scope:
                    await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"})

            group.start_soon(call)
            with anyio.fail_after(60):  # hang guards, not assertions
                await backend.started.wait()
            status = (await client.call_tool("swarm_status", {})).structured_content
            scope.cancel()
        with anyio.fail_after(60):
            while not ledger.recent_actions(1):
                await anyio.sleep(0.01)
        after = (await client.call_tool("swarm_status", {})).structured_content
    [running] = status["running"]
    assert (running["action"], running["origin"], running["target"]) == ("document", "mcp", "pkg/scale.py::scale")
    assert "writing candidate" in running["stage"]
    assert backend.cancelled
    [action] = ledger.recent_actions(1)
    assert action.status == "cancelled"
    assert after["running"] == [] and after["finished"] == 1


async def test_stdio_subprocess_lists_the_tools(root):
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "swarm_lsp.server.cli", "mcp", "--root", str(root)],
                                   env=dict(os.environ))
    with anyio.fail_after(60):
        async with Client(params) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            report = (await client.call_tool("swarm_status", {})).structured_content
    assert {"document", "token_report", "swarm_status"} <= names
    assert report["workspace"] == "<workspace root>" and report["swarm_loaded"] is False


def test_cli_refuses_a_root_that_is_not_a_folder(tmp_path, capsys):
    from swarm_lsp.server.cli import main

    assert main(["mcp", "--root", str(tmp_path / "missing")]) == 2
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.real
async def test_real_dry_run_document_on_the_embedded_model(tmp_path):
    """The embedded models (0.5B, then 1.5B) document examples/textutils.py::slugify via MCP."""
    import shutil
    from pathlib import Path

    workspace = tmp_path / "real"
    workspace.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "examples" / "textutils.py", workspace / "textutils.py")
    original = (workspace / "textutils.py").read_text()
    async with Client(create_mcp_server(workspace), mode="legacy", read_timeout_seconds=900) as client:
        result = await client.call_tool("document", {"path": "textutils.py", "symbol": "slugify", "tiers": [
            "llamacpp:qwen2.5-coder-0.5b", "llamacpp:qwen2.5-coder-1.5b"]})  # the 1.5B if the 0.5B's are all false
    data = result.structured_content
    assert not result.is_error and data["status"] == "accepted", text_of(result)
    assert data["tier"].startswith("llamacpp:qwen2.5-coder-") and data["applied"] is False
    assert '+    """' in data["diff"] and "max_len" in data["diff"]
    assert data["usage"]["local_tokens"] > 0 and data["usage"]["cloud_tokens"] == 0
    assert (workspace / "textutils.py").read_text() == original


TESTS_REPLY = ("```python\nimport pytest\nfrom pkg.scale import scale\n\n\ndef test_doubles():\n"
               "    assert scale([1, 2], 2) == [2, 4]\n\n\ndef test_zero_factor():\n"
               "    with pytest.raises(ValueError):\n        scale([1], 0)\n```")


async def test_generate_tests_dry_run_then_apply_creates_the_test_module(root, mode):
    factory = scripted_factory(lambda messages: TESTS_REPLY)
    async with Client(create_mcp_server(root, swarm_factory=factory), mode=mode) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert "generate_tests" in tools
        dry = (await client.call_tool("generate_tests", {"path": "pkg/scale.py", "symbol": "scale"})).structured_content
        assert dry["status"] == "accepted" and dry["applied"] is False, dry
        assert dry["diff"].startswith("--- /dev/null\n+++ b/tests/test_scale.py\n")
        evidence = dry["evidence"]
        assert evidence["tests_kept"] == ["test_doubles", "test_zero_factor"]
        assert evidence["line_coverage"] == 1.0 and evidence["branch_coverage"] == 1.0
        assert 0 < evidence["mutation_score"] <= 1
        assert not (root / "tests").exists()
        applied = (await client.call_tool("generate_tests", {"path": "pkg/scale.py", "symbol": "scale",
                                                             "apply": True})).structured_content
    assert applied["applied"] is True, applied
    assert "def test_zero_factor():" in (root / "tests" / "test_scale.py").read_text()


async def test_audit_tool_returns_findings_as_evidence_and_writes_nothing(root):
    (root / "pkg" / "hashing.py").write_text("import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n")
    factory = scripted_factory(lambda messages: {"untrusted_inputs": [], "operations": []})
    async with Client(create_mcp_server(root, swarm_factory=factory), mode="legacy") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert tools["audit"].annotations.read_only_hint is True
        result = (await client.call_tool("audit", {"path": "pkg/hashing.py", "symbol": "digest"})).structured_content
    assert result["status"] == "accepted" and result["diff"] == "" and result["applied"] is False
    [finding] = result["evidence"]["findings"]
    assert finding["cwe"] == 328 and finding["source"] == "bandit" and finding["path"] == "pkg/hashing.py"


async def test_audit_takes_a_path_alone_and_audits_the_whole_file(root):
    (root / "pkg" / "hashing.py").write_text(
        "import hashlib\nimport random\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n\n\n"
        "def token():\n    return random.random()\n")
    factory = scripted_factory(lambda messages: {"untrusted_inputs": [], "operations": []})
    async with Client(create_mcp_server(root, swarm_factory=factory), mode="legacy") as client:
        result = (await client.call_tool("audit", {"path": "pkg/hashing.py"})).structured_content
        both = await client.call_tool("audit", {"path": "pkg/hashing.py", "symbol": "digest", "line": 5})
    assert result["status"] == "accepted" and result["evidence"]["functions"] == 2
    assert {f["cwe"] for f in result["evidence"]["findings"]} == {328, 338}  # one in each function
    assert both.is_error and "at most one of `symbol`" in text_of(both)


async def test_candidates_for_one_call_and_an_actions_own_settings_apply(root):
    (root / "swarm-lsp.toml").write_text(f'tiers = ["{TIER}"]\ncandidates = 1\n[actions.document]\ncandidates = 2\n')
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory(lambda m: "not json")),
                      mode="legacy") as client:
        own = (await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale"})).structured_content
        call = (await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale",
                                                    "candidates": 3})).structured_content
        bad = await client.call_tool("document", {"path": "pkg/scale.py", "symbol": "scale", "candidates": 0})
    assert own["status"] == "rejected" and own["evidence"] is not None
    assert "after 2 attempts" in own["message"] and "after 3 attempts" in call["message"]
    assert bad.is_error
