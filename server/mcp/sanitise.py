"""The one sanitiser every MCP tool result, error message, progress message and resource passes
through (issue 20, item 6), so the client sees:

- no absolute path outside the workspace root: each becomes `<outside root>` (a few well-known,
  non-identifying system paths such as `/dev/null` stay); paths inside the root are shown relative
  to it, the root itself as `<workspace root>`; the home directory never appears, also as `~/...`;
- no secret: every string goes through `swarm.redact.redact`, with the workspace's `.env` values;
- bounded output: a string keeps at most `MAX_STRING_CHARS`, a result about `MAX_RESULT_CHARS` of
  text in all (once that is spent, each further string keeps its first `MIN_KEPT_CHARS`), a list or
  object at most `MAX_ITEMS` entries; each cut is marked with how much was left out and how to get
  the rest.

Paths are found by shape (`/a/b`, `~/a`, `C:\\a`, `file:///a`; not after a word character, `:` or
`/`, so URLs and `a/b` stay). A path with a space is cut at it: the part after the space may remain
(the directories above it are replaced). The caps count characters of strings; the JSON text of a
result escapes some characters (a newline is two), so the wire size may be up to a few times larger.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from swarm_lsp.swarm.redact import load_dotenv_values, redact

MAX_RESULT_CHARS = 256 * 1024  # all the text of one result: a large diff fits, a whole repo does not
MAX_STRING_CHARS = MAX_RESULT_CHARS  # one string (a diff) may use the whole budget
MAX_ITEMS = 200  # entries of one list or object (findings, report rows)
MIN_KEPT_CHARS = 256  # a string after the budget is spent still shows its start
MAX_PROGRESS_CHARS = 1024
MAX_ERROR_CHARS = 4096
OUTSIDE = "<outside root>"
ROOT = "<workspace root>"
HOME = "<home>"
NARROW = "narrow the request (one `symbol` or `line` instead of the whole file, a smaller path or `since`)"
HINTS = {"diff": "apply=true still writes the whole edit; " + NARROW}
KEPT_SYSTEM_PATHS = frozenset({"/dev/null", "/dev/stdin", "/dev/stdout", "/dev/stderr", "/usr/bin/env",
                               "/bin/sh", "/bin/bash", "/usr/bin/python", "/usr/bin/python3"})

_SEGMENT = r"[^\s/\\'\"`<>|()\[\]{},;:*?]+"
_PATH = re.compile(
    r"(?P<uri>file://(?P<uri_path>/[^\s'\"`<>]*))"
    r"|(?<![\w.:/~\\-])(?P<posix>~?(?:/" + _SEGMENT + r")+/?)"
    r"|(?<![\w.:/\\-])(?P<win>[A-Za-z]:\\(?:[^\s\\'\"`<>|:*?]+\\?)*)"
)


def truncation_marker(left_out: int, total: int, unit: str, hint: str = NARROW) -> str:
    return f"[truncated by swarm-lsp: {left_out} of {total} {unit} left out; to get the rest, {hint}]"


class Sanitiser:
    """Paths, secrets and sizes of what the MCP server sends, for the workspace at `root`."""

    def __init__(self, root: Path, home: Path | None = None, extra_secrets: Iterable[str] | None = None) -> None:
        self.root = root.resolve()
        self._roots = [PurePosixPath(p) for p in dict.fromkeys([str(self.root), str(root.absolute())])]
        self.home = (home or Path.home()).resolve()
        self._home_text = str(home or Path.home())
        self._fixed_secrets = list(extra_secrets) if extra_secrets is not None else None
        self.secrets: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        """Re-read the workspace's `.env` values (once per result: they may change while serving)."""
        if self._fixed_secrets is not None:
            self.secrets = self._fixed_secrets
        else:
            self.secrets = load_dotenv_values(self.root)

    # --- text ---------------------------------------------------------------------------------
    def text(self, value: str) -> str:
        """`value` with its paths rewritten and its secrets redacted (no size cap)."""
        value = _PATH.sub(self._path, value)
        for home in {self._home_text, str(self.home)}:  # a home dir glued into a longer token
            if len(home) > 1:
                value = value.replace(home, HOME)
        return redact(value, extra_secrets=self.secrets).text

    def error(self, message: str) -> str:
        """An error message: sanitised and cut to `MAX_ERROR_CHARS`."""
        self.refresh()
        return self.cut(self.text(message), MAX_ERROR_CHARS, NARROW)

    def progress(self, message: str) -> str:
        """A progress message: sanitised and cut to `MAX_PROGRESS_CHARS`."""
        return self.cut(self.text(message), MAX_PROGRESS_CHARS, NARROW)

    def _path(self, match: re.Match[str]) -> str:
        raw = match.group(0)
        if match.group("win"):
            return OUTSIDE  # a Windows path on this (POSIX) server names nothing under the root
        if match.group("uri"):
            return self.show_path(match.group("uri_path"))
        given = match.group("posix")
        if given in KEPT_SYSTEM_PATHS:
            return raw
        if given.startswith("~"):
            given = str(self.home) + given[1:]
        return self.show_path(given)

    def show_path(self, path: str) -> str:
        """An absolute path as the client may see it: relative inside the root, else `OUTSIDE`."""
        normal = PurePosixPath(_normpath(path))
        for root in self._roots:
            if normal == root:
                return ROOT
            if root in normal.parents:
                return str(normal.relative_to(root))
        return OUTSIDE

    # --- values -------------------------------------------------------------------------------
    def value(self, data: Any, budget: int = MAX_RESULT_CHARS) -> Any:
        """`data` (JSON-like) sanitised, every string and container capped; one budget for all."""
        self.refresh()
        return _Walk(self, budget).value(data, None)

    def cut(self, text: str, limit: int, hint: str) -> str:
        if len(text) <= limit:
            return text
        return text[:limit] + "\n" + truncation_marker(len(text) - limit, len(text), "characters", hint)


class _Walk:
    def __init__(self, sanitiser: Sanitiser, budget: int) -> None:
        self.sanitiser, self.remaining = sanitiser, budget

    def value(self, data: Any, key: str | None) -> Any:
        if isinstance(data, str):
            return self.string(data, key)
        if isinstance(data, dict):
            return self.mapping(data)
        if isinstance(data, (list, tuple)):
            kept = [self.value(item, key) for item in data[:MAX_ITEMS]]
            if len(data) > MAX_ITEMS:
                kept.append(truncation_marker(len(data) - MAX_ITEMS, len(data), "items", NARROW))
            return kept
        return data

    def mapping(self, data: dict[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        items = list(data.items())
        for name, item in items[:MAX_ITEMS]:
            shown = self.sanitiser.text(name) if isinstance(name, str) else name
            if isinstance(item, (list, tuple)) and len(item) > MAX_ITEMS:
                # a list of objects stays a list of objects; the note sits beside it
                out[shown] = [self.value(entry, shown) for entry in item[:MAX_ITEMS]]
                out[f"{shown}_truncated"] = truncation_marker(len(item) - MAX_ITEMS, len(item), "items", NARROW)
            else:
                out[shown] = self.value(item, shown)
        if len(items) > MAX_ITEMS:
            out["_truncated"] = truncation_marker(len(items) - MAX_ITEMS, len(items), "entries", NARROW)
        return out

    def string(self, data: str, key: str | None) -> str:
        text = self.sanitiser.text(data)
        limit = min(MAX_STRING_CHARS, max(self.remaining, MIN_KEPT_CHARS))
        self.remaining -= min(len(text), limit)
        return self.sanitiser.cut(text, limit, HINTS.get(key or "", NARROW))


def _normpath(path: str) -> str:
    return posixpath.normpath(path)


__all__ = ["HOME", "MAX_ERROR_CHARS", "MAX_ITEMS", "MAX_RESULT_CHARS", "MAX_STRING_CHARS", "OUTSIDE", "ROOT", "Sanitiser",
           "truncation_marker"]
