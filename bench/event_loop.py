"""Is the language server's event loop free while work runs? Round trips against the real server.

    .venv/bin/python bench/event_loop.py [--rounds 250] [--interval-ms 20] [--json] [--write docs/benchmarks.md]

Budget (DESIGN.md §7): `textDocument/codeAction` and `textDocument/didChange` answer within 10 ms
(p99) while a job runs. The real `swarm-lsp --stdio` runs in a temporary workspace (pyproject.toml,
its own ledger and audit cache there, so the user's are untouched) with the embedded 0.5B model as
its only tier. The client is bench/wire_client.py, which frames and parses JSON and nothing more,
so a round trip is the pipe and the server (pytest-lsp's client adds 1-2 ms of its own per message
on the same cores). Three phases, in each of which a sample is taken every `--interval-ms`, alternating:

- code action: `textDocument/codeAction` at a random position of a generated 10,000-line Python
  file (classes, methods and bandit findings: shell=True, eval, md5, pickle, yaml.load, ...);
- didChange: an incremental edit of a small open scratch document immediately followed by a
  `textDocument/codeAction` on it, timed until that answer (didChange is a notification; the
  following answer shows it was processed).

Phases: idle (`--rounds` samples of each kind); `swarm.audit` of the 10,000-line file, sampled
until it answers; `swarm.run` document on `slugify` of examples/textutils.py on the embedded model
(the first job of the server, so the model load is included), sampled until it answers. Requests
go one at a time, so a blocked loop shows as one long sample, not as many. A timeline of each job
phase (samples over 100 ms, and the job's progress messages as the client saw them) goes to stderr
and, with `--json`, into each row's `job`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from code_action import PYTHON_BLOCK, generate
from report import publish
from wire_client import WireClient, server_env

REPO = Path(__file__).resolve().parent.parent
SERVER = Path(sys.executable).parent / "swarm-lsp"
LINES, BUDGET_MS, SLOW_MS = 10_000, 10.0, 100.0  # samples over SLOW_MS go on the timeline
MODEL = "llamacpp:qwen2.5-coder-0.5b"
CLIENT_CAPABILITIES = {"window": {"workDoneProgress": True}, "workspace": {"applyEdit": True},
                       "textDocument": {"publishDiagnostics": {}, "codeAction": {}}}
BEGIN, END = "<!-- event-loop-benchmark:begin -->", "<!-- event-loop-benchmark:end -->"
HEADER = "import hashlib\nimport pickle\nimport subprocess\n\nimport yaml\n\n\n"
RISKY_BLOCK = PYTHON_BLOCK + '''\
def run_{i}(command):
    return subprocess.call(command, shell=True)


def digest_{i}(data):
    return hashlib.md5(data).hexdigest()


def evaluate_{i}(expression, config_path):
    with open(config_path) as handle:
        settings = yaml.load(handle)
    return eval(expression, settings)


def restore_{i}(blob):
    return pickle.loads(blob)


'''
SCRATCH = "def scratch(value):\n    return value + 1\n"


def big_module() -> str:
    return HEADER + generate(RISKY_BLOCK, "#", LINES - HEADER.count("\n"))


class Sampler:
    """Alternating code-action and didChange round trips, one request at a time."""

    def __init__(self, client: WireClient, big: Path, scratch: Path, rng: random.Random) -> None:
        self.client, self.big_uri, self.scratch_uri, self.rng = client, big.as_uri(), scratch.as_uri(), rng
        self.lines = big.read_text().split("\n")
        self.version, self.typed = 1, False
        self.events: list[tuple[float, str]] = []

    async def code_action(self, uri: str, line: int, character: int) -> None:
        at = {"line": line, "character": character}
        await self.client.request("textDocument/codeAction", {
            "textDocument": {"uri": uri}, "range": {"start": at, "end": at}, "context": {"diagnostics": []}})

    async def one(self, kind: str) -> float:
        started = time.perf_counter()
        if kind == "code action":
            line = self.rng.randrange(len(self.lines))
            await self.code_action(self.big_uri, line, min(4, len(self.lines[line])))
        else:  # type a character into the scratch function's body, or delete it again
            self.version += 1
            at, after = {"line": 1, "character": 4}, {"line": 1, "character": 5}
            change = {"range": {"start": at, "end": after if self.typed else at}, "text": "" if self.typed else "x"}
            self.typed = not self.typed
            self.client.notify("textDocument/didChange", {
                "textDocument": {"uri": self.scratch_uri, "version": self.version}, "contentChanges": [change]})
            await self.code_action(self.scratch_uri, 0, 4)
        return 1000 * (time.perf_counter() - started)

    async def sample(self, interval_s: float, rounds: int | None = None, until: asyncio.Future | None = None):
        """Samples every `interval_s` for `rounds` rounds, or until `until` is done; (kind, sent at, ms)."""
        samples, started, n = [], time.perf_counter(), 0
        self.events, seen = [], len(self.client.progress_messages())
        while (rounds is None or n < rounds) and (until is None or not until.done()):
            tick = time.perf_counter()
            for kind in ("code action", "didChange"):
                samples.append((kind, tick - started, await self.one(kind)))
                if samples[-1][2] >= SLOW_MS:
                    self.events.append((round(tick - started, 2), f"{kind} took {samples[-1][2]:.0f} ms"))
            messages = self.client.progress_messages()
            self.events += [(round(time.perf_counter() - started, 2), f"progress: {message}")
                            for message in messages[seen:]]  # when the client saw them, to within one round
            seen = len(messages)
            n += 1
            await asyncio.sleep(max(0.0, interval_s - (time.perf_counter() - tick)))
        return samples, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def summarise(phase: str, samples: list, duration: float, job: dict | None) -> list[dict]:
    rows = []
    for kind in ("code action", "didChange"):
        mine = [(at, ms) for k, at, ms in samples if k == kind]
        values = [ms for _, ms in mine]
        worst_at, worst = max(mine, key=lambda s: s[1])
        rows.append({"phase": phase, "kind": kind, "count": len(values), "median_ms": statistics.median(values),
                     "p99_ms": percentile(values, 0.99), "max_ms": worst, "worst_sent_at_s": worst_at,
                     "over_budget": sum(v >= BUDGET_MS for v in values), "phase_s": duration, "job": job,
                     "load_1min": os.getloadavg()[0]})
    return rows


def workspace(folder: Path) -> tuple[Path, Path, Path]:
    (folder / "pyproject.toml").write_text("[project]\nname = 'event-loop-bench'\n")
    big, scratch = folder / "big.py", folder / "scratch.py"
    big.write_text(big_module())
    scratch.write_text(SCRATCH)
    shutil.copy(REPO / "examples" / "textutils.py", folder / "textutils.py")
    return big, scratch, folder / "textutils.py"


async def measure(rounds: int, interval_ms: float, seed: int = 0) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="swarm-event-loop-") as name:
        folder = Path(name)
        big, scratch, small = workspace(folder)
        client = await WireClient.start([str(SERVER), "--stdio"], cwd=folder, env=server_env(folder))
        await client.request("initialize", {
            "processId": os.getpid(), "rootUri": folder.as_uri(), "capabilities": CLIENT_CAPABILITIES,
            "workspaceFolders": [{"uri": folder.as_uri(), "name": "bench"}],
            "initializationOptions": {"swarm-lsp": {"tiers": [MODEL], "candidates": 1}}})
        client.notify("initialized", {})
        for path in (big, scratch, small):
            await client.open(path)
        sampler = Sampler(client, big, scratch, random.Random(seed))
        interval = interval_ms / 1000
        await sampler.sample(interval, rounds=20)  # warm-up, not counted
        rows = summarise("idle", *await sampler.sample(interval, rounds=rounds), None)
        jobs = {
            "audit": ("swarm.audit", {"uri": big.as_uri()}),
            "model job": ("swarm.run", {"action": "document", "uri": small.as_uri(), "symbol": "slugify"}),
        }
        for phase, (command, arguments) in jobs.items():
            print(f"{phase}: {command} ...", file=sys.stderr)
            job = asyncio.ensure_future(client.request("workspace/executeCommand",
                                                       {"command": command, "arguments": [arguments]}))
            samples, duration = await sampler.sample(interval, until=job)
            answer = await job
            keep = ("status", "applied", "tier", "findings", "published", "error", "message")
            rows += summarise(phase, samples, duration, {"command": command, "timeline": sampler.events, **{
                k: answer[k] for k in keep if isinstance(answer, dict) and k in answer}})
            for at, event in sampler.events:
                print(f"  {at:7.2f} s  {event}", file=sys.stderr)
            print(f"{phase}: {duration:.1f} s, {answer}", file=sys.stderr)
        await client.stop()
    return rows


def markdown(rows: list[dict], rounds: int, interval_ms: float) -> str:
    phases = {}
    for row in rows:
        phases[row["phase"]] = phases.get(row["phase"], True) and row["p99_ms"] < BUDGET_MS
    verdict = "; ".join(f"{phase} {'meets it' if ok else 'misses it'}" for phase, ok in phases.items())
    audit = next(r["job"] for r in rows if r["phase"] == "audit")
    model = next(r["job"] for r in rows if r["phase"] == "model job")
    lines = [
        BEGIN, f"### Event loop while jobs run: round trips over the protocol ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.platform()}. The real `swarm-lsp --stdio` in a temporary workspace, driven by a lean JSON-RPC "
        "client (bench/wire_client.py: framing and `json` only, as an editor's client costs the server nothing); "
        "one request at a time, "
        f"a sample every {interval_ms:g} ms alternating a `codeAction` at a random position of a generated "
        f"{LINES:,}-line Python file and a `didChange` (one character typed into or deleted from a small open "
        "document) timed until the answer to a `codeAction` sent right after it. Phases: idle "
        f"({rounds} rounds); `swarm.audit` of the {LINES:,}-line file ({audit.get('findings', '?')} findings), "
        f"sampled until it answers; `swarm.run` document on `slugify` with {MODEL} (the server's first job: the "
        f"model load is included; {model.get('status', '?')}), sampled until it answers. The worst sample's send "
        "time is from the start of the phase; load is the 1-minute load average at the phase's end (other work on "
        "the machine competes for the same cores). Reproduce: `.venv/bin/python bench/event_loop.py`.", "",
        f"**Budget: p99 under {BUDGET_MS:g} ms in every phase.** {verdict}.", "",
        "| phase | phase (s) | load | kind | count | median (ms) | p99 (ms) | max (ms) | worst sent at (s) | over 10 ms |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['phase']} | {r['phase_s']:.1f} | {r['load_1min']:.1f} | {r['kind']} | {r['count']} | {r['median_ms']:.2f} "
                     f"| {r['p99_ms']:.2f} | {r['max_ms']:.1f} | {r['worst_sent_at_s']:.1f} | {r['over_budget']} |")
    lines.append(END)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=250, help="idle rounds (one sample of each kind per round)")
    parser.add_argument("--interval-ms", type=float, default=20.0, help="time between the starts of two rounds")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    rows = asyncio.run(measure(args.rounds, args.interval_ms))
    summary = [{"phase": r["phase"], "kind": r["kind"], "meets_budget": r["p99_ms"] < BUDGET_MS} for r in rows]
    publish(rows, summary, markdown(rows, args.rounds, args.interval_ms), as_json=args.json, write=args.write,
            begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
