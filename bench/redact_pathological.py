"""Time `swarm.redact.redact` on the pathological inputs of tests/unit/test_redact.py: long runs that a
pattern retried at every offset would rescan from each one. The tests check what redact returns
for them and that no pattern can backtrack exponentially; this script gives the speed figure.

    .venv/bin/python bench/redact_pathological.py [--runs 5] [--scale 1]

Each line: input name, length, best and median wall time over the runs, and MB/s at the best time.
At --scale 2 every input is twice as long: a linear scan takes about twice as long, a quadratic one
about four times.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

from swarm_lsp.swarm.redact import redact


def inputs(scale: int) -> dict[str, str]:
    return {
        "assignments": "a=" * (50_000 * scale),
        "dotted_name": "a." * (50_000 * scale) + "=x",
        "secret_names": "token=" * (50_000 * scale),
        "url_userinfo": "a://b:c" * (30_000 * scale),
        "one_word": "x" * (300_000 * scale),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", type=int, default=1, help="multiply every input's length")
    args = parser.parse_args()
    print(f"# Python {platform.python_version()}, {platform.machine()}, {platform.system()}; runs={args.runs}")
    total = 0.0
    for name, text in inputs(args.scale).items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            redact(text)
            times.append(time.perf_counter() - started)
        best = min(times)
        total += best
        median = statistics.median(times)
        print(f"{name:14} {len(text):>9,} chars  best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms"
              f"  {len(text) / best / 1e6:6.1f} MB/s")
    print(f"{'all':14} {'':>9}        best {total * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
