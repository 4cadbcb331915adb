"""The savings report: what the ledger says about actions, models and tokens, as one plain dict.

`swarm-lsp report --json`, the language server's `swarm.report` command and the MCP `token_report`
tool (and its `swarm://report` resource) all return `build_report(...)`, so the keys below are the
contract for scripts (`report_version` changes if one is removed or changes meaning):

- `report_version`: 1. `ledger`: the ledger file. `filters`: `since` (ISO UTC or null), `workspace`
  (or null): the rows every figure below counts (except `today` / `workspace` / `all_time`).
- `message`: "no actions recorded" when no action row matches, else null.
- `actions`: `total`, `by_status` (accepted / rejected / failed / cancelled), `accepted_locally`
  (accepted, no cloud call), `escalated` (accepted by a cloud tier or after a cloud call),
  `not_accepted` (rejected + failed + cancelled).
- `calls`: `total`, `local`, `cloud`, `failed` (outcome error or cancelled), `usage_estimated`
  (calls whose server reported no usage, so swarm-lsp counted the tokens itself).
- `tokens` (measured, prompt + completion): `local`, `cloud`, `usage_estimated` (the part of
  local + cloud counted by swarm-lsp, see above), `cache_read`, `cache_write` (provider prompt
  cache, not added into `cloud`).
- `avoided_cloud_tokens`: an ESTIMATE, never measured: `estimate` (tokens), `is_estimate` (true),
  `factor`, `local_tokens` (what the factor multiplies), `actions` (how many it covers), `method`.
- `by_action`: per action kind: `actions`, `by_status`, `accepted_locally`, `escalated`,
  `not_accepted`, `calls`, `local_tokens`, `cloud_tokens` (measured, from the calls),
  `avoided_cloud_tokens_estimate`, `elapsed_s` {`median`, `p90`} (whole-action wall time).
- `by_model`: per backend name (`kind:model`): `cloud`, `calls`, `failed_calls`, `prompt_tokens`,
  `completion_tokens`, `tokens`, `usage_estimated_calls`, `estimated_tokens`, `median_latency_s`
  (calls that answered; null when none did).
- `by_day`: list, oldest first, of {`day` (UTC date), `local_tokens`, `cloud_tokens`,
  `avoided_cloud_tokens_estimate`}.
- `today`, `workspace`, `all_time`: `Ledger.totals()` since UTC midnight, for the serving
  workspace, and for everything, whatever the filters (what the editors' status bars show).
- `note`: which numbers are measured and which estimated.

Percentiles are nearest-rank (p90 of 10 values is the 9th smallest); figures are rounded to 3
decimals (seconds) or whole tokens, each on its own.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.ledger import STATUSES, Ledger, format_time
from swarm_lsp.swarm.report_queries import (
    ActionRow, action_rows, calls_by_model, ok_call_latencies, tokens_by_action, tokens_by_day,
)
from swarm_lsp.swarm.tiers import start_of_today

REPORT_VERSION = 1

# Cloud-model (Claude) tokens per local-model (Qwen2.5) token for the same text. Claude's tokenizer
# is not public. Gupta (VentureBeat, 2025, Claude 3.5 Sonnet vs GPT-4o) measured Claude's at 1.16x
# GPT-4o's tokens on English articles, 1.21x on math and 1.30x on Python code; Qwen2.5's tokenizer
# counts like GPT-4o's o200k on this repository (measured: 1.00 on swarm/ Python, 0.98 on prose).
# The swarm's prompts mix code and English; we take the lowest published ratio so the estimate
# leans low, since counting every local call (reviewers too) already leans high.
CLOUD_TOKENS_PER_LOCAL_TOKEN = 1.16
AVOIDED_METHOD = (
    "ESTIMATE, not measured: for each action accepted with no cloud call, its local prompt + completion "
    f"tokens (counted by the local model's tokenizer, Qwen2.5) times {CLOUD_TOKENS_PER_LOCAL_TOKEN}, the "
    "cloud model's (Claude's) tokens per Qwen2.5 token for the same text: Claude 3.5 Sonnet's tokenizer "
    "counted 1.16x GPT-4o's on English and 1.30x on Python (Gupta, VentureBeat 2025) and Qwen2.5 counts "
    "like GPT-4o (measured on this repository); the lower ratio is used. Every local call of the action "
    "(writers and reviewers) is counted as if it had gone to the cloud."
)
NOTE = ("tokens, calls, actions and latencies are measured from the ledger (tokens = prompt + completion; "
        "`usage_estimated` tokens were counted by swarm-lsp because the server reported none); "
        "avoided_cloud_tokens is an estimate (see its method)")
NOT_ACCEPTED = tuple(s for s in STATUSES if s != "accepted")

_RELATIVE = re.compile(r"(\d+)([dh])")
_UNITS = {"d": "days", "h": "hours"}


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`YYYY-MM-DD` (UTC midnight), an ISO datetime (naive = UTC) or `7d` / `24h` before `now`."""
    value = text.strip()
    try:
        if match := _RELATIVE.fullmatch(value):
            return (now or datetime.now(timezone.utc)) - timedelta(**{_UNITS[match[2]]: int(match[1])})
        parsed = datetime.fromisoformat(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{text!r} is not a time: expected YYYY-MM-DD, an ISO datetime such as "
                         "2025-06-01T09:00 (UTC unless it has an offset), or 7d / 24h") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def workspace_key(path: str | Path) -> str:
    """How the ledger names a workspace: the session root's resolved path."""
    return str(Path(path).expanduser().resolve())


def avoided_tokens(local_tokens: int) -> int:
    return round(local_tokens * CLOUD_TOKENS_PER_LOCAL_TOKEN)


def median(values: Sequence[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def p90(values: Sequence[float]) -> float | None:
    if not values:
        return None
    return round(sorted(values)[math.ceil(0.9 * len(values)) - 1], 3)


def _outcome_counts(rows: Sequence[ActionRow]) -> dict[str, Any]:
    by_status = dict.fromkeys(STATUSES, 0)
    for row in rows:
        by_status[row.status] += 1
    return {
        "by_status": by_status,
        "accepted_locally": sum(_finished_locally(r) for r in rows),
        "escalated": sum(r.status == "accepted" and r.used_cloud for r in rows),
        "not_accepted": sum(by_status[s] for s in NOT_ACCEPTED),
    }


def _finished_locally(row: ActionRow) -> bool:
    return row.status == "accepted" and not row.used_cloud


def _by_action(rows: Sequence[ActionRow], tokens: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
    kinds = sorted({r.action for r in rows} | set(tokens))
    report = {}
    for kind in kinds:
        own = [r for r in rows if r.action == kind]
        measured = tokens.get(kind, {"calls": 0, "local_tokens": 0, "cloud_tokens": 0})
        elapsed = [r.elapsed_s for r in own]
        report[kind or "(none)"] = {
            "actions": len(own), **_outcome_counts(own), **measured,
            "avoided_cloud_tokens_estimate": avoided_tokens(sum(r.local_tokens for r in own if _finished_locally(r))),
            "elapsed_s": {"median": median(elapsed), "p90": p90(elapsed)},
        }
    return report


def _by_model(ledger: Ledger, since: datetime | None, workspace: str | None) -> dict[str, dict[str, Any]]:
    latencies = ok_call_latencies(ledger, since, workspace)
    report = {}
    for row in calls_by_model(ledger, since, workspace):
        backend = row.pop("backend")
        report[backend] = {**row, "tokens": row["prompt_tokens"] + row["completion_tokens"],
                           "median_latency_s": median(latencies.get(backend, []))}
    return report


def _by_day(rows: Sequence[ActionRow], tokens: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    local_base: dict[str, int] = {}
    for row in rows:
        if _finished_locally(row):
            local_base[row.day] = local_base.get(row.day, 0) + row.local_tokens
    empty = {"local_tokens": 0, "cloud_tokens": 0}
    return [{"day": day, **tokens.get(day, empty), "avoided_cloud_tokens_estimate": avoided_tokens(local_base.get(day, 0))}
            for day in sorted(set(tokens) | {r.day for r in rows})]


def build_report(ledger: Ledger | None, root: Path | str, since: datetime | None = None,
                 workspace: str | None = None) -> dict[str, Any]:
    """The report of the ledger rows at or after `since` in `workspace` (None: every one); `root`
    is the workspace the caller serves, for the `workspace` totals."""
    if ledger is None:
        return {"error": "no ledger"}
    totals = ledger.totals(since=since, workspace=workspace)
    rows = action_rows(ledger, since, workspace)
    locally = [r for r in rows if _finished_locally(r)]
    base = sum(r.local_tokens for r in locally)
    models = _by_model(ledger, since, workspace)
    return {
        "report_version": REPORT_VERSION,
        "ledger": str(ledger.path),
        "filters": {"since": format_time(since) if since else None, "workspace": workspace},
        "message": None if rows else "no actions recorded",
        "actions": {"total": len(rows), **_outcome_counts(rows)},
        "calls": {"total": totals["calls"], "local": totals["local_calls"], "cloud": totals["cloud_calls"],
                  "failed": totals["failed_calls"],
                  "usage_estimated": sum(m["usage_estimated_calls"] for m in models.values())},
        "tokens": {"local": totals["local_tokens"], "cloud": totals["cloud_tokens"],
                   "usage_estimated": totals["estimated_tokens"], "cache_read": totals["cache_read_tokens"],
                   "cache_write": totals["cache_write_tokens"]},
        "avoided_cloud_tokens": {"estimate": avoided_tokens(base), "is_estimate": True,
                                 "factor": CLOUD_TOKENS_PER_LOCAL_TOKEN, "local_tokens": base,
                                 "actions": len(locally), "method": AVOIDED_METHOD},
        "by_action": _by_action(rows, tokens_by_action(ledger, since, workspace)),
        "by_model": models,
        "by_day": _by_day(rows, tokens_by_day(ledger, since, workspace)),
        "today": ledger.totals(since=start_of_today()),
        "workspace": ledger.totals(workspace=str(root)),
        "all_time": ledger.totals(),
        "note": NOTE,
    }
