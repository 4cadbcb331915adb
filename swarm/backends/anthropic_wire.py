"""The Anthropic Messages API wire format: request bodies from OpenAI-style messages (system
prompt, cache breakpoints on the stable prefix, a forced `answer` tool for JSON schemas) and
Replies from responses (tool input as the parsed answer, usage including cache tokens)."""

from __future__ import annotations

import json
from typing import Any

from swarm_lsp.swarm.backends.base import BackendError, Reply, TokenUsage

ANSWER_TOOL = "answer"
_CACHE = {"type": "ephemeral"}
_LENGTH_REASONS = {"max_tokens", "model_context_window_exceeded"}


def build_request(
    model: str,
    messages: list[dict[str, Any]],
    *,
    schema: dict[str, Any] | None,
    max_tokens: int,
    temperature: float | None,
    stop: list[str] | None,
) -> tuple[dict[str, Any], bool]:
    """The Messages API body for OpenAI-style messages; also whether the schema had to be wrapped."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system" and m["content"].strip())
    turns: list[dict[str, Any]] = []
    for m in messages:
        role, text = m["role"], m["content"]
        if role == "system" or not text.strip():  # the API rejects whitespace-only text blocks
            continue
        if role not in ("user", "assistant"):
            raise BackendError(f"unsupported message role {role!r}")
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].append({"type": "text", "text": text})
        else:
            turns.append({"role": role, "content": [{"type": "text", "text": text}]})
    if not turns or turns[0]["role"] != "user":
        raise BackendError("the Messages API needs a user message first")
    first = turns[0]["content"]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": part} for part in split_stable_prefix(first[0]["text"])]
    blocks[0]["cache_control"] = _CACHE
    turns[0]["content"] = blocks + first[1:]

    params: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": turns}
    if temperature is not None:
        params["temperature"] = min(max(temperature, 0.0), 1.0)
    if system:
        params["system"] = [{"type": "text", "text": system, "cache_control": _CACHE}]
    if stop:
        params["stop_sequences"] = list(stop)
    wrapped = False
    if schema is not None:
        input_schema = schema
        if schema.get("type") != "object":  # tool input must be an object; wrap anything else
            input_schema = {"type": "object", "properties": {"value": schema}, "required": ["value"]}
            wrapped = True
        description = "Give the answer. Its input must follow the schema exactly."
        params["tools"] = [{"name": ANSWER_TOOL, "description": description, "input_schema": input_schema}]
        params["tool_choice"] = {"type": "tool", "name": ANSWER_TOOL}
    return params, wrapped


def split_stable_prefix(text: str) -> list[str]:
    """Split after the first fenced code block when more text follows it; else one part."""
    lines = text.splitlines(keepends=True)
    fence: str | None = None
    offset = 0
    for line in lines:
        offset += len(line)
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```"):
                fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
        elif stripped == fence:
            head, tail = text[:offset], text[offset:]
            return [head, tail] if tail.strip() else [text]
    return [text]


def to_reply(message: Any, name: str, latency: float, structured: bool, wrapped: bool) -> Reply:
    tool = next((b for b in message.content if b.type == "tool_use" and b.name == ANSWER_TOOL), None)
    text = "".join(b.text for b in message.content if b.type == "text")
    parsed = None
    if structured and tool is not None:
        parsed = tool.input
        if wrapped:
            parsed = parsed.get("value") if isinstance(parsed, dict) else None
        text = json.dumps(parsed, ensure_ascii=False)
    usage = message.usage
    return Reply(
        text=text,
        parsed=parsed,
        usage=TokenUsage(
            prompt=usage.input_tokens,
            completion=usage.output_tokens,
            cache_read=usage.cache_read_input_tokens or 0,
            cache_write=usage.cache_creation_input_tokens or 0,
        ),
        model=name,
        latency_s=latency,
        finish_reason="length" if message.stop_reason in _LENGTH_REASONS else "stop",
        extra={"id": message.id, "stop_reason": message.stop_reason},
    )
