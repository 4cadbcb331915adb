"""The OpenAI-compatible backend: `openai:<model>` on vLLM, llama.cpp's server, SGLang, LM Studio,
TGI... through the `openai` SDK (issue 17).

Servers: the tier's `?base_url=URL[,URL...]` or `OPENAI_BASE_URL` (`endpoints`); the key from
`OPENAI_API_KEY` when set. Several servers share the load as Ollama hosts do (`host_pool`: least
busy first, failover and cool-down). On one server a 429 or 5xx is retried with backoff (its
`Retry-After` honoured) before the call fails over. Replies stream, so a cancel closes the HTTP
response and the server stops generating; usage comes from the stream's last chunk (estimated,
and marked so, from a server that sends none).

Structured output asks for `response_format` `json_schema` first; a server that refuses it (HTTP
400, 422 or, from llama-cpp-python, 500 naming the field) is asked for `json_object` with the schema (llama-cpp-python's form),
then for plain text with the schema in the instructions, and each server's answer is remembered.
A tier that counts as cloud (`endpoints.endpoint_is_cloud`) gets what Anthropic calls get: secrets
redacted first, every request in the cloud audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import httpx
import openai

from swarm_lsp.swarm.backends import cloud_audit
from swarm_lsp.swarm.backends.base import BackendError, Judgement, Message, Reply, TokenUsage
from swarm_lsp.swarm.backends.host_pool import Host, HostPool, NoHostServed, RefusedOnHost, Verdict, retry_after
from swarm_lsp.swarm.cancel import Cancelled, CancelToken, race_cancel
from swarm_lsp.swarm.redact import redact_messages, restore, restore_json

log = logging.getLogger(__name__)

FORMATS = ("json_schema", "json_object", "prompt")  # structured output, best first
CHARS_PER_TOKEN = 3.5


@dataclass(frozen=True)
class Retries:
    attempts: int = 3  # per server, before failing over
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0


class OpenAICompatBackend:
    """`openai:<model>` on one or more OpenAI-compatible servers."""

    def __init__(self, name: str, model: str, base_urls: list[str], *, api_key: str | None = None,
                 cloud: bool = False, extra_secrets: Iterable[str] = (), retries: Retries = Retries(),
                 cooldown_s: float = 30.0, connect_timeout: float = 5.0, read_timeout: float = 600.0,
                 audit_log: str | Path | None = None) -> None:
        if not model:
            raise ValueError("an OpenAI-compatible backend needs a model name, e.g. openai:qwen2.5-coder-7b")
        if not base_urls:
            raise ValueError(f"{name}: no server: set OPENAI_BASE_URL or write {name}?base_url=http://HOST:PORT/v1")
        self.name, self.model, self.is_cloud = name, model, cloud
        self.extra_secrets, self.retries = tuple(extra_secrets), retries
        self.audit_log = Path(audit_log).expanduser() if audit_log else cloud_audit.default_audit_log()
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)  # read: the gap between streamed chunks
        # Local servers take any key; the SDK insists on one.
        key = api_key or "not-needed"
        self._pool: HostPool[openai.AsyncOpenAI] = HostPool(
            name, [Host(url, openai.AsyncOpenAI(base_url=url, api_key=key, max_retries=0, timeout=timeout))
                   for url in base_urls], cooldown_s)
        self._audit_ready = False

    @property
    def hosts(self) -> list[str]:
        return self._pool.urls

    async def chat(self, messages: list[Message], *, schema: dict[str, Any] | None = None, max_tokens: int = 512,
                   temperature: float = 0.2, seed: int | None = None, stop: list[str] | None = None,
                   cancel: CancelToken | None = None) -> Reply:
        if cancel is not None:
            cancel.raise_if_cancelled()
        sent, redactions = (redact_messages(messages, self.extra_secrets) if self.is_cloud else (messages, None))
        params: dict[str, Any] = {"model": self.model, "max_tokens": max_tokens, "temperature": temperature}
        if seed is not None:
            params["seed"] = seed
        if stop:
            params["stop"] = list(stop)
        record = self._audit_record(params, redactions) if self.is_cloud else None
        started = time.perf_counter()

        async def on_host(host: Host[openai.AsyncOpenAI]) -> Reply:
            return await self._with_retries(host, sent, params, schema, cancel)

        try:
            reply = await race_cancel(self._pool.run(on_host, _judge, _describe), cancel)
        except RefusedOnHost as exc:
            self._audited(record, started, outcome="error", error=_describe(exc.error))
            raise BackendError(f"{self.name} on {exc.url}: {_describe(exc.error)}") from exc.error
        except NoHostServed as exc:
            self._audited(record, started, outcome="error", error=str(exc))
            hint = f"; is the model {self.model!r} served there?" if exc.missing else ""
            raise BackendError(f"{self.name}: no server could serve the request (tried {', '.join(self.hosts)}; "
                               f"{exc}){hint}") from None
        except (Cancelled, asyncio.CancelledError):
            self._audited(record, started, outcome="cancelled")
            raise
        except Exception as exc:
            self._audited(record, started, outcome="error", error=_describe(exc))
            raise BackendError(f"{self.name}: {_describe(exc)}") from exc
        reply.latency_s = time.perf_counter() - started
        if redactions is not None and redactions.originals:  # quoted markers go back to the user's values
            reply.text = restore(reply.text, redactions.originals)
            reply.parsed = restore_json(reply.parsed, redactions.originals)
        self._audited(record, started, outcome="ok", usage={"prompt": reply.usage.prompt,
                                                             "completion": reply.usage.completion})
        return reply

    async def _with_retries(self, host: Host[openai.AsyncOpenAI], messages: list[Message], params: dict[str, Any],
                            schema: dict[str, Any] | None, cancel: CancelToken | None) -> Reply:
        for attempt in range(1, self.retries.attempts + 1):
            try:
                return await self._structured(host, messages, params, schema, cancel)
            except openai.APIStatusError as exc:
                if not (exc.status_code == 429 or exc.status_code >= 500) or attempt == self.retries.attempts:
                    raise
                status, delay = exc.status_code, retry_after(exc.response.headers)
            if delay is None:
                delay = self.retries.backoff_base_s * 2 ** (attempt - 1) * random.uniform(0.75, 1.0)
            delay = min(max(delay, 0.0), self.retries.backoff_max_s)
            log.warning("%s: %s answered %d; retry %d of %d in %.2fs", self.name, host.url, status,
                        attempt, self.retries.attempts - 1, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _structured(self, host: Host[openai.AsyncOpenAI], messages: list[Message], params: dict[str, Any],
                          schema: dict[str, Any] | None, cancel: CancelToken | None) -> Reply:
        """One streamed call; with a schema, in the best structured form this server takes."""
        while True:
            form = host.state.get("format", FORMATS[0]) if schema is not None else None
            asked, extra = _structured_request(messages, schema, form)
            try:
                return await self._stream(host, asked, {**params, **extra}, schema, form, cancel)
            except openai.APIStatusError as exc:
                # 400 or 422 naming the field; llama-cpp-python answers its validation error with a 500
                refused = exc.status_code in (400, 422, 500) and "response_format" in f"{exc.message} {exc.body}"
                if form is None or form == FORMATS[-1] or not refused:
                    raise
                host.state["format"] = FORMATS[FORMATS.index(form) + 1]
                log.warning("%s: %s refuses response_format %s; asking for %s", self.name, host.url, form,
                            host.state["format"])

    async def _stream(self, host: Host[openai.AsyncOpenAI], messages: list[Message], params: dict[str, Any],
                      schema: dict[str, Any] | None, form: str | None, cancel: CancelToken | None) -> Reply:
        stream: Any = await host.client.chat.completions.create(  # type: ignore[call-overload]
            messages=messages, stream=True, stream_options={"include_usage": True}, **params)
        parts: list[str] = []
        finish, usage = "", None
        try:
            async for chunk in stream:
                if cancel is not None:
                    cancel.raise_if_cancelled()
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    parts.append(choice.delta.content or "")
                    finish = choice.finish_reason or finish
        finally:
            # Closing the response makes the server stop generating; shielded so that a cancel of
            # this task mid-close cannot leave the connection open.
            await asyncio.shield(stream.close())
        if not finish:
            raise IncompleteStream(f"{host.url}: the reply stream ended without a finish reason")
        text = "".join(parts)
        estimated = usage is None
        tokens = (TokenUsage(prompt=usage.prompt_tokens or 0, completion=usage.completion_tokens or 0) if usage else
                  TokenUsage(prompt=_estimate(messages), completion=_estimate([{"content": text}])))
        return Reply(text=text, usage=tokens, model=self.name, latency_s=0.0,
                     parsed=_parse_json(text) if schema is not None else None, finish_reason=finish,
                     extra={"host": host.url, "response_format": form, "usage_estimated": estimated})

    async def judge(self, messages: list[Message], options: tuple[str, ...] = ("yes", "no"), *,
                    cancel: CancelToken | None = None) -> Judgement:
        """The most probable option as the reply's first token, from the server's top log-probabilities
        of that token (each option in any capitalisation, with or without a leading space, as the
        embedded model reads them). A server that sends no log-probabilities answers in plain text,
        and the judgement then has no confidence."""
        if self.is_cloud:  # a cloud call takes the audited chat path with its redaction
            reply = await self.chat(messages, max_tokens=1, temperature=0.0, cancel=cancel)
            return _plain_judgement(reply, options)
        started = time.perf_counter()

        async def on_host(host: Host[openai.AsyncOpenAI]) -> Any:
            return await host.client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=1, temperature=0.0,  # type: ignore[arg-type]
                logprobs=True, top_logprobs=20)

        try:
            completion = await race_cancel(self._pool.run(on_host, _judge, _describe), cancel)
        except (RefusedOnHost, NoHostServed) as exc:
            raise BackendError(f"{self.name}: {exc}") from None
        choice = completion.choices[0]
        usage = completion.usage
        reply = Reply(text=choice.message.content or "", model=self.name, latency_s=time.perf_counter() - started,
                      usage=TokenUsage(prompt=usage.prompt_tokens if usage else 0, completion=1), finish_reason="stop")
        content = choice.logprobs.content if choice.logprobs is not None else None
        if not content:
            return _plain_judgement(reply, options)
        candidates = {item.token: math.exp(item.logprob) for item in content[0].top_logprobs or []}
        probabilities = {option: sum(p for token, p in candidates.items() if token.strip().lower() == option)
                         for option in options}
        mass = sum(probabilities.values())
        if mass <= 0:
            return _plain_judgement(reply, options)
        best = max(options, key=lambda option: probabilities[option])
        return Judgement(best, probabilities[best] / mass, reply, probabilities, mass)

    def _audit_record(self, params: dict[str, Any], redactions: Any) -> dict[str, Any]:
        if not self._audit_ready:
            try:
                cloud_audit.ensure_writable(self.audit_log)
            except OSError as exc:  # nothing may leave the machine unlogged
                raise BackendError(f"{self.name}: cannot write the cloud audit log {self.audit_log}: {exc}") from exc
            self._audit_ready = True
        return {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "backend": self.name,
                "model": self.model, "base_urls": self.hosts, "request": params,
                "redactions": {"count": redactions.count, "kinds": dict(redactions.kinds)}}

    def _audited(self, record: dict[str, Any] | None, started: float, **outcome: Any) -> None:
        if record is not None:
            cloud_audit.append(self.audit_log, {**record, "latency_s": round(time.perf_counter() - started, 3),
                                                **outcome}, self.name)

    async def probe(self) -> dict[str, Any]:
        """Per server: reachable, and whether it lists the model (`GET /models`); never raises."""
        async def check(host: Host[openai.AsyncOpenAI]) -> dict[str, Any]:
            info: dict[str, Any] = {"host": host.url, "reachable": False, "model_present": False, "error": None}
            try:
                listed = [model.id async for model in host.client.models.list()]
                info.update(reachable=True, model_present=self.model in listed)
                if not info["model_present"]:
                    info["error"] = f"model {self.model!r} is not among the served ones ({', '.join(listed[:5])})"
            except Exception as exc:  # doctor reports every failure instead of raising
                info["error"] = _describe(exc)
            return info

        results = await asyncio.gather(*(check(host) for host in self._pool.hosts))
        return {"backend": self.name, "model": self.model, "cloud": self.is_cloud,
                "ok": any(r["reachable"] and r["model_present"] for r in results), "hosts": list(results)}

    async def aclose(self) -> None:
        await asyncio.gather(*(host.client.close() for host in self._pool.hosts), return_exceptions=True)


class IncompleteStream(ConnectionError):
    """A stream cut off by the server (interrupted by another request, a crash): a failover, not a reply."""


def _plain_judgement(reply: Reply, options: tuple[str, ...]) -> Judgement:
    answer = reply.text.strip().lower()
    choice = next((option for option in options if answer.startswith(option)), None)
    if choice is None:
        raise BackendError(f"{reply.model}: no answer among {', '.join(options)} in {reply.text[:80]!r}")
    return Judgement(choice, None, reply)


def _structured_request(messages: list[Message], schema: dict[str, Any] | None,
                        form: str | None) -> tuple[list[Message], dict[str, Any]]:
    if schema is None or form is None:
        return messages, {}
    if form == "json_schema":
        return messages, {"response_format": {"type": "json_schema",
                                              "json_schema": {"name": "reply", "schema": schema, "strict": True}}}
    if form == "json_object":
        return messages, {"response_format": {"type": "json_object", "schema": schema}}
    instruction = f"Answer with one JSON document only, matching this JSON schema:\n{json.dumps(schema)}"
    if messages and messages[0].get("role") == "system":
        return [{**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}, *messages[1:]], {}
    return [{"role": "system", "content": instruction}, *messages], {}


def _judge(exc: BaseException) -> Verdict | None:
    if isinstance(exc, openai.NotFoundError):
        return "missing"
    if isinstance(exc, openai.APIStatusError):
        return "failover" if exc.status_code == 429 or exc.status_code >= 500 else "fatal"
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return "failover"
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _estimate(messages: list[dict[str, str]]) -> int:
    return int(sum(len(m.get("content") or "") for m in messages) / CHARS_PER_TOKEN) + 1


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        return None  # cut off at max_tokens; callers treat a None parse as a failed candidate
