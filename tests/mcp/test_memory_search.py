"""`memory_search` over MCP: the memory is brought up to date before the search (a function added
since is found), results carry workspace-relative paths, and bad arguments are tool errors. Real
Chroma store (SWARM_LSP_MEMORY_DIR) and real WordLlama embeddings; the swarm is never built."""

from __future__ import annotations

from mcp.client import Client

from swarm_lsp.server.mcp.app import create_mcp_server

from .conftest import scripted_factory


async def test_memory_search_indexes_then_finds(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        found = (await client.call_tool("memory_search", {"query": "multiply each number by a factor"})).structured_content
        assert [(h["path"], h["symbol"], h["start_line"]) for h in found["hits"]] == [("pkg/scale.py", "scale", 1)]
        (root / "pkg" / "money.py").write_text("def to_cents(amount):\n    return round(amount * 100)\n")
        found = (await client.call_tool("memory_search", {"query": "convert dollars to cents", "k": 1})).structured_content
        assert found["hits"][0]["symbol"] == "to_cents" and found["hits"][0]["path"] == "pkg/money.py"


async def test_memory_search_refuses_bad_arguments(root):
    async with Client(create_mcp_server(root, swarm_factory=scripted_factory()), mode="legacy") as client:
        for arguments in ({"query": "   "}, {"query": "x", "k": 0}, {"k": 3}):
            result = await client.call_tool("memory_search", arguments)
            assert result.is_error, arguments
