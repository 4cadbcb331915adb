"""`swarm-lsp check`'s deterministic pass against bandit alone, on generated modules of 1,000,
10,000 and 50,000 lines with about one bandit finding per 10 lines (a mix the mitigation gate keeps
and drops). Bandit alone is `bandit_findings` (bandit as a library, as `check` runs it); the pass
is `scan` on that one file, no cache, one process: exactly what `swarm-lsp check FILE` runs
without the swarm, minus process start and output. Median of `--rounds` rounds.

    .venv/bin/python bench/audit_pipeline.py [--rounds 3] [--sizes 1000,10000,50000] [--json]
        [--write docs/benchmarks.md]

Goal (issue 13): the whole pass within 2x of bandit alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import date
from importlib.metadata import version
from pathlib import Path

from report import publish
from swarm_lsp.swarm.audit.bandit_pass import bandit_findings
from swarm_lsp.swarm.audit.scan import scan

BEGIN, END = "<!-- audit-pipeline-benchmark:begin -->", "<!-- audit-pipeline-benchmark:end -->"
HEADER = "import hashlib\nimport pickle\nimport random\nimport shlex\nimport subprocess\n\n\n"
# Ten lines each, one bandit finding each; the gates drop the three marked mitigated.
BLOCKS = (
    ('''def ping_{i}(host):
    """Ping a host given by the caller (mitigated: a fixed argument list)."""
    timeout = {i} % 7 + 1
    command = ["/usr/bin/ping", "-c", "1", "-W", str(timeout), "--", host]
    subprocess.run(command, check=True)
    return timeout
'''),
    ('''def quoted_{i}(path):
    """List a folder through the shell (mitigated: the value is quoted)."""
    flags = "-la"
    status = subprocess.call("ls " + flags + " " + shlex.quote(path), shell=True)
    return status == 0
'''),
    ('''def find_{i}(cursor, uid):
    """Look a user up by a numeric id (mitigated: an integer cannot carry SQL)."""
    query = "SELECT name FROM users WHERE id = %s" % int(uid)
    cursor.execute(query)
    return cursor.fetchone()
'''),
    ('''def shell_{i}(command):
    """Run a command line through the shell."""
    prefix = "nice -n {r} "
    result = subprocess.call(prefix + command, shell=True)
    return result
'''),
    ('''def search_{i}(cursor, name):
    """Look users up by name."""
    query = "SELECT id FROM users WHERE name = '%s'" % name
    cursor.execute(query)
    return cursor.fetchall()
'''),
    ('''def digest_{i}(data):
    """A short fingerprint of the data."""
    value = hashlib.md5(data).hexdigest()
    size = len(value)
    return value[: size // 2]
'''),
    ('''def token_{i}(length=16):
    """A random token."""
    alphabet = "abcdef0123456789"
    chars = [random.choice(alphabet) for _ in range(length)]
    return "".join(chars)
'''),
    ('''def load_{i}(blob):
    """Restore a cached object."""
    if not blob:
        return None
    return pickle.loads(blob)
'''),
)


def generate(lines: int) -> str:
    """Whole blocks (each padded to ten lines) while they fit, then comment lines up to `lines`."""
    parts, count, i = [HEADER], HEADER.count("\n"), 0
    while True:
        block = BLOCKS[i % len(BLOCKS)].format(i=i, r=i % 5)
        block += "    # padding\n" * (8 - block.count("\n")) + "\n\n"
        if count + block.count("\n") > lines:
            break
        parts.append(block)
        count += block.count("\n")
        i += 1
    parts.append("# padding\n" * (lines - count))
    return "".join(parts)


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def measure(lines: int, rounds: int) -> dict:
    text = generate(lines)
    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as folder:
        root = Path(folder)
        (root / "generated.py").write_text(text, encoding="utf-8")
        bandit_s, pass_s = [], []
        for _ in range(rounds):
            seconds, findings = timed(bandit_findings, "generated.py", text)
            bandit_s.append(seconds)
            seconds, report = timed(lambda: scan(root, ["generated.py"], cache=None, jobs=1))
            pass_s.append(seconds)
    bandit_p50, pass_p50 = statistics.median(bandit_s), statistics.median(pass_s)
    return {"lines": lines, "bandit_findings": len(findings), "reported": len(report.findings),
            "mitigated": len(report.mitigated), "rejected": len(report.rejected),
            "bandit_s": bandit_s, "pass_s": pass_s, "bandit_s_p50": bandit_p50, "pass_s_p50": pass_p50,
            "ratio": pass_p50 / bandit_p50}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="1000,10000,50000", help="module sizes in lines")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", metavar="MARKDOWN")
    args = parser.parse_args()
    rows = []
    for lines in (int(size) for size in args.sizes.split(",")):
        rows.append(measure(lines, args.rounds))
        print(json.dumps({k: v for k, v in rows[-1].items() if not k.endswith("_s")}), file=sys.stderr)
    table = [f"| {r['lines']:,} | {r['bandit_findings']:,} | {r['reported']:,} | {r['mitigated']:,} | "
             f"{r['bandit_s_p50']:.2f} | {r['pass_s_p50']:.2f} | {r['ratio']:.2f}x |" for r in rows]
    section = "\n".join([
        BEGIN, f"### `swarm-lsp check`'s deterministic pass against bandit alone ({date.today().isoformat()})", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()}, bandit {version('bandit')}. One generated module per size, about one bandit finding "
        "per 10 lines (3 of 8 kinds mitigated: a fixed argument list, a quoted shell value, an integer in SQL). "
        "Bandit alone: `bandit_findings` (bandit as a library, as `check` runs it). Pass: `scan` on the file, no "
        "cache, one process (bandit, the location and mitigation gates, the suppressions: what `swarm-lsp check` "
        f"runs without the swarm, minus process start). Median of {args.rounds} rounds. Goal (issue 13): the pass "
        "within 2x of bandit alone. Before the gates shared one parse, issue 13 measured 455 s for `check` on its own "
        "generated 10,000-line module (1,001 findings) against 1.0 s for bandit. Reproduce: `.venv/bin/python bench/audit_pipeline.py`.", "",
        "| lines | bandit findings | reported | dropped as mitigated | bandit alone (s) | whole pass (s) | pass / bandit |",
        "|---|---|---|---|---|---|---|", *table,
        END,
    ])
    publish(rows, [{"lines": r["lines"], "ratio": r["ratio"]} for r in rows], section, as_json=args.json,
            write=args.write, begin=BEGIN, end=END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
