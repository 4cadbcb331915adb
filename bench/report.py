"""Shared by the bench scripts: replace (or append) one marked section of docs/benchmarks.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def write_section(path: Path, section: str, begin: str, end: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


def publish(rows: list[dict], summary: list[dict], section: str, *, as_json: bool, write: str | None,
            begin: str, end: str) -> None:
    """Print the rows and summary as JSON or the Markdown section; with `write`, update that file."""
    if as_json:
        json.dump({"rows": rows, "summary": summary}, sys.stdout, indent=2)
        print()
    else:
        print(section)
    if write:
        write_section(Path(write), section, begin, end)
