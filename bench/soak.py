"""A soak (issue 20, item 7): the combined server (`--stdio` for an editor, `--mcp-http` for an
assistant) kept busy by both for an hour, its memory, threads and open files sampled as it goes.
Model tiers are scripted (tests/load/scripted_server.py: each call waits, then answers; no model
runs); the queue, both protocols, gates, sandbox, memory index and ledger are the product's own.

    cd bench && ../.venv/bin/python soak.py [--minutes 60] [--every 15] [--write ../docs/benchmarks.md]

Two editor loops (an edit, a code-action request, then `swarm.run` document or, every 5th, audit)
and two assistant loops over one MCP session (document, audit every 3rd, token_report and
swarm_status every 10th, memory_search every 25th) run at once, so jobs wait in the queue and
some are refused when it is full; refusals are counted, anything else unexpected is an error.
State, ledger and memory live in a temporary folder, never in the user's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from report import write_section  # noqa: E402

HERE = Path(__file__).resolve().parent
BEGIN, END = "<!-- soak-benchmark:begin -->", "<!-- soak-benchmark:end -->"
REFUSALS = ("swarm jobs are already waiting", "too many requests in flight")


def process_figures(pid: int) -> dict[str, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "threads": int(status["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd"))}


class Tally:
    def __init__(self) -> None:
        self.outcomes: Counter[str] = Counter()
        self.errors: list[str] = []

    def record(self, side: str, outcome: str) -> None:
        if outcome.startswith("error"):
            if any(refusal in outcome for refusal in REFUSALS):
                self.outcomes[f"{side} refused"] += 1
                return
            self.outcomes[f"{side} error"] += 1
            if len(self.errors) < 20:
                self.errors.append(f"{side}: {outcome[:300]}")
            return
        self.outcomes[f"{side} {outcome}"] += 1


async def editor_loop(client: Any, uri: str, source: str, tally: Tally, stop: float, loop_id: int) -> None:
    from lsprotocol import types

    version, n = 1, 0
    while time.monotonic() < stop:
        n += 1
        version += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version + 1000 * loop_id),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=f"# edit {loop_id}.{n}\n{source}")]))
        await client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(
                start=types.Position(line=1, character=4), end=types.Position(line=1, character=4)),
            context=types.CodeActionContext(diagnostics=[])))
        action = "audit" if n % 5 == 0 else "document"
        try:
            summary = await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="swarm.run", arguments=[{"action": action, "uri": uri, "symbol": "scale"}]))
            tally.record("editor", f"{action} {summary['status']}")
        except Exception as exc:  # noqa: BLE001 - every error response is counted and kept
            tally.record("editor", f"error {exc}")
            await asyncio.sleep(0.2)  # refused: try again shortly, as a user would


async def assistant_loop(client: Any, tally: Tally, stop: float) -> None:
    n = 0
    while time.monotonic() < stop:
        n += 1
        calls = [("audit", {"path": "pkg/scale.py"}) if n % 3 == 0
                 else ("document", {"path": "pkg/scale.py", "symbol": "scale"})]
        if n % 10 == 0:
            calls += [("token_report", {}), ("swarm_status", {})]
        if n % 25 == 0:
            calls.append(("memory_search", {"query": "multiply the values by a factor"}))
        for name, arguments in calls:
            try:
                result = await client.call_tool(name, arguments)
            except Exception as exc:  # noqa: BLE001 - refused by the transport, or worse: counted
                tally.record("assistant", f"error {exc}")
                await asyncio.sleep(0.2)
                continue
            if result.is_error:
                tally.record("assistant", f"error {result.content[0].text}")
                await asyncio.sleep(0.2)
            elif name in ("document", "audit"):
                tally.record("assistant", f"{name} {result.structured_content['status']}")
            else:
                tally.record("assistant", name)


async def sample(pid: int, samples: list[dict], every: float, stop: float, started: float, tally: Tally) -> None:
    while True:
        samples.append({"t_s": round(time.monotonic() - started, 1), **process_figures(pid),
                        "jobs": sum(v for k, v in tally.outcomes.items() if " document " in f" {k} " or " audit " in f" {k} ")})
        if time.monotonic() >= stop:
            return
        await asyncio.sleep(min(every, max(stop - time.monotonic(), 0.1)))


async def soak(minutes: float, every: float) -> dict[str, Any]:
    from mcp.client import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client
    from pygls.lsp.client import LanguageClient

    from swarm_lsp.swarm.ledger import Ledger
    from tests.lsp.conftest import free_port, initialize_params, open_document, record_edits
    from tests.mcp.conftest import SOURCE, make_root

    base = Path(tempfile.mkdtemp(prefix="swarm-soak-"))
    root = make_root(base)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent), "SWARM_LSP_SCRIPTED_DELAY_S": "0.2",
           "SWARM_LSP_MCP_TOKEN_FILE": str(base / "token")}
    for name in ("XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        env[name] = str(base / name.lower())
    os.environ.update({k: env[k] for k in ("SWARM_LSP_MCP_TOKEN_FILE", "XDG_STATE_HOME")})
    from swarm_lsp.server.mcp.token import load_or_create_token

    token, port = load_or_create_token(), free_port()
    client = LanguageClient("soak", "1")
    record_edits(client)
    answer_like_an_editor(client)
    await client.start_io(sys.executable, "-m", "tests.load.scripted_server", "--stdio", "--mcp-http",
                          f"127.0.0.1:{port}", "--mcp-root", str(root), env=env, cwd=str(root))
    server = client._server  # noqa: SLF001 - its pid, for /proc
    stderr_log = (base / "server.log").open("wb")
    drain = asyncio.ensure_future(_drain(server.stderr, stderr_log))
    await client.initialize_async(initialize_params("visual-studio-code", root))
    client.initialized(__import__("lsprotocol").types.InitializedParams())
    uri = open_document(client, root / "pkg" / "scale.py")
    tally, samples = Tally(), []
    started = time.monotonic()
    stop = started + minutes * 60
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        for _ in range(100):
            try:
                async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as mcp:
                    await asyncio.gather(
                        editor_loop(client, uri, SOURCE, tally, stop, 1), editor_loop(client, uri, SOURCE, tally, stop, 2),
                        assistant_loop(mcp, tally, stop), assistant_loop(mcp, tally, stop),
                        sample(server.pid, samples, every, stop, started, tally))
                break
            except OSError:
                await asyncio.sleep(0.1)  # the HTTP side is still starting
    final = process_figures(server.pid)
    await client.shutdown_async(None)
    client.exit(None)
    await asyncio.wait_for(server.wait(), 30)
    drain.cancel()
    ledger = Ledger(base / "xdg_state_home" / "swarm-lsp" / "ledger.sqlite3")
    actions, calls = ledger.recent_actions(10**7), ledger.recent_calls(10**8)
    orphans = sum(1 for c in calls if c.action_id not in {a.action_id for a in actions})
    return {"date": date.today().isoformat(), "minutes": minutes, "every_s": every,
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
            "outcomes": dict(sorted(tally.outcomes.items())), "errors": tally.errors, "samples": samples,
            "final": final, "exit_code": server.returncode, "ledger_actions": len(actions), "ledger_calls": len(calls),
            "ledger_orphan_calls": orphans, "ledger_mb": round(ledger.path.stat().st_size / 2**20, 1)}


def answer_like_an_editor(client: Any) -> None:
    """Accept progress tokens and take messages, as an editor does (a bare client refuses them)."""
    from lsprotocol import types

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def create_progress(params: types.WorkDoneProgressCreateParams) -> None:
        return None

    for method in (types.WINDOW_SHOW_MESSAGE, types.WINDOW_LOG_MESSAGE, types.PROGRESS,
                   types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS):
        client.feature(method)(lambda params: None)


async def _drain(stream: Any, into: Any) -> None:
    while chunk := await stream.read(65536):
        into.write(chunk)


def figures(result: dict[str, Any]) -> dict[str, Any]:
    samples = result["samples"]
    warm = [s for s in samples if s["t_s"] >= min(120, result["minutes"] * 6)] or samples  # after 10% (<= 2 min)
    half = warm[len(warm) // 2:] or warm
    t = [s["t_s"] / 3600 for s in half]
    rss = [s["rss_mb"] for s in half]
    mean_t, mean_r = sum(t) / len(t), sum(rss) / len(rss)
    spread = sum((x - mean_t) ** 2 for x in t)
    slope = sum((x - mean_t) * (y - mean_r) for x, y in zip(t, rss)) / spread if spread else 0.0
    jobs = sum(v for k, v in result["outcomes"].items() if k.split()[1] in ("document", "audit"))
    return {"rss_start": samples[0]["rss_mb"], "rss_warm": warm[0]["rss_mb"], "rss_end": samples[-1]["rss_mb"],
            "rss_max": max(s["rss_mb"] for s in samples), "slope_mb_per_hour": slope,
            "threads": (min(s["threads"] for s in samples), max(s["threads"] for s in samples)),
            "fds": (min(s["fds"] for s in samples), max(s["fds"] for s in samples)), "jobs": jobs}


def section(result: dict[str, Any]) -> str:
    f = figures(result)
    outcomes = ", ".join(f"{k}: {v}" for k, v in result["outcomes"].items())
    return "\n".join([
        BEGIN, f"### Soak: {result['minutes']:g} minutes of editor and assistant jobs ({result['date']})", "",
        f"Machine: {result['machine']}. `bench/soak.py --minutes {result['minutes']:g}`: the combined server "
        "(`--stdio` + `--mcp-http`) with scripted model tiers (each call waits 0.2 s; no model runs), two editor "
        "loops and two assistant loops at once; the server process sampled every "
        f"{result['every_s']:g} s. Raw samples in `bench/results/soak.json`.", "",
        "| jobs run | RSS at start / after warm-up / end / max (MB) | RSS slope, second half (MB/hour) | threads | "
        "open files | ledger actions / orphan calls | errors |", "|---|---|---|---|---|---|---|",
        f"| {f['jobs']} | {f['rss_start']:.0f} / {f['rss_warm']:.0f} / {f['rss_end']:.0f} / {f['rss_max']:.0f} | "
        f"{f['slope_mb_per_hour']:+.1f} | {f['threads'][0]}-{f['threads'][1]} | {f['fds'][0]}-{f['fds'][1]} | "
        f"{result['ledger_actions']} / {result['ledger_orphan_calls']} | {len(result['errors'])} |", "",
        f"Outcomes: {outcomes}. Server exit code after `shutdown`/`exit`: {result['exit_code']}; ledger "
        f"{result['ledger_mb']} MB.", "", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples of the server process")
    parser.add_argument("--report", action="store_true", help="print the section from bench/results/soak.json")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file's section")
    args = parser.parse_args()
    path = HERE / "results" / "soak.json"
    if args.report:
        result = json.loads(path.read_text())
    else:
        result = asyncio.run(soak(args.minutes, args.every))
        path.write_text(json.dumps(result, indent=1))
    print(section(result))
    if args.write:
        write_section(Path(args.write), section(result), BEGIN, END)
    return 0 if not result["errors"] and result["ledger_orphan_calls"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
