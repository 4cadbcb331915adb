"""One typed configuration, parsed once, from every place a user can set it.

Later sources override earlier ones: defaults < `[tool.swarm-lsp]` in `<workspace>/pyproject.toml`
< `<workspace>/swarm-lsp.toml` < `SWARM_LSP_<KEY>` environment variables < command-line flags
< LSP initializationOptions (via `Config.merged`). Every source goes through `parse_config_dict`,
so an invalid value is reported the same way wherever it came from: key, source, value and what
would have been accepted.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarm_lsp.server import config_values as parse
from swarm_lsp.server.config_actions import actions_parser, update_settings
from swarm_lsp.server.config_values import Invalid, show
from swarm_lsp.swarm.audit.suppress import parse_rule
from swarm_lsp.swarm.errors import InputError
from swarm_lsp.swarm.settings import CONFIGURED_OPTIONS, DOC_EXAMPLES, DOC_REVIEWERS, DOC_STYLES, LIMITS, ROUTING_MODES, ActionOptions, SwarmSettings
from swarm_lsp.swarm.tiers import ESCALATION_MODES, LOCAL_DEFAULT_TIERS, default_tiers

LOG_LEVELS = ("debug", "info", "warning", "error")
MODEL_HOSTS = ("in-process", "shared")
ENV_PREFIX = "SWARM_LSP_"
CONFIG_FILE = "swarm-lsp.toml"
PYPROJECT_TABLE = "swarm-lsp"


class ConfigError(InputError):
    def __init__(self, message: str, *, key: str | None = None, source: str | None = None,
                 value: Any = None) -> None:
        super().__init__(message)
        self.key = key
        self.source = source
        self.value = value


@dataclass(frozen=True)
class Config:
    # Defaults of what the swarm and the actions read come from swarm/settings.py, the one source.
    tiers: tuple[str, ...] = LOCAL_DEFAULT_TIERS  # load_config adds the cloud tier when a key is set
    candidates: int = SwarmSettings.candidates
    reviewers: int = SwarmSettings.reviewers
    reviewer_tiers: tuple[str, ...] = SwarmSettings.reviewer_tiers
    escalation: str = SwarmSettings.escalation
    cloud_budget_action: int = SwarmSettings.cloud_budget_action
    cloud_budget_day: int = SwarmSettings.cloud_budget_day
    max_queued_jobs: int = 8  # language server: jobs waiting behind the running one
    max_tokens: int = SwarmSettings.max_tokens
    temperature: float = SwarmSettings.temperature
    repeat_penalty: float = 1.1
    n_ctx: int = 4096
    threads: int | None = None  # None: all cores
    model_host: str = "shared"  # embedded models: in this process, or "shared" by one host per machine
    doc_style: str = ActionOptions.doc_style
    doc_examples: str = ActionOptions.doc_examples
    doc_reviewers: str = ActionOptions.doc_reviewers
    coverage_goal: float = ActionOptions.coverage_goal
    test_timeout: float = ActionOptions.test_timeout
    test_memory_mb: int = ActionOptions.test_memory_mb
    mutants: int = ActionOptions.mutants
    differential_inputs: int = ActionOptions.differential_inputs
    differential_seconds: float = ActionOptions.differential_seconds
    audit_on_save: bool = False  # language server: audit a Python file when it is saved (debounced)
    audit_skip: tuple[str, ...] = ActionOptions.audit_skip
    audit_exclude: tuple[str, ...] = ()  # check: workspace-relative path globs not audited
    ledger_path: str | None = None  # None: swarm.ledger's default
    memory: bool = True  # index the project (on save, `swarm-lsp index`) and give actions related code
    memory_embedder: str = "wordllama"
    memory_url: str | None = None  # a team's Chroma server; None: a store per workspace in the user data folder
    context_tokens: int = SwarmSettings.context_tokens
    routing: str = SwarmSettings.routing
    models_dir: str | None = None  # None: swarm.models' default
    log_level: str = "warning"
    seed: int = SwarmSettings.seed
    # Per action, settings that replace the ones above for that action's jobs:
    # ((action, ((key, value), ...)), ...), from `[tool.swarm-lsp.actions.<action>]`.
    actions: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    def __post_init__(self) -> None:
        # Direct construction (and dataclasses.replace) gets the same checks as loaded values.
        for name in _PARSERS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            object.__setattr__(self, name, _parse_field(name, name, value, "Config arguments"))

    def to_dict(self) -> dict[str, Any]:
        shown = {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)
        }
        shown["actions"] = {action: {key: list(value) if isinstance(value, tuple) else value for key, value in items}
                            for action, items in self.actions}
        return shown

    def swarm_settings(self) -> SwarmSettings:
        return SwarmSettings(**{f.name: getattr(self, f.name) for f in dataclasses.fields(SwarmSettings)})

    def action_options(self, **per_request: Any) -> ActionOptions:
        """What actions read: the configured options plus one request's own (instruction...)."""
        return ActionOptions(**{name: getattr(self, name) for name in CONFIGURED_OPTIONS}, **per_request)

    def merged(self, data: Any, source: str, *, base_dir: Path | None = None) -> Config:
        """This config with the settings in `data` (e.g. LSP initializationOptions) on top."""
        values: dict[str, Any] = {"actions": self.actions}
        update_settings(values, parse_config_dict(data, source, base_dir=base_dir))
        return dataclasses.replace(self, **values)

    def for_action(self, action: str) -> Config:
        """The configuration one job of `action` runs with: its `actions.<action>` settings on top."""
        own = dict(self.actions).get(action)
        return dataclasses.replace(self, **dict(own)) if own else self


def _bounded(name: str) -> Callable[[Any], Any]:
    low, high = LIMITS[name]
    return parse.integer(int(low), int(high)) if isinstance(low, int) else parse.number(low, high)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "tiers": parse.tiers,
    "candidates": _bounded("candidates"),
    "reviewers": _bounded("reviewers"),
    "reviewer_tiers": parse.backend_list,
    "escalation": parse.choice(ESCALATION_MODES),
    "cloud_budget_action": _bounded("cloud_budget_action"),
    "cloud_budget_day": _bounded("cloud_budget_day"),
    "max_queued_jobs": parse.integer(0, 100),
    "max_tokens": _bounded("max_tokens"),
    "temperature": _bounded("temperature"),
    "repeat_penalty": parse.number(1, 2),
    "n_ctx": parse.integer(512, 32768),
    "threads": parse.threads,
    "model_host": parse.choice(MODEL_HOSTS),
    "doc_style": parse.choice(DOC_STYLES),
    "doc_examples": parse.choice(DOC_EXAMPLES),
    "doc_reviewers": parse.choice(DOC_REVIEWERS),
    "coverage_goal": _bounded("coverage_goal"),
    "test_timeout": _bounded("test_timeout"),
    "test_memory_mb": _bounded("test_memory_mb"),
    "mutants": _bounded("mutants"),
    "differential_inputs": _bounded("differential_inputs"),
    "differential_seconds": _bounded("differential_seconds"),
    "audit_on_save": parse.boolean,
    "ledger_path": parse.path,
    "memory": parse.boolean,
    "memory_embedder": parse.embedder,
    "memory_url": parse.url,
    "context_tokens": _bounded("context_tokens"),
    "routing": parse.choice(ROUTING_MODES),
    "models_dir": parse.path,
    "log_level": parse.choice(LOG_LEVELS),
    "seed": _bounded("seed"),
    "audit_skip": parse.string_list(parse_rule, '["B101", "CWE-703"]'),
    "audit_exclude": parse.string_list(example='["tests/**", "bench/"]'),
}
_PARSERS["actions"] = actions_parser(_PARSERS)
_OPTIONAL = frozenset({"threads", "ledger_path", "models_dir", "memory_url"})
_PATHS = frozenset({"ledger_path", "models_dir"})
KNOWN_KEYS = tuple(_PARSERS)


def _parse_field(name: str, shown_key: str, value: Any, source: str) -> Any:
    try:
        return _PARSERS[name](value)
    except Invalid as exc:
        raise ConfigError(
            f"{shown_key} = {show(value)} in {source}: {exc}", key=name, source=source, value=value
        ) from None


def _unknown_key(key: Any, source: str) -> ConfigError:
    close = difflib.get_close_matches(str(key).replace("-", "_"), KNOWN_KEYS, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    return ConfigError(
        f"unknown key {str(key)!r} in {source}{hint} Known keys: {', '.join(KNOWN_KEYS)}",
        key=str(key), source=source,
    )


def parse_config_dict(data: Any, source: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Validate settings from one source into {field: typed value}. Keys may be snake_case or
    kebab-case; None values mean "not set". Relative paths are taken relative to `base_dir`."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a table of settings, got {show(data)}", source=source)
    result: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for raw_key, value in data.items():
        name = raw_key.replace("-", "_") if isinstance(raw_key, str) else raw_key
        if name not in _PARSERS:
            raise _unknown_key(raw_key, source)
        if name in spelled:
            raise ConfigError(
                f"{name} is given twice in {source} (as {spelled[name]} and {raw_key})",
                key=name, source=source,
            )
        spelled[name] = raw_key
        if value is None:
            continue
        parsed = _parse_field(name, raw_key, value, source)
        if name in _PATHS and base_dir is not None and parsed is not None:
            parsed = str(base_dir / parsed)  # an absolute `parsed` wins over base_dir
        result[name] = parsed
    return result


def _env_value(name: str, raw: str) -> Any:
    """SWARM_LSP_ACTIONS holds JSON (`{"audit": {"tiers": [...]}}`); the other variables plain text."""
    if name != "actions":
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        return f"not JSON: {exc}"  # refused by the parser with the variable named


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}", source=str(path)) from None


def load_config(
    workspace: Path | str,
    *,
    env: Mapping[str, str] = os.environ,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """The configuration for `workspace`; raises ConfigError on the first invalid setting."""
    workspace = Path(workspace)
    values: dict[str, Any] = {}

    pyproject = workspace / "pyproject.toml"
    if pyproject.is_file():
        tool = _read_toml(pyproject).get("tool")
        table = tool.get(PYPROJECT_TABLE) if isinstance(tool, dict) else None
        if table is not None:
            source = f"{pyproject} [tool.{PYPROJECT_TABLE}]"
            update_settings(values, parse_config_dict(table, source, base_dir=workspace))

    own_file = workspace / CONFIG_FILE
    if own_file.is_file():
        update_settings(values, parse_config_dict(_read_toml(own_file), str(own_file), base_dir=workspace))

    for name in KNOWN_KEYS:
        var = ENV_PREFIX + name.upper()
        raw = env.get(var, "")
        if raw.strip():  # an empty variable counts as unset
            update_settings(values, parse_config_dict({name: _env_value(name, raw)}, f"environment variable {var}"))

    if overrides:
        update_settings(values, parse_config_dict(overrides, "command line"))
    values.setdefault("tiers", default_tiers(env))
    return Config(**values)
