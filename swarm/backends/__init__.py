"""Backend construction from `kind:model` names (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swarm_lsp.swarm.backends.base import BACKEND_KINDS, Backend, BackendError, split_backend_name


@dataclass(frozen=True)
class BackendSettings:
    n_ctx: int = 4096
    threads: int | None = None
    repeat_penalty: float = 1.1
    models_dir: str | Path | None = None
    secrets: tuple[str, ...] = ()  # values redacted from anything sent to a cloud backend (.env values)
    model_host: str = "shared"  # embedded models: loaded in this process, or "shared" by the machine's host


def create_backend(name: str, settings: BackendSettings = BackendSettings()) -> Backend:
    """Build the backend a tier names; raises BackendError with a clear message when it can't."""
    try:
        kind, model = split_backend_name(name)
    except ValueError as exc:
        raise BackendError(str(exc)) from exc
    if kind == "llamacpp" and settings.model_host == "shared":
        from swarm_lsp.swarm.backends.shared_host import SharedHostBackend
        from swarm_lsp.swarm.models import UnknownModel

        try:
            return SharedHostBackend(model, n_ctx=settings.n_ctx, threads=settings.threads,
                                     models_dir=settings.models_dir)
        except UnknownModel as exc:
            raise BackendError(str(exc)) from exc
    if kind == "llamacpp":
        from swarm_lsp.swarm.backends.llamacpp import LlamaCppBackend

        try:
            return LlamaCppBackend(
                model,
                n_ctx=settings.n_ctx,
                threads=settings.threads,
                repeat_penalty=settings.repeat_penalty,
                models_dir=settings.models_dir,
            )
        except (KeyError, LookupError, ValueError) as exc:
            raise BackendError(str(exc)) from exc
    if kind == "ollama":
        from swarm_lsp.swarm.backends.ollama import OllamaBackend

        return OllamaBackend(model, options={"repeat_penalty": settings.repeat_penalty})
    if kind == "openai":
        return _openai_backend(name, settings)
    if kind == "anthropic":
        from swarm_lsp.swarm.backends.anthropic import AnthropicBackend

        return AnthropicBackend(model, extra_secrets=settings.secrets)
    raise BackendError(f"backend kind {kind!r} is unknown (available: {', '.join(BACKEND_KINDS)})")


def _openai_backend(name: str, settings: BackendSettings) -> Backend:
    import os

    from swarm_lsp.swarm.backends.endpoints import (
        BACKEND_OPTIONS, base_urls, endpoint_is_cloud, parse_cloud, split_options,
    )
    from swarm_lsp.swarm.backends.openai_compat import OpenAICompatBackend

    bare, options = split_options(name)
    unknown = sorted(set(options) - set(BACKEND_OPTIONS))
    if unknown:
        raise BackendError(f"{name}: unknown option(s) {', '.join(unknown)} (expected {', '.join(BACKEND_OPTIONS)})")
    try:
        parse_cloud(options.get("cloud"))
        return OpenAICompatBackend(name, bare.partition(":")[2], base_urls(options), cloud=endpoint_is_cloud(name),
                                   api_key=os.environ.get("OPENAI_API_KEY") or None, extra_secrets=settings.secrets)
    except ValueError as exc:
        raise BackendError(str(exc)) from exc
