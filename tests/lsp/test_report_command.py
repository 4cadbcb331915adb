"""`swarm.report` against `swarm-lsp report --json` on the same ledger (tests/fixtures/report_ledger.py):
the same object, with and without filters; bad arguments are an error response."""

from __future__ import annotations

import json

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from swarm_lsp.server import cli
from swarm_lsp.swarm.ledger import Ledger
from tests.fixtures.report_ledger import DAY2, workspaces, write_rows


async def report(client: LanguageClient, *arguments) -> dict:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="swarm.report", arguments=list(arguments)))


async def test_swarm_report_is_the_cli_report(client: LanguageClient, monkeypatch, capsys):
    root = client.workspace_root
    folders = workspaces(root)
    with Ledger() as ledger:  # the file the server reads too: SWARM_LSP_LEDGER_PATH (tests/conftest.py)
        write_rows(ledger, folders)
    monkeypatch.chdir(root)  # the CLI serves the same workspace as the server
    for flags, options in (([], None), (["--since", DAY2, "--workspace", str(folders["b"])],
                                        {"since": DAY2, "workspace": str(folders["b"])})):
        assert cli.main(["report", "--json", *flags]) == 0
        expected = json.loads(capsys.readouterr().out)
        assert await report(client, *([options] if options else [])) == expected
    assert expected["actions"]["total"] == 3 and expected["avoided_cloud_tokens"]["estimate"] == 394


@pytest.mark.parametrize(("arguments", "message"), [
    ([{"since": "soon"}], "'soon' is not a time"),
    ([{"sinse": "7d"}], "expects no argument or one object"),
    (["7d", "x"], "expects no argument or one object"),
])
async def test_bad_report_arguments_are_invalid_params(client: LanguageClient, arguments, message):
    with pytest.raises(JsonRpcInvalidParams, match=message):
        await report(client, *arguments)
    assert (await report(client))["actions"]["total"] == 0  # still answering
