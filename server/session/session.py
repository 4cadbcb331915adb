"""`Session`: what one swarm-lsp process serves from, whichever front ends it runs (CLI, LSP, MCP,
or LSP and MCP together): the configuration, the swarm (models loaded once, one ledger), one run
queue on one event loop, and the run itself: snapshot + validated settings -> `Swarm.run` -> plan."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarm_lsp.server.config import Config
from swarm_lsp.server.session.build import build_swarm
from swarm_lsp.server.session.edit_plan import EditPlan
from swarm_lsp.server.session.job_settings import JobSettings, job_settings
from swarm_lsp.server.session.memory import MemoryKeeper
from swarm_lsp.server.session.queue import QueuedRun, RunQueue
from swarm_lsp.server.workspace import read_snapshot
from swarm_lsp.swarm.actions import get_action
from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.engine import Swarm
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.events import Event, EventSink
from swarm_lsp.swarm.types import ActionRequest, ActionResult, DocumentSnapshot

log = logging.getLogger(__name__)

SwarmFactory = Callable[[Config, Path], Swarm]
LOOP_WAIT_S = 60.0  # how long a call from another thread waits for the session's loop to start
# Settings that decide the loaded backends: a change rebuilds the swarm (models reload).
BACKEND_KEYS = ("n_ctx", "threads", "repeat_penalty", "models_dir", "ledger_path")


class SessionNotReady(SwarmLspError):
    """A call came from another thread before the session's event loop started."""


@dataclass
class RunOutcome:
    request: ActionRequest
    result: ActionResult
    plan: EditPlan
    run: QueuedRun


class Session:
    def __init__(self, root: Path, config: Config | None = None, swarm_factory: SwarmFactory | None = None):
        self.root = Path(root).resolve()
        self.config = config or Config()
        self.queue = RunQueue(self.config.max_queued_jobs)
        self._factory = swarm_factory or (lambda config, root: build_swarm(
            config, workspace=root, memory=lambda workspace: self.memory.memory()))
        self._swarm: Swarm | None = None
        self._swarm_key: tuple[Any, ...] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_ready = threading.Event()
        # Set when another front end owns the loop and binds it as it starts (combined mode): calls
        # from other threads then wait for it instead of making their own loop the session's.
        self.loop_owned_elsewhere = False
        self.memory = MemoryKeeper(lambda: self.root, lambda: self.config)

    # ---- configuration and the swarm -----------------------------------------------------------

    def configure(self, config: Config) -> None:
        """Use `config` from the next run on (running runs keep theirs); the models reload only
        when a setting that decides them changed."""
        self.config = config
        self.queue.max_queued = config.max_queued_jobs

    @property
    def loaded(self) -> bool:
        return self._swarm is not None

    @property
    def swarm(self) -> Swarm:
        key = tuple(getattr(self.config, name) for name in BACKEND_KEYS)
        if self._swarm is None or key != self._swarm_key:
            self._swarm, self._swarm_key = self._factory(self.config, self.root), key
        return self._swarm

    def job_settings(self, kind: str, overrides: Mapping[str, Any] | None, source: str) -> JobSettings:
        """Validated settings for one job; a ConfigError (an InputError) names a bad key."""
        return job_settings(self.config, get_action(kind), overrides, source)

    def read(self, path: Path) -> DocumentSnapshot:
        """A file as the snapshot an action works on: path relative to the root, version its mtime."""
        return read_snapshot(path, self.root)

    # ---- runs ------------------------------------------------------------------------------------

    def bind_loop(self) -> None:
        """Make the running loop the session's (the language server calls this as it starts)."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop_ready.set()

    def new_run(self, kind: str, target: str, origin: str, cancel: CancelToken | None = None) -> QueuedRun:
        """A place in the queue (QueueFull when too many wait); the front end may show its id."""
        return self.queue.new_run(kind, target, origin, cancel)

    async def run(self, kind: str, document: DocumentSnapshot, target: str, *, overrides: Any = None,
                  source: str = "options", events: EventSink | None = None, origin: str = "cli",
                  queued: QueuedRun | None = None, cancel: CancelToken | None = None) -> RunOutcome:
        """Validate, queue and run one action on the session's loop; input errors raise before
        anything is queued. Cancel with `cancel` (or the queued run's token), from any thread."""
        self.bind_loop()
        settings = self.job_settings(kind, overrides, source)
        request = ActionRequest(get_action(kind).kind, document, target, workspace=str(self.root),
                                options=settings.options)
        label = f"{document.path}::{target}" if target else document.path
        queued = queued or self.new_run(kind, label, origin, cancel)

        def tracked(event: Event) -> None:
            queued.stage = event.message
            if events is not None:
                events(event)

        async def work(job: QueuedRun) -> ActionResult:
            # In the queue (one build at a time), off the loop: the first build opens the ledger.
            swarm = await asyncio.to_thread(lambda: self.swarm)
            return await swarm.run(request, events=tracked, cancel=job.cancel, settings=settings.swarm)

        result = await self.queue.run(queued, work)
        return RunOutcome(request, result, EditPlan.of(request, result), queued)

    async def submit(self, kind: str, document: DocumentSnapshot, target: str, *, cancel: CancelToken,
                     overrides: Any = None, source: str = "options", events: EventSink | None = None,
                     origin: str = "mcp") -> "asyncio.Future[RunOutcome]":
        """`run` as a future of the caller's loop, from any thread: a front end on another loop (MCP
        over HTTP beside the language server) joins the same queue on the session's loop, and its
        progress events come back to its own loop. Cancel through `cancel`."""
        here = asyncio.get_running_loop()
        if self._loop is None and not self.loop_owned_elsewhere:
            self.bind_loop()
        if self._loop is None and not await asyncio.to_thread(self._loop_ready.wait, LOOP_WAIT_S):
            raise SessionNotReady("the language server has not started its session yet; try again")
        loop = self._loop or here
        if loop is here:
            return asyncio.ensure_future(self.run(kind, document, target, overrides=overrides, source=source,
                                                  events=events, origin=origin, cancel=cancel))
        forward: EventSink | None = None
        if events is not None:
            sink = events

            def forward(event: Event) -> None:
                here.call_soon_threadsafe(sink, event)
        work = self.run(kind, document, target, overrides=overrides, source=source, events=forward,
                        origin=origin, cancel=cancel)
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, loop))
