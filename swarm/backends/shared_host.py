"""An embedded tier served by the machine's shared model host (`model_host = "shared"`, issue 17
step 4): `llamacpp:<model>` as before for the plan and the ledger (local), but the model runs in one
host process per machine (`model_host_server`), reached through the OpenAI-compatible backend. The
host is found or started on the first call (off the event loop: loading a model takes seconds);
when it has gone (idle exit, killed) the next call starts it again. A call cancelled while the host
starts returns at once; the start goes on (the host serves the next call, here or elsewhere).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import platformdirs

from swarm_lsp.swarm.backends.base import BackendError, Judgement, Message, Reply
from swarm_lsp.swarm.backends.model_host import HostStartError, answers, find_or_start
from swarm_lsp.swarm.backends.openai_compat import OpenAICompatBackend, Retries
from swarm_lsp.swarm.cancel import CancelToken, race_cancel


def hosts_dir() -> Path:
    """Where the hosts are recorded: the user state folder's `model-hosts/` (SWARM_LSP_MODEL_HOSTS_DIR
    moves it; the tests pin it for the processes they start with a state folder of their own)."""
    override = os.environ.get("SWARM_LSP_MODEL_HOSTS_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir("swarm-lsp")) / "model-hosts"


class SharedHostBackend:
    is_cloud = False

    def __init__(self, model: str, *, n_ctx: int = 4096, threads: int | None = None,
                 models_dir: str | Path | None = None, folder: Path | None = None, idle_s: float = 900.0,
                 start_timeout_s: float = 300.0) -> None:
        from swarm_lsp.swarm.models import get_model

        self.model, self.name = model, f"llamacpp:{model}"
        self._embedded = get_model(model)  # LookupError for a name that is not an embedded model
        self.n_ctx, self.threads, self.models_dir, self.idle_s = n_ctx, threads, models_dir, idle_s
        self.folder, self.start_timeout_s = folder or hosts_dir(), start_timeout_s
        # one host per model and context size: a process that needs a longer context than the running
        # host serves gets its own instead of prompts cut short
        self.host_key = f"{model}-ctx{n_ctx}"
        self._inner: OpenAICompatBackend | None = None
        self._starting: asyncio.Future[str] | None = None  # one find-or-start at a time for this process

    def command(self, port: int) -> list[str]:
        from swarm_lsp.swarm.models import ensure_verified

        gguf = ensure_verified(self._embedded, dest_dir=self.models_dir)
        return [sys.executable, "-m", "swarm_lsp.swarm.backends.model_host_server", "--model", str(gguf),
                "--alias", self.model, "--port", str(port), "--n-ctx", str(self.n_ctx),
                "--threads", str(self.threads or os.cpu_count() or 1), "--idle-s", str(self.idle_s)]

    def _start(self) -> asyncio.Future[str]:
        """The find-or-start under way, or a new one when none is (or the last one failed)."""
        starting = self._starting
        if starting is None or (starting.done() and (starting.cancelled() or starting.exception() is not None)):
            starting = self._starting = asyncio.ensure_future(asyncio.to_thread(
                find_or_start, self.host_key, self.command, self.folder, start_timeout_s=self.start_timeout_s))
            starting.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved: no warning
        return starting

    async def _backend(self, cancel: CancelToken | None) -> OpenAICompatBackend:
        if self._inner is None:
            try:  # the thread is not interrupted by a cancel: it is left to finish the start
                url = await race_cancel(self._start(), cancel, grace_s=0.0)
            except HostStartError as exc:
                raise BackendError(f"{self.name}: {exc}") from exc
            if self._inner is None:
                self._inner = OpenAICompatBackend(self.name, self.model, [url], cloud=False,
                                                  retries=Retries(attempts=2), cooldown_s=0.0)
        return self._inner

    async def chat(self, messages: list[Message], *, cancel: CancelToken | None = None, **options: Any) -> Reply:
        backend = await self._backend(cancel)
        try:
            return await backend.chat(messages, cancel=cancel, **options)
        except BackendError:
            if await asyncio.to_thread(answers, backend.hosts[0]):
                raise  # the host is up: the failure is the request's
            await backend.aclose()
            self._inner = self._starting = None  # the host went away: find or start it again, once
            return await (await self._backend(cancel)).chat(messages, cancel=cancel, **options)

    async def judge(self, messages: list[Message], options: tuple[str, ...] = ("yes", "no"), *,
                    cancel: CancelToken | None = None) -> Judgement:
        return await (await self._backend(cancel)).judge(messages, options, cancel=cancel)

    @property
    def host_url(self) -> str | None:
        return self._inner.hosts[0] if self._inner is not None else None

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()  # the host itself stays up for the other processes
