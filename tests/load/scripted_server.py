"""The real `swarm-lsp` command line (`--stdio`, `--mcp-http`, `--tcp`, ...) with every model tier
served by a scripted backend: for load tests and the soak benchmark only, where the point is the
server's queue, protocols, ledger and memory under many jobs, not what a model writes.

    python -m tests.load.scripted_server --stdio --mcp-http 127.0.0.1:PORT

Each model call waits SWARM_LSP_SCRIPTED_DELAY_S seconds (default 0.2, so jobs overlap as they
would on a real model) and then answers with the docstring in SCRIPTED_REPLY. Everything else
(configuration, queue, gates, sandbox, ledger, both front ends) is the product's own code.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from swarm_lsp.server import cli
from swarm_lsp.server.session import session as session_module
from swarm_lsp.swarm.backends.base import Reply
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.ledger import Ledger

SCRIPTED_REPLY = {
    "summary": "Multiply every value by a factor.",
    "params": {"values": "The numbers to scale.", "factor": "The multiplier."},
    "returns": "The scaled numbers.",
    "raises": {"ValueError": "If factor is zero."},
}


class SlowScriptedBackend(ScriptedBackend):
    """The scripted backend, with a pause before each answer (a model's time, without its CPU)."""

    def __init__(self, name: str, delay_s: float) -> None:
        super().__init__(name, lambda messages: SCRIPTED_REPLY)
        self.delay_s = delay_s

    async def chat(self, messages: Any, **kwargs: Any) -> Reply:
        cancel = kwargs.get("cancel")
        deadline = asyncio.get_running_loop().time() + self.delay_s
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            if cancel is not None:
                cancel.raise_if_cancelled()
            await asyncio.sleep(min(left, 0.05))
        reply = await super().chat(messages, **kwargs)
        self.calls.clear()  # a soak makes millions of calls: keep none of them
        return reply


def scripted_swarm(config: Any, workspace: Path | None = None, **_: Any) -> Swarm:
    delay_s = float(os.environ.get("SWARM_LSP_SCRIPTED_DELAY_S", "0.2"))
    backends: dict[str, SlowScriptedBackend] = {}

    def backend(name: str) -> SlowScriptedBackend:
        return backends.setdefault(name, SlowScriptedBackend(name, delay_s))

    return Swarm(SwarmSettings(tiers=tuple(config.tiers), candidates=config.candidates), backend, Ledger())


def trace_allocations(into: Path) -> None:
    """Each SIGUSR1 appends to `into` what grew since the signal before (the first one only sets
    the baseline): the 30 largest growths of allocated memory by traceback, and the 30 object types
    whose count grew most. For finding a leak in a soak, with SWARM_LSP_TRACEMALLOC=<file>."""
    import gc
    import signal
    import tracemalloc
    from collections import Counter

    tracemalloc.start(6)
    baseline: list[Any] = []

    def dump(*_: Any) -> None:
        snapshot = tracemalloc.take_snapshot()
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        if baseline:
            with into.open("a") as out:
                for stat in snapshot.compare_to(baseline[0], "traceback")[:30]:
                    out.write(f"{stat.size_diff / 1024:.0f} KiB in {stat.count_diff} blocks\n")
                    out.write("\n".join(f"    {line}" for line in stat.traceback.format()) + "\n")
                grown = sorted(((types[t] - baseline[1].get(t, 0), t) for t in types), reverse=True)[:30]
                out.write("objects: " + ", ".join(f"{name} +{count}" for count, name in grown) + "\n----\n")
        baseline[:] = [snapshot, types]

    signal.signal(signal.SIGUSR1, dump)


def main(argv: list[str]) -> int:
    session_module.build_swarm = scripted_swarm  # the one seam: the session's swarm factory
    if os.environ.get("SWARM_LSP_TRACEMALLOC"):
        trace_allocations(Path(os.environ["SWARM_LSP_TRACEMALLOC"]))
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
