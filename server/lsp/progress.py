"""Work-done progress for a job: `window/workDoneProgress/create` (cancellable), one report per
swarm event (analysing, tier, candidate, gates, votes), and the end message. A cancel from the
progress UI sets the job's CancelToken, which stops the model call between tokens."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from swarm_lsp.swarm.events import Event

if TYPE_CHECKING:
    from swarm_lsp.server.session.queue import QueuedRun
    from swarm_lsp.server.lsp.server import SwarmLanguageServer

log = logging.getLogger(__name__)


class JobProgress:
    def __init__(self, server: "SwarmLanguageServer", job: "QueuedRun", title: str) -> None:
        self.server, self.job, self.title = server, job, title
        self.token: str | None = None

    def _client_supports_progress(self) -> bool:
        window = self.server.client_capabilities.window
        return bool(window and window.work_done_progress)

    async def begin(self) -> None:
        if not self._client_supports_progress():
            return
        token = f"swarm-lsp/{self.job.id}"
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # a client may refuse; the job still runs, just without a bar
            log.warning("work done progress refused by the client: %s", exc)
            return
        self.token = token
        self.server.work_done_progress.begin(
            token, types.WorkDoneProgressBegin(title=self.title, cancellable=True, message="queued")
        )
        cancelled_from_ui = self.server.work_done_progress.tokens.get(token)
        if cancelled_from_ui is not None:
            cancelled_from_ui.add_done_callback(self._on_ui_cancel)

    def _on_ui_cancel(self, future) -> None:
        if future.cancelled():
            log.info("%s cancelled from the progress UI", self.job.id)
            self.job.cancel.cancel("cancelled from the progress UI")

    def report(self, message: str) -> None:
        self.job.stage = message
        if self.token is not None:
            self.server.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message, cancellable=True)
            )

    def __call__(self, event: Event) -> None:
        self.report(event.message)

    def end(self, message: str) -> None:
        if self.token is None:
            return
        self.server.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
        self.server.work_done_progress.tokens.pop(self.token, None)
        self.token = None
