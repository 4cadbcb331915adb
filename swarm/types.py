"""The data that crosses module boundaries: requests, symbols, gate results and the ActionResult.

Everything here is a plain dataclass with a `to_dict()` that produces JSON-ready data, because the
ActionResult is also the `--json` output of `swarm-lsp run` (DESIGN.md §4).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from swarm_lsp.swarm.settings import ActionOptions

ActionKind = Literal["document", "tests", "refactor", "audit"]
Status = Literal["accepted", "rejected", "failed", "cancelled"]
SymbolKind = Literal["function", "method", "class"]


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


class JsonMixin:
    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


@dataclass(frozen=True)
class Span(JsonMixin):
    """A source range. Lines are 0-based, columns are 0-based byte offsets within the line;
    `start_byte`/`end_byte` are offsets into the UTF-8 encoded file (end exclusive)."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int
    start_byte: int
    end_byte: int


@dataclass(frozen=True)
class Symbol(JsonMixin):
    """A function, method or class found by the tree-sitter index."""

    name: str
    qualname: str  # dotted: "Outer.method"; Go methods: "Receiver.Method"; Rust impl: "Type.method"
    kind: SymbolKind
    language: str  # python | javascript | typescript | go | rust
    span: Span  # the whole definition, including decorators / export keyword
    name_span: Span  # the identifier
    params: tuple[str, ...] = ()  # parameter names in order (self/cls/receiver excluded)


VersionKind = Literal["editor", "mtime", "new"]


def workspace_relative(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str:
    """`path` relative to `root` in posix form (symlinks resolved); absolute when it is outside:
    how snapshots and edits name their files."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    relative = os.path.relpath(real, base)
    return real if relative == ".." or relative.startswith("../") else Path(relative).as_posix()


@dataclass(frozen=True)
class DocumentSnapshot(JsonMixin):
    """The text an action works on and the version it was read at. `path` is relative to the
    request's workspace (absolute only for a file outside it); `version_kind` says what `version`
    is: the editor's document version, the file's mtime in nanoseconds, or 0 for a file that does
    not exist yet."""

    path: str
    text: str
    version: int
    version_kind: VersionKind = "mtime"

    def file(self, workspace: str | Path) -> Path:
        """The document's file on disk."""
        return Path(workspace) / self.path


@dataclass
class ActionRequest(JsonMixin):
    kind: ActionKind
    document: DocumentSnapshot
    target: str  # "Qualified.name" or "LINE" (1-based), as written after PATH:: / PATH:
    workspace: str = "."
    options: ActionOptions = field(default_factory=ActionOptions)


@dataclass
class GateResult(JsonMixin):
    name: str
    passed: bool
    reasons: list[str] = field(default_factory=list)  # why it failed; fed back to the writer


@dataclass
class Attempt(JsonMixin):
    tier: str  # backend name, e.g. "llamacpp:qwen2.5-coder-0.5b"
    candidate: int  # 0-based index within the tier
    gates: list[GateResult] = field(default_factory=list)
    votes: list[dict[str, Any]] = field(default_factory=list)  # reviewer, vote, confidence, reasons, error
    quorum: dict[str, Any] | None = None  # n, needed, tolerated_faulty, polled, approvals, ..., outcome
    passed: bool = False
    error: str | None = None  # model/backend error, if the candidate never reached the gates
    output: str | None = None  # the candidate text the gates saw (for debugging and feedback)


@dataclass
class Edit(JsonMixin):
    path: str  # relative to the workspace (absolute only for a file outside it)
    version: int  # the version the edit was computed from (see `version_kind`)
    diff: str  # unified diff
    new_text: str  # the whole new file text (what --apply writes)
    created: bool = False  # the file does not exist yet (a new test module)
    version_kind: VersionKind = "mtime"  # editor: an open document's version; mtime: mtime_ns; new: 0


@dataclass
class ModelUsage(JsonMixin):
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_read_tokens: int = 0  # provider prompt-cache reads (Anthropic), not part of prompt_tokens
    cache_write_tokens: int = 0
    cloud: bool = False


@dataclass
class Usage(JsonMixin):
    """Measured tokens. `cloud_tokens` counts cache reads and writes too (they are billed, and the
    cloud budgets must not be fooled by a cache); `by_model` keeps them apart."""

    local_tokens: int = 0
    cloud_tokens: int = 0
    by_model: dict[str, ModelUsage] = field(default_factory=dict)

    def add(self, backend: str, prompt: int, completion: int, *, cloud: bool,
            cache_read: int = 0, cache_write: int = 0) -> None:
        entry = self.by_model.setdefault(backend, ModelUsage(cloud=cloud))
        entry.calls += 1
        entry.prompt_tokens += prompt
        entry.completion_tokens += completion
        entry.cache_read_tokens += cache_read
        entry.cache_write_tokens += cache_write
        total = prompt + completion + cache_read + cache_write
        if cloud:
            self.cloud_tokens += total
        else:
            self.local_tokens += total

    def merge(self, other: "Usage") -> None:
        """Add another result's usage (a prerequisite action's) to this one."""
        self.local_tokens += other.local_tokens
        self.cloud_tokens += other.cloud_tokens
        for name, entry in other.by_model.items():
            mine = self.by_model.setdefault(name, ModelUsage(cloud=entry.cloud))
            mine.calls += entry.calls
            mine.prompt_tokens += entry.prompt_tokens
            mine.completion_tokens += entry.completion_tokens
            mine.cache_read_tokens += entry.cache_read_tokens
            mine.cache_write_tokens += entry.cache_write_tokens


@dataclass
class ActionResult(JsonMixin):
    action: ActionKind
    target: str  # "PATH::qualname"
    status: Status
    tier: str | None = None  # the tier whose candidate was accepted
    attempts: list[Attempt] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    elapsed_s: float = 0.0
    message: str = ""  # one line for humans: why it was rejected / failed
