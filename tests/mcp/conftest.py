"""MCP test fixtures: a workspace root, and swarms built on the zero-latency scripted backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from swarm_lsp.swarm.backends.base import Reply, TokenUsage
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger

TIER = "llamacpp:qwen2.5-coder-0.5b"  # served by the scripted backend in these tests
SOURCE = '''def scale(values, factor):
    if factor == 0:
        raise ValueError("factor must not be zero")
    return [v * factor for v in values]
'''

GOOD = {
    "summary": "Multiply every value by a factor.",
    "params": {"values": "The numbers to scale.", "factor": "The multiplier."},
    "returns": "The scaled numbers.",
    "raises": {"ValueError": "If factor is zero."},
}


def make_root(base: Path) -> Path:
    """`base/ws` with pkg/scale.py, notes.txt and a configuration, and `base/outside.py` beside it."""
    ws = base / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "scale.py").write_text(SOURCE)
    (ws / "notes.txt").write_text("plain text\n")
    # The session's tiers and candidates come from the workspace configuration, as for a user.
    (ws / "swarm-lsp.toml").write_text(f'tiers = ["{TIER}"]\ncandidates = 1\n')
    (base / "outside.py").write_text(SOURCE)
    return ws


@pytest.fixture
def root(tmp_path) -> Path:
    return make_root(tmp_path)


def scripted_factory(reply: Callable[[list], Any] = lambda messages: GOOD) -> Callable[[Path], Swarm]:
    """A swarm factory whose every tier (whatever its name) is a ScriptedBackend calling `reply`."""

    def factory(root: Path) -> Swarm:
        backends: dict[str, ScriptedBackend] = {}

        def backend(name: str) -> ScriptedBackend:
            return backends.setdefault(name, ScriptedBackend(name, reply))

        settings = SwarmSettings(tiers=(TIER,), candidates=1)
        return Swarm(settings, backend, Ledger())  # the ledger path comes from the isolated test state

    return factory


class BlockingBackend:
    """Starts a call, signals `started`, then waits until cancelled; records that it was."""

    def __init__(self, name: str) -> None:
        self.name, self.is_cloud = name, False
        self.started = asyncio.Event()
        self.cancelled = False

    async def chat(self, messages, **kwargs) -> Reply:
        self.started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return Reply(text="{}", parsed={}, usage=TokenUsage(prompt=1, completion=1), model=self.name,
                     latency_s=0.0, finish_reason="stop")

    async def aclose(self) -> None:
        return None
