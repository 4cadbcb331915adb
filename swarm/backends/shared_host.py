"""An embedded tier served by the machine's shared model host (`model_host = "shared"`, issue 17
step 4): `llamacpp:<model>` as before for the plan and the ledger (local), but the model runs in one
host process per machine (`model_host_server`), reached through the OpenAI-compatible backend. The
host is found or started on the first call (off the event loop: loading a model takes seconds);
when it has gone (idle exit, killed) the next call starts it again.
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
from swarm_lsp.swarm.cancel import CancelToken


def hosts_dir() -> Path:
    return Path(platformdirs.user_state_dir("swarm-lsp")) / "model-hosts"


class SharedHostBackend:
    is_cloud = False

    def __init__(self, model: str, *, n_ctx: int = 4096, threads: int | None = None,
                 models_dir: str | Path | None = None, folder: Path | None = None, idle_s: float = 900.0) -> None:
        from swarm_lsp.swarm.models import get_model

        self.model, self.name = model, f"llamacpp:{model}"
        self._embedded = get_model(model)  # LookupError for a name that is not an embedded model
        self.n_ctx, self.threads, self.models_dir, self.idle_s = n_ctx, threads, models_dir, idle_s
        self.folder = folder or hosts_dir()
        self._inner: OpenAICompatBackend | None = None

    def command(self, port: int) -> list[str]:
        from swarm_lsp.swarm.models import ensure_verified

        gguf = ensure_verified(self._embedded, dest_dir=self.models_dir)
        return [sys.executable, "-m", "swarm_lsp.swarm.backends.model_host_server", "--model", str(gguf),
                "--alias", self.model, "--port", str(port), "--n-ctx", str(self.n_ctx),
                "--threads", str(self.threads or os.cpu_count() or 1), "--idle-s", str(self.idle_s)]

    async def _backend(self) -> OpenAICompatBackend:
        if self._inner is None:
            try:
                url = await asyncio.to_thread(find_or_start, self.model, self.command, self.folder)
            except HostStartError as exc:
                raise BackendError(f"{self.name}: {exc}") from exc
            self._inner = OpenAICompatBackend(self.name, self.model, [url], cloud=False,
                                              retries=Retries(attempts=2), cooldown_s=0.0)
        return self._inner

    async def chat(self, messages: list[Message], *, cancel: CancelToken | None = None, **options: Any) -> Reply:
        backend = await self._backend()
        try:
            return await backend.chat(messages, cancel=cancel, **options)
        except BackendError:
            if await asyncio.to_thread(answers, backend.hosts[0]):
                raise  # the host is up: the failure is the request's
            await backend.aclose()
            self._inner = None  # the host went away: find or start it again, once
            return await (await self._backend()).chat(messages, cancel=cancel, **options)

    async def judge(self, messages: list[Message], options: tuple[str, ...] = ("yes", "no"), *,
                    cancel: CancelToken | None = None) -> Judgement:
        return await (await self._backend()).judge(messages, options, cancel=cancel)

    @property
    def host_url(self) -> str | None:
        return self._inner.hosts[0] if self._inner is not None else None

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()  # the host itself stays up for the other processes
