"""Parsers for configuration values: each takes what a user wrote (TOML, an environment variable,
a flag, LSP initializationOptions) and returns the typed value or raises `Invalid` with what would
have been accepted."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.backends.base import BACKEND_KINDS
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.models import MODELS
from swarm_lsp.swarm.tiers import parse_tier

MAX_THREADS = 256


class Invalid(SwarmLspError):
    """Raised by a field parser; the argument completes "key = value in source: ..."."""


def integer(lo: int, hi: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise Invalid(f"expected an integer from {lo} to {hi}") from None
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise Invalid(f"expected an integer from {lo} to {hi}")
        return value

    return parse


def number(lo: float, hi: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        expected = f"expected a number from {lo:g} to {hi:g}"
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise Invalid(expected) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(expected)
        if not math.isfinite(value) or not lo <= value <= hi:
            raise Invalid(expected)
        return float(value)

    return parse


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    raise Invalid("expected true or false")


def choice(options: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise Invalid(f"expected one of {', '.join(options)}")

    return parse


def threads(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return integer(1, MAX_THREADS)(value)
    except Invalid:
        raise Invalid(f'expected "auto" (all cores) or an integer from 1 to {MAX_THREADS}') from None


def path(value: Any) -> str:
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return str(Path(value).expanduser())
    raise Invalid("expected a non-empty path")


def embedder(value: Any) -> str:
    """A memory embedder name (swarm.memory.embedders): wordllama, llamacpp:MODEL or ollama:MODEL."""
    name = value.strip() if isinstance(value, str) else ""
    kind, _, model = name.partition(":")
    if name == "wordllama" or (kind == "ollama" and model) or (kind == "llamacpp" and model in MODELS):
        return name
    raise Invalid(f'expected "wordllama", "llamacpp:" followed by one of {", ".join(MODELS)}, '
                  'or "ollama:MODEL" (e.g. "ollama:nomic-embed-text")')


def url(value: Any) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if text.startswith(("http://", "https://")) and len(text) > len("https://"):
        return text
    raise Invalid("expected a URL such as http://chroma.internal:8000")


def backend(spec: str) -> str:
    try:
        name = parse_tier(spec).name
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    kind, sep, model = name.partition(":")
    if not sep or kind not in BACKEND_KINDS or not model:
        raise Invalid(
            f"{json.dumps(name)} is not a backend name; expected \"kind:model\" with kind one of "
            f"{', '.join(BACKEND_KINDS)} (e.g. \"llamacpp:qwen2.5-coder-0.5b\")"
        )
    if kind == "openai":
        _check_endpoint_options(name)
    if kind == "llamacpp" and model not in MODELS:
        raise Invalid(
            f"{json.dumps(name)} is not an embedded model; expected llamacpp: followed by one of "
            f"{', '.join(MODELS)}"
        )
    return spec


def _check_endpoint_options(name: str) -> None:
    """What an OpenAI-compatible tier writes of its servers is well formed (OPENAI_BASE_URL is read at run time)."""
    from swarm_lsp.swarm.backends.endpoints import check_url, parse_cloud, split_options

    _, options = split_options(name)
    try:
        for url in filter(None, (u.strip() for u in options.get("base_url", "").split(","))):
            check_url(url)
        parse_cloud(options.get("cloud"))
    except ValueError as exc:
        raise Invalid(f"{json.dumps(name)}: {exc}") from None


def backend_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise Invalid('expected a list of backend names such as ["llamacpp:qwen2.5-coder-0.5b"]')
    return tuple(backend(v.strip()) for v in value if v.strip())


def tiers(value: Any) -> tuple[str, ...]:
    names = backend_list(value)
    if not names:
        raise Invalid("expected at least one backend name")
    return names


def string_list(check: Callable[[str], str] | None = None, example: str = '["a", "b"]') -> Callable[[Any], tuple[str, ...]]:
    """A list of strings (or one comma-separated string), each optionally checked by `check`."""
    def parse(value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise Invalid(f"expected a list of strings such as {example}")
        items = [v.strip() for v in value if v.strip()]
        if check is not None:
            try:
                items = [check(v) for v in items]
            except ValueError as exc:
                raise Invalid(str(exc)) from None
        return tuple(items)

    return parse


def show(value: Any) -> str:
    """A setting's value as the user would have written it in TOML, for error messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, os.PathLike):
        return json.dumps(os.fspath(value), ensure_ascii=False)
    return repr(value)
