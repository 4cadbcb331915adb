"""Progress events from `Swarm.run`; adapters turn them into LSP $/progress, MCP progress or the CLI bar."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

log = logging.getLogger(__name__)

STAGES = ("analyse", "write", "gates", "review", "progress", "escalate", "budget", "verify", "done")


@dataclass(frozen=True)
class Event:
    stage: str  # one of STAGES
    message: str
    tier: str | None = None
    candidate: int | None = None  # 0-based within the tier
    data: dict[str, Any] = field(default_factory=dict)


EventSink = Callable[[Event], None]


def emit(sink: EventSink | None, event: Event) -> None:
    """Deliver an event; a failing sink is logged, never allowed to break the job."""
    if sink is None:
        return
    try:
        sink(event)
    except Exception:
        log.exception("progress sink failed on %s", event.stage)
