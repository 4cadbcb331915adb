"""A scripted backend with zero latency, for unit tests of the engine and overhead benchmarks only.

It never runs a model: each `chat` call returns the next scripted reply (text, a dict encoded as
JSON, or an exception to raise). Token usage is a whitespace word count, which is enough for the
arithmetic the tests check. Real end-to-end tests use the embedded llama.cpp backend instead.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Union

from swarm_lsp.swarm.backends.base import Message, Reply, TokenUsage
from swarm_lsp.swarm.cancel import CancelToken

Script = Union[str, dict, Reply, BaseException]


class ScriptedBackend:
    def __init__(
        self,
        name: str = "llamacpp:scripted",
        replies: Iterable[Script] | Callable[[list[Message]], Script] = (),
        *,
        is_cloud: bool = False,
    ) -> None:
        self.name, self.is_cloud = name, is_cloud
        self._script = replies if callable(replies) else iter(list(replies))
        self.calls: list[dict[str, Any]] = []

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
        self.calls.append({"messages": messages, "schema": schema, "temperature": temperature, "seed": seed,
                           "max_tokens": max_tokens})
        if cancel is not None:
            cancel.raise_if_cancelled()
        item = self._script(messages) if callable(self._script) else next(self._script)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, Reply):  # a reply scripted whole, e.g. one cut off at the token limit
            return item
        text = json.dumps(item) if isinstance(item, dict) else item
        parsed = None
        if schema is not None:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
        prompt_words = sum(len(m["content"].split()) for m in messages)
        return Reply(
            text=text,
            parsed=parsed,
            usage=TokenUsage(prompt=prompt_words, completion=len(text.split())),
            model=self.name,
            latency_s=0.0,
            finish_reason="stop",
        )

    async def aclose(self) -> None:
        return None
