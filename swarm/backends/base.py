"""The Backend contract every model provider implements (DESIGN.md §4).

A backend is named `kind:model` (e.g. `llamacpp:qwen2.5-coder-0.5b`). `chat` takes OpenAI-style
messages and returns a `Reply` with token usage; with `schema` the reply is constrained to (and
`parsed` holds) a JSON document of that schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.errors import SwarmLspError

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}

# Every backend kind, and whether it is a cloud service (the one list: config, tiers and the factory
# read it). An OpenAI-compatible tier is local or cloud by where its servers are (`endpoints`).
BACKEND_KINDS: dict[str, bool] = {"llamacpp": False, "ollama": False, "openai": False, "anthropic": True}


class BackendError(SwarmLspError):
    """A model call failed for a reason other than cancellation (load error, bad reply, HTTP)."""


@dataclass(frozen=True)
class TokenUsage:
    prompt: int = 0
    completion: int = 0
    cache_read: int = 0
    cache_write: int = 0

    @property
    def total(self) -> int:
        return self.prompt + self.completion


@dataclass
class Reply:
    text: str
    usage: TokenUsage
    model: str  # the backend name that produced it
    latency_s: float
    parsed: Any = None  # decoded JSON when a schema was given and the text decoded
    finish_reason: str = ""  # "stop" | "length" | "cancelled"
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    name: str  # "kind:model"
    is_cloud: bool

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
    ) -> Reply: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class Judgement:
    """A one-token answer among fixed options (a reviewer's yes/no on one claim)."""

    choice: str
    # P(choice) renormalised over the options, from the model's next-token distribution; None when
    # the backend gives no probabilities (it was asked for a plain answer instead).
    confidence: float | None
    reply: Reply
    probabilities: dict[str, float] = field(default_factory=dict)
    mass: float | None = None  # how much of the distribution the options held together


@runtime_checkable
class JudgingBackend(Backend, Protocol):
    """A backend that can read the next-token distribution (the embedded llama.cpp)."""

    async def judge(
        self, messages: list[Message], options: tuple[str, ...], *, cancel: CancelToken | None = None
    ) -> Judgement: ...


@runtime_checkable
class ProbedBackend(Backend, Protocol):
    """A backend on a server that `swarm-lsp doctor` can ask whether it is up (Ollama, Anthropic)."""

    async def probe(self) -> dict[str, Any]: ...


def split_backend_name(name: str) -> tuple[str, str]:
    """`"llamacpp:qwen2.5-coder-0.5b"` -> `("llamacpp", "qwen2.5-coder-0.5b")`; model may contain ':'."""
    kind, sep, model = name.partition(":")
    if not sep or not model or kind not in BACKEND_KINDS:
        raise ValueError(
            f"backend name {name!r} must be KIND:MODEL with KIND one of {', '.join(BACKEND_KINDS)}"
        )
    return kind, model
