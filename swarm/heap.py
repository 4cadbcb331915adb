"""Long-lived objects out of the cyclic garbage collector's way.

A full (generation 2) collection walks every tracked object. In the language server, with its
imports (lsprotocol, pydantic, mcp, numpy, llama-cpp-python) and a loaded model, that is a 25-95 ms
pause of the event loop, several times a minute while a job allocates (measured with gc.callbacks
under bench/event_loop.py). `gc.freeze()` moves every object that exists now to a permanent
generation the collector never walks, so later collections walk only what was allocated since.
Called where the long-lived heap has just grown: when the server has started, after a model load.
"""

from __future__ import annotations

import gc
import logging
import time

log = logging.getLogger(__name__)


def settle() -> None:
    """Collect the garbage there is, then freeze the survivors (a cycle among them that becomes
    garbage later is never freed: acceptable for modules, models and their caches, which live as
    long as the process)."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    log.debug("heap settled: %d objects frozen in %.0f ms", gc.get_freeze_count(),
              1000 * (time.perf_counter() - started))
