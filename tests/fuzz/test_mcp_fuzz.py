"""The MCP server under fuzzing (issue 20, item 1): tool calls with wrong types, huge and hostile
paths, unknown tools and cancelled calls, through the real `mcp` client on the in-process server
(the scripted backend writes). Every call ends as a result or a tool error, never as a protocol
error or a crash; the server answers the next call; nothing outside the root is written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.client import Client

from swarm_lsp.server.mcp.app import create_mcp_server
from tests.fuzz.strategies import JSON
from tests.mcp.conftest import SOURCE, make_root, scripted_factory

EXAMPLES = int(os.environ.get("SWARM_LSP_FUZZ_EXAMPLES", "40"))
TOOLS = ["document", "generate_tests", "refactor", "audit", "token_report", "swarm_status", "memory_search", "no_such_tool"]
PATHS = st.sampled_from(["pkg/scale.py", "../outside.py", "/etc/passwd", "pkg/../../outside.py", "pkg/\x00.py",
                         "~/.ssh/id_rsa", "pkg/" + "a" * 5000, "", "notes.txt", "pkg", "//server/share/x.py",
                         "pkg/scale.py\n../outside.py"]) | st.text(max_size=60)
ARGUMENTS = st.fixed_dictionaries({}, optional={
    "path": PATHS | JSON, "symbol": st.sampled_from(["scale", "nope", ""]) | JSON, "line": JSON | st.integers(-5, 10**12),
    "apply": st.booleans() | JSON, "tiers": JSON | st.just(["ollama:fuzz"]), "instruction": st.text(max_size=100) | JSON,
    "query": st.text(max_size=100) | JSON, "k": JSON, "since": st.text(max_size=20) | JSON, "workspace": PATHS | JSON,
}) | st.dictionaries(st.text(max_size=10), JSON, max_size=5)
_TARGET = {"path": PATHS, "symbol": st.sampled_from(["scale", "nope", "Scale.x", ""]) | st.text(max_size=30)}
_OPTIONS = {"apply": st.booleans(), "tiers": st.just(["ollama:fuzz"]) | st.lists(st.text(max_size=20), max_size=2),
            "line": st.integers(-3, 10**9)}
SHAPED = {  # calls with the right shape and hostile values, so they get past argument validation
    "document": st.fixed_dictionaries(_TARGET, optional=_OPTIONS),
    "generate_tests": st.fixed_dictionaries(_TARGET, optional=_OPTIONS),
    "refactor": st.fixed_dictionaries({**_TARGET, "instruction": st.text(max_size=200)}, optional=_OPTIONS),
    "audit": st.fixed_dictionaries({"path": PATHS}, optional=_OPTIONS),
    "memory_search": st.fixed_dictionaries({"query": st.text(min_size=1, max_size=300)}, optional={"k": st.integers(-1, 60)}),
    "token_report": st.fixed_dictionaries({}, optional={"since": st.text(max_size=20), "workspace": PATHS}),
}
CALLS = st.one_of(st.tuples(st.sampled_from(TOOLS), ARGUMENTS),
                  st.sampled_from(sorted(SHAPED)).flatmap(lambda name: st.tuples(st.just(name), SHAPED[name])))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@pytest.mark.filterwarnings("error::RuntimeWarning")  # a numeric warning inside is a bug (a NaN embedding was one)
@FUZZ
@given(calls=st.lists(st.tuples(CALLS, st.booleans()).map(lambda c: (*c[0], c[1])), min_size=1, max_size=5))
def test_every_call_ends_as_a_result_or_a_tool_error(calls):
    with tempfile.TemporaryDirectory() as base:
        root = make_root(Path(base))
        run_calls(root, calls)
        assert (root.parent / "outside.py").read_text() == SOURCE
        assert sorted(p.name for p in root.parent.iterdir()) == ["outside.py", "ws"]


def run_calls(root: Path, calls: list) -> None:
    async def session() -> None:
        async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
            for name, arguments, cancel in calls:
                if cancel:  # a call cancelled at once: the client gives up, the server goes on
                    with anyio.move_on_after(0):
                        await client.call_tool(name, arguments)
                    continue
                result = await client.call_tool(name, arguments)  # a protocol error would raise here
                assert result.is_error in (True, False)
            status = await client.call_tool("swarm_status", {})
            assert not status.is_error, status

    anyio.run(session)
