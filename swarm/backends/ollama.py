"""The Ollama backend: `ollama:<model>` (e.g. `ollama:qwen2.5-coder:7b`) through the official client.

Several hosts (comma-separated `OLLAMA_HOST`, or `hosts=`) share the load (`host_pool`): each call
goes to the host with the fewest requests in flight, and a host that refuses the connection,
answers 5xx or lacks the model is cooled down for `cooldown_s` while the call fails over.

`num_ctx` is sized to each prompt because Ollama silently truncates prompts longer than its
default context. Ollama reloads the model whenever `num_ctx` changes, so sizes are powers of two
and never shrink on a host: a few reloads while prompts grow, none afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, TypeVar

import httpx
import ollama

from swarm_lsp.swarm.backends.base import BackendError, Message, Reply, TokenUsage
from swarm_lsp.swarm.backends.host_pool import Host, HostPool, NoHostServed, RefusedOnHost, Verdict
from swarm_lsp.swarm.cancel import CancelToken, Cancelled

log = logging.getLogger(__name__)

DEFAULT_HOST = "http://127.0.0.1:11434"  # the ollama client's own default
CHARS_PER_TOKEN = 3  # errs high: code tokenizes at about 3.5-4 characters per token
CTX_MARGIN_TOKENS = 256  # chat-template tokens plus slack for the estimate
CANCEL_POLL_S = 0.1  # a long prompt can evaluate for many seconds without sending a chunk

T = TypeVar("T")


def hosts_from_env() -> list[str]:
    """`OLLAMA_HOST` split on commas; the client's default host when it is unset or empty."""
    raw = os.environ.get("OLLAMA_HOST", "")
    return [host.strip() for host in raw.split(",") if host.strip()] or [DEFAULT_HOST]


def context_size(messages: list[Message], max_tokens: int, *, min_ctx: int = 2048, max_ctx: int = 32768) -> int:
    """The `num_ctx` for a prompt: estimated prompt + reply tokens, a power of two in [min_ctx, max_ctx]."""
    chars = sum(len(message.get("content") or "") for message in messages)
    needed = math.ceil(chars / CHARS_PER_TOKEN) + max_tokens + CTX_MARGIN_TOKENS
    size = 1 << max(needed - 1, 1).bit_length()
    if needed > max_ctx:
        log.warning("prompt needs about %d tokens, num_ctx is capped at %d: Ollama will truncate it", needed, max_ctx)
    return max(min_ctx, min(size, max_ctx))


def _with_tag(model: str) -> str:
    """Ollama names an untagged model `:latest`; the tag follows the last '/' (registries have ports)."""
    return model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ollama.ResponseError):
        return f"HTTP {exc.status_code}: {exc.error}" if exc.status_code > 0 else str(exc.error)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


_Host = Host[ollama.AsyncClient]  # its state["num_ctx"] never shrinks: changing it reloads the model


class OllamaBackend:
    """`ollama:<model>` on one or more Ollama servers."""

    is_cloud = False

    def __init__(
        self,
        model: str,
        *,
        hosts: list[str] | str | None = None,
        keep_alive: str | float | None = "10m",
        min_ctx: int = 2048,
        max_ctx: int = 32768,
        cooldown_s: float = 30.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 600.0,
        probe_timeout: float = 5.0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if not model:
            raise ValueError("an Ollama backend needs a model name, e.g. ollama:qwen2.5-coder:7b")
        if isinstance(hosts, str):
            hosts = [host.strip() for host in hosts.split(",") if host.strip()]
        urls = list(dict.fromkeys(hosts or hosts_from_env()))
        self.model = model
        self.name = f"ollama:{model}"
        self.keep_alive = keep_alive
        self.min_ctx, self.max_ctx = min_ctx, max_ctx
        self.cooldown_s, self.probe_timeout = cooldown_s, probe_timeout
        self.extra_options = dict(options or {})  # e.g. repeat_penalty, num_gpu; ours take precedence
        # read_timeout bounds the gap between streamed chunks, which includes loading the model.
        timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
        self._pool = HostPool(self.name, [Host(url, ollama.AsyncClient(host=url, timeout=timeout)) for url in urls],
                              cooldown_s)
        self._hosts = self._pool.hosts

    @property
    def hosts(self) -> list[str]:
        return self._pool.urls

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
        options: dict[str, Any] = {**self.extra_options, "num_predict": max_tokens, "temperature": temperature}
        if seed is not None:
            options["seed"] = seed
        if stop:
            options["stop"] = list(stop)
        sized = context_size(messages, max_tokens, min_ctx=self.min_ctx, max_ctx=self.max_ctx)

        async def on_host(host: _Host) -> Reply:
            host.state["num_ctx"] = max(host.state.get("num_ctx", 0), sized)
            request_options = {**options, "num_ctx": host.state["num_ctx"]}
            stream = await host.client.chat(
                model=self.model,
                messages=messages,
                stream=True,
                format=schema,
                options=request_options,
                keep_alive=self.keep_alive,
            )
            # Typed as an AsyncIterator; it is an async generator, whose aclose() ends the response.
            assert isinstance(stream, AsyncGenerator)
            parts: list[str] = []
            final = None
            try:
                async for chunk in stream:
                    if cancel is not None:
                        cancel.raise_if_cancelled()
                    parts.append(chunk.message.content or "")
                    if chunk.done:
                        final = chunk
                        break
            finally:
                # Closing the HTTP response makes Ollama stop generating. Shielded: a cancel of this
                # task mid-close (the token path cancels it) must not leave the connection open.
                await asyncio.shield(stream.aclose())
            if final is None:
                raise ollama.ResponseError("the reply stream ended without a final chunk")
            text = "".join(parts)
            return Reply(
                text=text,
                parsed=_parse_json(text) if schema is not None else None,
                usage=TokenUsage(prompt=final.prompt_eval_count or 0, completion=final.eval_count or 0),
                model=self.name,
                latency_s=0.0,
                finish_reason=final.done_reason or "stop",
                extra={"host": host.url, "num_ctx": request_options["num_ctx"]},
            )

        started = time.perf_counter()
        reply = await _until_cancelled(self._on_hosts(on_host), cancel)
        reply.latency_s = time.perf_counter() - started
        if cancel is not None:
            cancel.raise_if_cancelled()
        return reply

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """One embedding vector per text, from `/api/embed` with this backend's model."""
        if not texts:
            return []

        async def on_host(host: _Host) -> list[list[float]]:
            response = await host.client.embed(model=self.model, input=texts, keep_alive=self.keep_alive)
            return [[float(value) for value in vector] for vector in response.embeddings]

        vectors = await self._on_hosts(on_host)
        if len(vectors) != len(texts):
            raise BackendError(f"{self.name}: asked for {len(texts)} embeddings, got {len(vectors)}")
        return vectors

    async def probe(self) -> dict[str, Any]:
        """Reachability, server version and model presence per host, for `swarm-lsp doctor`; never raises."""
        wanted = _with_tag(self.model)

        async def check(host: _Host) -> dict[str, Any]:
            info: dict[str, Any] = {
                "host": host.url, "reachable": False, "version": None, "model_present": False, "error": None
            }
            try:
                # The official client has no version() call; its httpx client already knows the host.
                response = await asyncio.wait_for(host.client._client.get("/api/version"), self.probe_timeout)
                response.raise_for_status()
                info["reachable"] = True
                info["version"] = response.json().get("version")
                tags = await asyncio.wait_for(host.client.list(), self.probe_timeout)
                info["model_present"] = any(_with_tag(entry.model or "") == wanted for entry in tags.models)
                if not info["model_present"]:
                    info["error"] = f"model {self.model!r} is not pulled: run `ollama pull {self.model}`"
            except Exception as exc:  # doctor reports every failure instead of raising
                info["error"] = _describe(exc)
            return info

        results = await asyncio.gather(*(check(host) for host in self._hosts))
        return {
            "backend": self.name,
            "model": self.model,
            "ok": any(result["reachable"] and result["model_present"] for result in results),
            "hosts": list(results),
        }

    async def aclose(self) -> None:
        await asyncio.gather(*(host.client.close() for host in self._hosts), return_exceptions=True)

    async def _on_hosts(self, call: Callable[[_Host], Awaitable[T]]) -> T:
        """Run `call` on the best host, failing over to the others on host-specific errors."""
        try:
            return await self._pool.run(call, self._judge, _describe)
        except RefusedOnHost as exc:  # 4xx: every host would refuse it
            raise BackendError(f"{self.name} on {exc.url}: {_describe(exc.error)}") from exc.error
        except NoHostServed as exc:
            hint = f"; run `ollama pull {self.model}` on the host(s) that lack it" if exc.missing else ""
            raise BackendError(f"{self.name}: no Ollama host could serve the request "
                               f"(tried {', '.join(self.hosts)}; {exc}){hint}") from None

    @staticmethod
    def _judge(exc: BaseException) -> Verdict | None:
        if isinstance(exc, ollama.ResponseError):
            if exc.status_code == 404:
                return "missing"
            return "failover" if exc.status_code >= 500 or exc.status_code < 0 else "fatal"
        if isinstance(exc, (ConnectionError, httpx.TransportError, ValueError)):  # ValueError: malformed reply
            return "failover"
        return None


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, strict=False)  # a raw newline inside a string is still an answer
    except json.JSONDecodeError:
        return None  # truncated at max_tokens; callers treat a None parse as a failed candidate


async def _until_cancelled(work: Awaitable[T], cancel: CancelToken | None) -> T:
    """Await `work`, abandoning it within CANCEL_POLL_S of `cancel` being set, even between chunks."""
    if cancel is None:
        return await work
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=CANCEL_POLL_S)
            if done:
                return task.result()
            if cancel.cancelled:
                raise Cancelled(cancel.reason or "cancelled")
    finally:
        if not task.done():
            task.cancel()  # unwinds the stream, closing the HTTP response
            await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # mark it retrieved so asyncio does not log it a second time
