"""The language server object: the session (configuration, swarm, ledger, run queue) and the
editor's documents.

`SwarmProtocol` adds what pygls does not do for commands: a `$/cancelRequest` for a running
`workspace/executeCommand` reaches the job (pygls cancels only the outer request future, the
command's coroutine would run on), and every request's id is visible to the handler it spawns.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
from pathlib import Path
from collections.abc import Generator
from typing import Any

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.exceptions import JsonRpcInvalidRequest
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path

from swarm_lsp.server.config import Config, ConfigError, load_config
from swarm_lsp.server.lsp.documents import DocumentStore
from swarm_lsp.server.session.queue import RunQueue
from swarm_lsp.server.session.session import Session
from swarm_lsp.swarm.engine import Swarm

log = logging.getLogger(__name__)

CURRENT_REQUEST: contextvars.ContextVar[Any] = contextvars.ContextVar("swarm_lsp_request_id", default=None)
SETTINGS_SECTIONS = ("swarm-lsp", "swarmLsp", "swarm_lsp")


class SwarmProtocol(LanguageServerProtocol):
    async def notify_serialised_off_loop(self, method: str, params: Any) -> None:
        """A large notification (hundreds of diagnostics) turned into JSON on a thread, so the loop
        only writes the bytes: as pygls's `notify` would, minus tens of ms of cattrs on the loop."""
        message = {"jsonrpc": JsonRPCProtocol.VERSION, "method": method, "params": params}
        body = await asyncio.to_thread(json.dumps, message, default=self._serialize_message)
        if self.writer is None:
            log.error("no transport to send %s on", method)
            return
        if self._include_headers:
            body = f"Content-Length: {len(body)}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n" + body
        written = self.writer.write(body.encode(self.CHARSET))
        if inspect.isawaitable(written):
            await written

    def handle_message(self, message):
        # pygls drops a request that arrives after `shutdown` without an answer, so the client waits
        # for ever; the protocol says it errors with InvalidRequest (found by tests/fuzz).
        method, msg_id = getattr(message, "method", None), getattr(message, "id", None)
        valid_id = msg_id is None or (isinstance(msg_id, (str, int)) and not isinstance(msg_id, bool))
        if (hasattr(message, "method") and not isinstance(method, str)) or not valid_id:
            error = JsonRpcInvalidRequest("a request's method is a string and its id a string or an integer")
            self._send_response(msg_id if valid_id else None, error=error.to_response_error())  # type: ignore[arg-type]
            return None
        if self._shutdown and method not in (None, "exit") and msg_id is not None:
            error = JsonRpcInvalidRequest("the server is shutting down: only `exit` is accepted now")
            self._send_response(msg_id, error=error.to_response_error())
            return None
        return super().handle_message(message)

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls's, iterating over a copy: cancelling a request's future removes it from the dict, so
        a `shutdown` while other requests ran ended in an internal error (found by bench/fuzz.py)."""
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True
        return None

    def _execute_handler(self, msg_id, handler, callback, args=None, kwargs=None):
        """pygls's, forgetting each handler's future once it is done. pygls 2.1 files the future of
        every notification and of every step of a generator handler (`workspace/executeCommand`,
        `didChange`, ...) under a fresh uuid in `_request_futures` and never removes it: each
        `swarm.run` kept its finished task, result and all, for the life of the server (the soak,
        bench/soak.py, grew 5 MB per 1,000 jobs). A request's own future is removed by pygls as it
        answers; removing it here too changes nothing."""
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        future = self._request_futures.get(msg_id)
        if future is not None:
            future.add_done_callback(lambda done: self._forget_future(msg_id, done))

    def _forget_future(self, msg_id, future) -> None:
        if self._request_futures.get(msg_id) is future:  # not a later request's that reused the id
            self._request_futures.pop(msg_id, None)

    def _handle_request(self, msg_id, method_name, params):
        token = CURRENT_REQUEST.set(msg_id)  # tasks created while handling inherit this context
        try:
            return super()._handle_request(msg_id, method_name, params)
        finally:
            CURRENT_REQUEST.reset(token)

    def _handle_cancel_notification(self, msg_id):
        super()._handle_cancel_notification(msg_id)
        server = self._server
        if isinstance(server, SwarmLanguageServer):
            server.cancel_request_jobs(msg_id)


class SwarmLanguageServer(LanguageServer):
    protocol: SwarmProtocol

    def __init__(self, version: str) -> None:
        super().__init__("swarm-lsp", version, protocol_cls=SwarmProtocol)
        self.session = Session(Path.cwd())
        self.store = DocumentStore()
        self.jobs_by_request: dict[Any, str] = {}

    @property
    def root(self) -> Path:
        return self.session.root

    @property
    def config(self) -> Config:
        return self.session.config

    @property
    def jobs(self) -> RunQueue:
        return self.session.queue

    @property
    def swarm(self) -> Swarm:
        return self.session.swarm

    def cancel_request_jobs(self, msg_id: Any) -> None:
        job_id = self.jobs_by_request.pop(msg_id, None)
        if job_id is not None and self.jobs.cancel(job_id):
            log.info("request %s cancelled: cancelling %s", msg_id, job_id)

    def initialize(self, params: types.InitializeParams) -> None:
        encoding = ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities)
        self.store = DocumentStore(encoding=encoding)
        root_uri = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
        if root_uri:
            self.session.root = Path(to_fs_path(root_uri) or ".").resolve()
        elif params.root_path:
            self.session.root = Path(params.root_path).resolve()
        self.session.bind_loop()  # MCP calls in combined mode join this loop's queue
        self.apply_settings(params.initialization_options, "LSP initializationOptions")

    def apply_settings(self, settings: Any, source: str) -> None:
        """Workspace files + environment, then the client's settings on top. An invalid setting
        is reported to the user and the configuration without the client's settings is used."""
        try:
            base = load_config(self.root)
        except ConfigError as exc:
            self.warn(f"swarm-lsp: {exc}; using the default configuration")
            base = Config()
        section = _settings_section(settings)
        try:
            config = base.merged(section, source, base_dir=self.root) if section else base
        except ConfigError as exc:
            self.warn(f"swarm-lsp: {exc}; ignoring the {source}")
            config = base
        self.session.configure(config)  # the MCP tools of combined mode see it too
        log.info("configuration: %s", config.to_dict())

    def warn(self, message: str) -> None:
        log.warning(message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning, message=message))


def _settings_section(settings: Any) -> dict[str, Any] | None:
    if not settings:
        return None
    if isinstance(settings, dict):
        for name in SETTINGS_SECTIONS:
            if isinstance(settings.get(name), dict):
                return settings[name]
    return settings
