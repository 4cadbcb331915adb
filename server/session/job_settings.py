"""Per-job overrides (`swarm.run` options, MCP tool arguments, CLI flags) validated through the
session's configuration: the same parsers, ranges and messages as every other setting, and an
error that names the key for anything unknown, not settable per job, or meant for another action."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swarm_lsp.server.config import KNOWN_KEYS, Config, ConfigError
from swarm_lsp.swarm.actions.base import Action
from swarm_lsp.swarm.settings import REQUEST_OPTIONS, ActionOptions, SwarmSettings

# Settings a single job may change; the rest configure the process (models, ledger, queue, logs).
JOB_KEYS = ("tiers", "candidates", "reviewers", "reviewer_tiers", "escalation", "max_tokens", "temperature",
            "seed", "cloud_budget_action", "doc_style", "doc_examples", "doc_reviewers", "coverage_goal", "test_timeout", "test_memory_mb",
            "mutants", "audit_skip")
REQUEST_OPTION_TYPES: dict[str, tuple[type, str]] = {
    "instruction": (str, "a string saying what to change"),
    "preset": (str, "a preset name"),
    "fixes": (dict, "an object {rule, cwe, line}"),
}


@dataclass(frozen=True)
class JobSettings:
    swarm: SwarmSettings
    options: ActionOptions


def job_settings(config: Config, action: Action, overrides: Any, source: str) -> JobSettings:
    """The settings one job of `action` runs with: `config` with `overrides` on top."""
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        raise ConfigError(f"{source}: expected an object of options, got {type(overrides).__name__}", source=source)
    configured: dict[str, Any] = {}
    per_request: dict[str, Any] = {}
    for raw_key, value in overrides.items():
        key = raw_key.replace("-", "_") if isinstance(raw_key, str) else str(raw_key)
        if key in action.option_keys:
            per_request[key] = _request_option(key, value, source)
        elif key in JOB_KEYS:
            configured[raw_key] = value
        else:
            raise _not_a_job_option(str(raw_key), key, action, source)
    config = config.for_action(action.kind)  # `actions.<kind>` settings, then the request's on top
    merged = config.merged(configured, source) if configured else config
    return JobSettings(merged.swarm_settings(), merged.action_options(**per_request))


def _request_option(key: str, value: Any, source: str) -> Any:
    kind, expected = REQUEST_OPTION_TYPES[key]
    if value is None:
        return None
    if not isinstance(value, kind):
        raise ConfigError(f"{key} = {value!r} in {source}: expected {expected}", key=key, source=source, value=value)
    return value


def _not_a_job_option(raw_key: str, key: str, action: Action, source: str) -> ConfigError:
    if key in REQUEST_OPTIONS:
        return ConfigError(f"option {raw_key!r} in {source} does not apply to the {action.kind} action",
                           key=key, source=source)
    if key in KNOWN_KEYS:
        return ConfigError(f"option {raw_key!r} in {source} cannot change for one job (it configures the "
                           "process); set it in swarm-lsp.toml, pyproject.toml or the editor's settings",
                           key=key, source=source)
    allowed = (*JOB_KEYS, *action.option_keys)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown option {raw_key!r} in {source}{hint} (options: {', '.join(allowed)})",
                       key=key, source=source)
