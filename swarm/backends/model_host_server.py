"""The model host process (issue 17, step 4): llama.cpp's OpenAI-compatible server (llama-cpp-python's
own app) on one embedded model, on a loopback port, shared by every swarm-lsp process of the user
(`model_host.find_or_start` starts it, `shared_host` talks to it). Requests queue inside it (one
runs, the others wait; none is cut off), so two processes never run the model at once. It exits once it has served no request for `--idle-s`
seconds, so a closed editor does not leave a model in memory.

    python -m swarm_lsp.swarm.backends.model_host_server --model GGUF --alias NAME --port PORT
        [--n-ctx 4096] [--threads N] [--idle-s 900]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
from typing import Any

log = logging.getLogger("swarm_lsp.model_host")
IDLE_POLL_S = 2.0


class Activity:
    """ASGI middleware: requests in flight, and when the last one ended (a stream counts until its end)."""

    def __init__(self, app: Any) -> None:
        self.app, self.in_flight, self.last = app, 0, time.monotonic()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self.last = time.monotonic()

    def idle_for(self) -> float:
        return 0.0 if self.in_flight else time.monotonic() - self.last


async def serve(app: Any, port: int, idle_s: float) -> None:
    import uvicorn

    activity = Activity(app)
    server = uvicorn.Server(uvicorn.Config(activity, host="127.0.0.1", port=port, log_level="warning"))

    async def watch() -> None:
        while not server.should_exit:
            await asyncio.sleep(IDLE_POLL_S)
            if activity.idle_for() >= idle_s:
                log.warning("no request for %.0f s: the model host exits", idle_s)
                server.should_exit = True

    watcher = asyncio.ensure_future(watch())
    try:
        await server.serve()
    finally:
        watcher.cancel()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", required=True, help="the model name requests use")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--idle-s", type=float, default=900.0, help="exit after this long without a request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
    from swarm_lsp.swarm.backends.llamacpp_worker import MODEL_THREAD_NICE

    os.nice(MODEL_THREAD_NICE)  # below the editors' servers, as an in-process model thread runs
    from llama_cpp.server.app import create_app
    from llama_cpp.server.settings import ModelSettings, ServerSettings

    # interrupt_requests=False: a request waits for the one running instead of cutting it off (the
    # server's default ends the running stream early, which two processes sharing it would do to each other).
    app = create_app(server_settings=ServerSettings(host="127.0.0.1", port=args.port, interrupt_requests=False),
                     model_settings=[ModelSettings(model=args.model, model_alias=args.alias, n_ctx=args.n_ctx,
                                                   n_threads=args.threads, n_threads_batch=args.threads,
                                                   verbose=False)])
    asyncio.run(serve(app, args.port, args.idle_s))


if __name__ == "__main__":
    main()
