"""Per-action settings: `[tool.swarm-lsp.actions.<action>]` and how later sources merge into them.

An action may set `tiers`, `candidates` and `reviewers` for its own jobs. They are validated by the
same parsers as the top-level keys; a later source's top-level key (a command-line or editor
`tiers`) replaces what earlier sources set for one action, so the last word stays the user's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from swarm_lsp.server.config_values import Invalid, show

ACTION_NAMES = ("document", "tests", "refactor", "audit")
ACTION_KEYS = ("tiers", "candidates", "reviewers", "context_tokens")  # what one action may set for itself

ActionSettings = tuple[tuple[str, tuple[tuple[str, Any], ...]], ...]


def _frozen(tables: Mapping[str, Mapping[str, Any]]) -> ActionSettings:
    return tuple(sorted((action, tuple(sorted(items.items()))) for action, items in tables.items()))


def actions_parser(parsers: Mapping[str, Callable[[Any], Any]]) -> Callable[[Any], ActionSettings]:
    """The parser of the `actions` key, validating each action's keys with `parsers`."""

    def parse_actions(value: Any) -> ActionSettings:
        """`{audit = {tiers = [...]}, ...}`: per action, validated as the same keys at the top level."""
        if isinstance(value, tuple):  # already parsed (direct construction, dataclasses.replace)
            value = {action: dict(items) for action, items in value}
        if not isinstance(value, Mapping):
            raise Invalid('expected a table of actions such as {audit = {tiers = ["llamacpp:qwen2.5-coder-1.5b"]}}')
        parsed: dict[str, dict[str, Any]] = {}
        for action, table in value.items():
            if action not in ACTION_NAMES:
                raise Invalid(f"unknown action {action!r}; expected one of {', '.join(ACTION_NAMES)}")
            if not isinstance(table, Mapping):
                raise Invalid(f"actions.{action}: expected a table of {', '.join(ACTION_KEYS)}")
            items = parsed[action] = {}
            for raw_key, item in table.items():
                key = raw_key.replace("-", "_") if isinstance(raw_key, str) else str(raw_key)
                if key not in ACTION_KEYS:
                    raise Invalid(f"actions.{action}.{raw_key}: an action may set {', '.join(ACTION_KEYS)}")
                try:
                    items[key] = parsers[key](item)
                except Invalid as exc:
                    raise Invalid(f"actions.{action}.{raw_key} = {show(item)}: {exc}") from None
        return _frozen(parsed)

    return parse_actions


def update_settings(values: dict[str, Any], new: dict[str, Any]) -> None:
    """`values.update(new)` for a later source, except that per-action settings merge key by key
    with earlier ones, and a key the later source sets for every action (`tiers` from the command
    line or the editor) replaces what earlier sources set for one action."""
    overridden = set(new) & set(ACTION_KEYS)
    if overridden and values.get("actions"):
        values["actions"] = tuple((action, kept) for action, items in values["actions"]
                                  if (kept := tuple((k, v) for k, v in items if k not in overridden)))
    for name, value in new.items():
        if name == "actions":
            merged = {action: dict(items) for action, items in values.get("actions", ())}
            for action, items in value:
                merged.setdefault(action, {}).update(dict(items))
            value = _frozen(merged)
        values[name] = value
