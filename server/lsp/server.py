"""The language server object: one swarm, one ledger, one document store, one job queue.

`SwarmProtocol` adds what pygls does not do for commands: a `$/cancelRequest` for a running
`workspace/executeCommand` reaches the job (pygls cancels only the outer request future, the
command's coroutine would run on), and every request's id is visible to the handler it spawns.
"""

from __future__ import annotations

import contextvars
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from swarm_lsp.server.config import Config, ConfigError, load_config
from swarm_lsp.server.lsp.documents import DocumentStore
from swarm_lsp.server.lsp.jobs import JobManager
from swarm_lsp.server.session import build_swarm
from swarm_lsp.swarm.engine import Swarm

log = logging.getLogger(__name__)

CURRENT_REQUEST: contextvars.ContextVar[Any] = contextvars.ContextVar("swarm_lsp_request_id", default=None)
SETTINGS_SECTIONS = ("swarm-lsp", "swarmLsp", "swarm_lsp")


class SwarmProtocol(LanguageServerProtocol):
    def _handle_request(self, msg_id, method_name, params):
        token = CURRENT_REQUEST.set(msg_id)  # tasks created while handling inherit this context
        try:
            return super()._handle_request(msg_id, method_name, params)
        finally:
            CURRENT_REQUEST.reset(token)

    def _handle_cancel_notification(self, msg_id):
        super()._handle_cancel_notification(msg_id)
        self._server.cancel_request_jobs(msg_id)


class SwarmLanguageServer(LanguageServer):
    def __init__(self, version: str) -> None:
        super().__init__("swarm-lsp", version, protocol_cls=SwarmProtocol)
        self.root = Path.cwd()
        self.config = Config()
        self.store = DocumentStore()
        self.jobs = JobManager()
        self.jobs_by_request: dict[Any, str] = {}
        self._swarm: Swarm | None = None

    @property
    def swarm(self) -> Swarm:
        if self._swarm is None:
            self._swarm = build_swarm(self.config, workspace=self.root)
        return self._swarm

    def cancel_request_jobs(self, msg_id: Any) -> None:
        job_id = self.jobs_by_request.pop(msg_id, None)
        if job_id is not None and self.jobs.cancel(job_id):
            log.info("request %s cancelled: cancelling %s", msg_id, job_id)

    def initialize(self, params: types.InitializeParams) -> None:
        encoding = ServerCapabilitiesBuilder.choose_position_encoding(params.capabilities)
        self.store = DocumentStore(encoding=encoding)
        root_uri = params.root_uri or (params.workspace_folders[0].uri if params.workspace_folders else None)
        if root_uri:
            self.root = Path(to_fs_path(root_uri) or ".")
        elif params.root_path:
            self.root = Path(params.root_path)
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
            self.config = base.merged(section, source, base_dir=self.root) if section else base
        except ConfigError as exc:
            self.warn(f"swarm-lsp: {exc}; ignoring the {source}")
            self.config = base
        self.jobs.max_queued = self.config.max_queued_jobs
        self._swarm = None  # rebuilt on next use; running jobs keep the swarm they started with
        log.info("configuration: %s", self.config.to_dict())

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
