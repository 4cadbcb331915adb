"""Backend construction from `kind:model` names (DESIGN.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from swarm_lsp.swarm.backends.base import Backend, BackendError, split_backend_name

AVAILABLE_KINDS = ("llamacpp",)  # ollama and anthropic arrive with issue #3


@dataclass(frozen=True)
class BackendSettings:
    n_ctx: int = 4096
    threads: int | None = None
    repeat_penalty: float = 1.1
    models_dir: str | Path | None = None


def create_backend(name: str, settings: BackendSettings = BackendSettings()) -> Backend:
    """Build the backend a tier names; raises BackendError with a clear message when it can't."""
    try:
        kind, model = split_backend_name(name)
    except ValueError as exc:
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
    raise BackendError(
        f"backend kind {kind!r} is not available in this version of swarm-lsp "
        f"(available: {', '.join(AVAILABLE_KINDS)})"
    )
