"""The SQL behind the savings report (swarm/report.py): grouped reads of the ledger's `calls` and
`actions` tables, every one filtered by the same `since` / `workspace` clause as `Ledger.totals`.

Days are the first ten characters of the stored time: the ledger keeps ISO-8601 UTC text, so a day
is a UTC date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from swarm_lsp.swarm.ledger import Ledger, filter_clause

# prompt + completion, as Ledger.totals counts them (provider cache reads/writes are kept apart)
_TOKENS = "prompt_tokens + completion_tokens"


@dataclass(frozen=True)
class ActionRow:
    action: str
    status: str
    day: str  # UTC date, YYYY-MM-DD
    local_tokens: int
    cloud_tokens: int
    elapsed_s: float
    used_cloud: bool  # a cloud tier accepted it, or any of its calls went to a cloud backend


def action_rows(ledger: Ledger, since: datetime | None, workspace: str | None) -> list[ActionRow]:
    """One row per recorded action, oldest first."""
    clause, params = filter_clause(since, workspace)
    rows = ledger.query(
        "SELECT action, status, substr(time, 1, 10) AS day, local_tokens, cloud_tokens, elapsed_s,"
        " (cloud_tokens > 0 OR EXISTS (SELECT 1 FROM calls"
        "   WHERE calls.action_id = actions.action_id AND calls.cloud = 1)) AS used_cloud"
        f" FROM actions{clause} ORDER BY time, id",
        params,
    )
    return [ActionRow(**{**dict(row), "used_cloud": bool(row["used_cloud"])}) for row in rows]


def calls_by_model(ledger: Ledger, since: datetime | None, workspace: str | None) -> list[dict[str, Any]]:
    """Per backend name (`kind:model`): calls, failures, tokens and the calls whose usage swarm-lsp
    counted itself because the server reported none."""
    clause, params = filter_clause(since, workspace)
    rows = ledger.query(
        "SELECT backend, MAX(cloud) AS cloud, COUNT(*) AS calls,"
        " SUM(outcome != 'ok') AS failed_calls,"
        " SUM(prompt_tokens) AS prompt_tokens, SUM(completion_tokens) AS completion_tokens,"
        " SUM(usage_estimated) AS usage_estimated_calls,"
        f" COALESCE(SUM(CASE WHEN usage_estimated = 1 THEN {_TOKENS} END), 0) AS estimated_tokens"
        f" FROM calls{clause} GROUP BY backend ORDER BY backend",
        params,
    )
    return [{**dict(row), "cloud": bool(row["cloud"])} for row in rows]


def ok_call_latencies(ledger: Ledger, since: datetime | None, workspace: str | None) -> dict[str, list[float]]:
    """Latencies of the calls that answered, per backend (a failed call's latency says nothing)."""
    clause, params = filter_clause(since, workspace)
    latencies: dict[str, list[float]] = {}
    for row in ledger.query(f"SELECT backend, outcome, latency_s FROM calls{clause}", params):
        if row["outcome"] == "ok":
            latencies.setdefault(row["backend"], []).append(row["latency_s"])
    return latencies


def _tokens_grouped(ledger: Ledger, key: str, since: datetime | None,
                    workspace: str | None) -> dict[str, dict[str, int]]:
    """Calls and measured local and cloud tokens, per value of the SQL expression `key`, in its order."""
    clause, params = filter_clause(since, workspace)
    rows = ledger.query(
        f"SELECT {key} AS grouped, COUNT(*) AS calls,"
        f" COALESCE(SUM(CASE WHEN cloud = 0 THEN {_TOKENS} END), 0) AS local_tokens,"
        f" COALESCE(SUM(CASE WHEN cloud = 1 THEN {_TOKENS} END), 0) AS cloud_tokens"
        f" FROM calls{clause} GROUP BY grouped ORDER BY grouped",
        params,
    )
    return {row["grouped"]: {k: row[k] for k in ("calls", "local_tokens", "cloud_tokens")} for row in rows}


def tokens_by_action(ledger: Ledger, since: datetime | None, workspace: str | None) -> dict[str, dict[str, int]]:
    """Calls and measured local and cloud tokens, per action kind ("" for calls of no action)."""
    return _tokens_grouped(ledger, "COALESCE(action, '')", since, workspace)


def tokens_by_day(ledger: Ledger, since: datetime | None, workspace: str | None) -> dict[str, dict[str, int]]:
    """Measured local and cloud tokens of the calls, per UTC day."""
    return {day: {"local_tokens": row["local_tokens"], "cloud_tokens": row["cloud_tokens"]}
            for day, row in _tokens_grouped(ledger, "substr(time, 1, 10)", since, workspace).items()}
