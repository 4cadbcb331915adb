"""The tests action's options (from the configuration or a front end's `options`), checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from swarm_lsp.swarm.actions.base import ActionInputError


@dataclass(frozen=True)
class TestsSettings:
    __test__ = False

    coverage_goal: float = 1.0  # line and branch coverage of the target at which the job is done
    test_timeout: float = 10.0  # seconds per pytest process in the sandbox
    memory_mb: int = 1024  # address-space limit per pytest process
    mutants: int = 30  # at most this many mutants are run for the mutation score; 0 turns it off

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> "TestsSettings":
        goal = _number(options, "coverage_goal", cls.coverage_goal, 0.0, 1.0)
        timeout = _number(options, "test_timeout", cls.test_timeout, 0.5, 600.0)
        memory = int(_number(options, "test_memory_mb", cls.memory_mb, 64, 65536, integer=True))
        mutants = int(_number(options, "mutants", cls.mutants, 0, 1000, integer=True))
        return cls(goal, timeout, memory, mutants)


def _number(options: dict[str, Any], key: str, default: float, low: float, high: float,
            *, integer: bool = False) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and value != int(value)):
        kind = "an integer" if integer else "a number"
        raise ActionInputError(f"option {key}={value!r}: expected {kind} from {low:g} to {high:g}")
    if not low <= value <= high:
        raise ActionInputError(f"option {key}={value!r}: expected a value from {low:g} to {high:g}")
    return value
