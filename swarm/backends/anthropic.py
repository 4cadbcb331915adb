"""The cloud backend: Anthropic's Messages API through the official SDK, `anthropic:<model>`.

The SDK reads `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL` itself; the client is built at the
first call, so a missing key fails that call, not the import. DESIGN.md §8 applies to every
call: messages pass `swarm.redact` first (plus the workspace's `.env` values given as
`extra_secrets`), and the request exactly as sent is appended to a JSON-lines audit log. Markers
the reply quotes are mapped back to the values they replaced (`swarm.redact.restore`).

Retries are our own loop with the SDK's disabled, so the backoff base is configurable and a
cancel token can interrupt the wait between attempts. The Messages API has no sampling seed:
`seed` is accepted for the Backend contract and ignored. The SDK (API version 2026-10-21) has no
`temperature` either, so it is not sent unless `send_temperature=True` (then via `extra_body`,
clamped to 0..1) for deployments that still take it.

Prompt caching: the system prompt and the first user block carry `cache_control`. Our prompts
put the fenced code first, so the first user message is split after its first fenced block; the
code is the prefix shared by retries and reviewers, the instructions and feedback after it vary.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Awaitable, Iterable, TypeVar

import anthropic

from swarm_lsp.swarm.backends import cloud_audit
from swarm_lsp.swarm.backends.anthropic_wire import build_request, to_reply
from swarm_lsp.swarm.backends.cloud_audit import AUDIT_ENV, default_audit_log  # noqa: F401 - re-exported
from swarm_lsp.swarm.backends.base import BackendError, Message, Reply
from swarm_lsp.swarm.backends.host_pool import retry_after
from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.redact import redact_messages, restore, restore_json

log = logging.getLogger(__name__)

T = TypeVar("T")


class AnthropicBackend:
    """`anthropic:<model>`, e.g. `anthropic:claude-sonnet-4-5`."""

    is_cloud = True

    def __init__(
        self,
        model: str,
        *,
        extra_secrets: Iterable[str] = (),
        audit_log: str | Path | None = None,
        max_attempts: int = 4,
        timeout_s: float = 120.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        poll_interval_s: float = 0.05,
        send_temperature: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.model = model
        self.name = f"anthropic:{model}"
        self.extra_secrets = tuple(extra_secrets)
        self.audit_log = Path(audit_log).expanduser() if audit_log else default_audit_log()
        self.max_attempts, self.timeout_s = max_attempts, timeout_s
        self.backoff_base_s, self.backoff_max_s = backoff_base_s, backoff_max_s
        self.poll_interval_s, self.send_temperature = poll_interval_s, send_temperature
        self._client: anthropic.AsyncAnthropic | None = None

    async def chat(
        self,
        messages: list[Message],
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.2,
        seed: int | None = None,
        stop: list[str] | None = None,
        cancel: CancelToken | None = None,
    ) -> Reply:
        if cancel is not None:
            cancel.raise_if_cancelled()
        client = await self._ensure_client()
        sent, redactions = redact_messages(messages, self.extra_secrets)
        if redactions.count:
            log.info("%s: redacted %d secret(s) before sending: %s", self.name, redactions.count, redactions.kinds)
        params, wrapped = build_request(
            self.model, sent, schema=schema, max_tokens=max_tokens, stop=stop,
            temperature=temperature if self.send_temperature else None,
        )
        started = time.perf_counter()
        record: dict[str, Any] = {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "backend": self.name,
            "model": self.model,
            "base_url": str(client.base_url),
            "request": params,  # the redacted body exactly as sent; the API key travels in a header only
            "redactions": {"count": redactions.count, "kinds": dict(redactions.kinds)},
            "attempts": 0,
        }
        try:
            message = await self._send(client, params, cancel, record)
        except (Cancelled, asyncio.CancelledError):
            self._write_audit(record, started, outcome="cancelled")
            raise
        except Exception as exc:
            self._write_audit(record, started, outcome="error", error=f"{type(exc).__name__}: {exc}")
            if isinstance(exc, BackendError):
                raise
            raise BackendError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        reply = to_reply(message, self.name, time.perf_counter() - started, schema is not None, wrapped)
        if redactions.originals:  # markers the reply quotes go back to the user's own values
            reply.text = restore(reply.text, redactions.originals)
            reply.parsed = restore_json(reply.parsed, redactions.originals)
            if reply.parsed is not None and schema is not None:
                reply.text = json.dumps(reply.parsed, ensure_ascii=False)  # as `to_reply` makes it
        reply.extra.update(attempts=record["attempts"], redactions=redactions.count)
        self._write_audit(record, started, outcome="ok", stop_reason=message.stop_reason, usage=asdict(reply.usage))
        return reply

    async def _ensure_client(self) -> anthropic.AsyncAnthropic:
        if self._client is not None:
            return self._client
        try:
            client = anthropic.AsyncAnthropic(max_retries=0, timeout=self.timeout_s)
        except Exception as exc:  # e.g. a broken ANTHROPIC_PROFILE; the SDK raises several types
            raise BackendError(f"{self.name}: cannot configure the Anthropic client: {exc}") from exc
        if client.api_key is None and client.auth_token is None and client.credentials is None:
            await client.close()
            raise BackendError("ANTHROPIC_API_KEY is not set")
        # Nothing may leave the machine unlogged: refuse to send when the audit log is unwritable.
        try:
            cloud_audit.ensure_writable(self.audit_log)
        except OSError as exc:
            await client.close()
            raise BackendError(f"{self.name}: cannot write the cloud audit log {self.audit_log}: {exc}") from exc
        self._client = client
        return client

    async def _send(
        self, client: anthropic.AsyncAnthropic, params: dict[str, Any], cancel: CancelToken | None, record: dict
    ) -> Any:
        known = {key: value for key, value in params.items() if key != "temperature"}
        extra_body = {"temperature": params["temperature"]} if "temperature" in params else None
        for attempt in range(1, self.max_attempts + 1):
            record["attempts"] = attempt
            request = client.messages.create(**known, extra_body=extra_body, timeout=self.timeout_s)
            try:
                return await self._cancellable(request, cancel)
            except anthropic.AuthenticationError as exc:
                raise BackendError(
                    f"{self.name}: authentication failed (HTTP 401): check ANTHROPIC_API_KEY ({_api_message(exc)})"
                ) from exc
            except anthropic.APIStatusError as exc:
                detail = f"HTTP {exc.status_code}: {_api_message(exc)}"
                if not _retryable(exc.response) or attempt == self.max_attempts:
                    raise BackendError(f"{self.name}: {detail} (after {attempt} attempt(s))") from exc
                delay = retry_after(exc.response.headers)
            except anthropic.APIConnectionError as exc:  # includes APITimeoutError
                detail = f"{type(exc).__name__}: {exc}"
                if attempt == self.max_attempts:
                    raise BackendError(f"{self.name}: {detail} (after {attempt} attempt(s))") from exc
                delay = None
            if delay is None:
                delay = self.backoff_base_s * 2 ** (attempt - 1) * random.uniform(0.75, 1.0)
            delay = min(max(delay, 0.0), self.backoff_max_s)
            log.warning("%s: %s; retry %d of %d in %.2fs", self.name, detail, attempt, self.max_attempts - 1, delay)
            await self._cancellable(asyncio.sleep(delay), cancel)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _cancellable(self, awaitable: Awaitable[T], cancel: CancelToken | None) -> T:
        """Await `awaitable`, polling `cancel` so a cancelled job stops within `poll_interval_s`."""
        if cancel is None:
            return await awaitable
        task = asyncio.ensure_future(awaitable)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.poll_interval_s)
                if done:
                    return task.result()
                if cancel.cancelled:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    raise Cancelled(cancel.reason or "cancelled")
        except asyncio.CancelledError:
            task.cancel()
            raise

    def _write_audit(self, record: dict[str, Any], started: float, **outcome: Any) -> None:
        record = {**record, "latency_s": round(time.perf_counter() - started, 3), **outcome}
        cloud_audit.append(self.audit_log, record, self.name)

    async def probe(self) -> dict[str, Any]:
        """Configuration for `swarm-lsp doctor`: builds a client (it reads the env) but sends nothing."""
        info: dict[str, Any] = {"backend": self.name, "cloud": True, "audit_log": str(self.audit_log)}
        try:
            client = anthropic.AsyncAnthropic(max_retries=0)
        except Exception as exc:
            return {**info, "ok": False, "auth": None, "error": f"cannot configure the Anthropic client: {exc}"}
        auth = next((kind for kind in ("api_key", "auth_token", "credentials") if getattr(client, kind)), None)
        info.update(ok=auth is not None, auth=auth, api_key_set=bool(client.api_key), base_url=str(client.base_url))
        await client.close()
        if auth is None:
            info["error"] = "ANTHROPIC_API_KEY is not set"
        return info

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()


def _api_message(exc: anthropic.APIStatusError) -> str:
    return exc.api_message or exc.message


def _retryable(response: Any) -> bool:
    should = response.headers.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    return response.status_code == 429 or response.status_code >= 500
