"""Runs the examples a docstring will show, in a sandbox, so each one is true by construction.

`ExampleRunner` opens one `Sandbox` per action (a copy of the workspace with the document's current,
possibly unsaved, text written over the target file) and runs `doc_examples_child.py` there with the
project's interpreter. `evaluate` runs proposed example calls (expressions) and reports, for each,
the repr it returned or the exception it raised; `run_doctest` re-runs a rendered docstring's
examples as a doctest in a fresh process (catching output that differs between processes).
"""

from __future__ import annotations

import doctest
import functools
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.verify.child_watch import START_SLACK_S, Stalled, Watchdog, read_records
from swarm_lsp.swarm.verify.pytest_bench import PROJECT_VENVS
from swarm_lsp.swarm.verify.sandbox import RunResult, Sandbox, SandboxTooLarge
from swarm_lsp.swarm.verify.workspace_copy import is_within

__all__ = ["CallOutcome", "DoctestReport", "ExampleRun", "ExampleRunner", "ExampleSandboxError"]

log = logging.getLogger(__name__)

CHILD_SCRIPT = Path(__file__).with_name("doc_examples_child.py")
RUNNER_FOLDER = "doc-examples"  # beside the sandbox's workspace/home/tmp: the script, requests, results
PER_CALL_CAP_S = 5.0
CALLS_BUDGET_CAP_S = 60.0  # the most all calls of one batch (or examples of one doctest) may add up to


class ExampleSandboxError(SwarmLspError):
    """The sandbox could not be set up (workspace too large, disk full, a path outside it...)."""


@dataclass(frozen=True)
class CallOutcome:
    call: str  # the expression as given
    status: str  # "returned" | "raised" | "invalid" | "timeout"
    value_repr: str = ""  # repr() of the result when returned
    value_mro: tuple[str, ...] = ()  # __name__ of every class in the result's type's MRO
    exception: str = ""  # the raised type's __name__ when raised
    exception_mro: tuple[str, ...] = ()  # __name__ of every class in its MRO
    message: str = ""  # str(exception)'s first line, or why invalid / timed out; capped
    doctest_safe: bool = False  # returned, and the repr can be a doctest's expected output

    def raises(self, name: str) -> bool:
        """Whether the call raised `name` or a subclass of it (matched by class name)."""
        wanted = name.strip().rsplit(".", 1)[-1]
        return self.status == "raised" and bool(wanted) and wanted in self.exception_mro


@dataclass
class ExampleRun:
    importable: bool
    reason: str  # why the module could not be imported ("" when importable)
    outcomes: list[CallOutcome]
    duration_s: float


@dataclass
class DoctestReport:
    attempted: int
    failures: list[dict[str, str]]  # each {"source", "want", "got"}
    error: str = ""  # import failure, timeout...

    @property
    def passed(self) -> bool:
        return self.error == "" and self.attempted > 0 and not self.failures


@functools.lru_cache(maxsize=16)
def example_python(workspace: Path) -> str:
    """The project's own virtualenv interpreter when it runs (the examples then import the
    project's dependencies); else swarm-lsp's."""
    for folder in PROJECT_VENVS:
        python = workspace / folder / "bin" / "python"
        if not python.exists():
            continue
        try:
            probe = subprocess.run([str(python), "-I", "-c", "import sys; sys.exit(sys.version_info < (3, 8))"],
                                   capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return str(python)
        log.info("%s is not a usable Python 3.8+; running doc examples with swarm-lsp's interpreter", python)
    return sys.executable


class ExampleRunner:
    def __init__(self, workspace: Path, source_path: str, source_text: str, module: str,
                 import_roots: tuple[str, ...] = (".",), *, timeout_s: float = 10.0, memory_mb: int = 1024) -> None:
        self.workspace = Path(workspace)
        self.source_path = source_path
        self.source_text = source_text
        self.module = module
        self.import_roots = import_roots
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.per_call_s = min(timeout_s, PER_CALL_CAP_S)
        self._sandbox: Sandbox | None = None
        self._python: str | None = None
        self._runs = itertools.count(1)

    def __enter__(self) -> ExampleRunner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox, opened on first use with the document's text and the child script in it."""
        if self._sandbox is None:
            sandbox = Sandbox(self.workspace)
            try:
                sandbox.__enter__()
            except (SandboxTooLarge, OSError) as exc:
                raise ExampleSandboxError(f"cannot copy the workspace into a sandbox: {exc}") from exc
            try:
                target = (sandbox.root / self.source_path).resolve()
                if not is_within(target, sandbox.root) or target == sandbox.root:
                    raise ExampleSandboxError(f"{self.source_path} is not a file inside the workspace")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(self.source_text, encoding="utf-8")
                (sandbox.base / RUNNER_FOLDER).mkdir()
                shutil.copyfile(CHILD_SCRIPT, sandbox.base / RUNNER_FOLDER / CHILD_SCRIPT.name)
            except BaseException as exc:
                sandbox.close()
                if isinstance(exc, OSError):
                    raise ExampleSandboxError(f"cannot prepare the sandbox: {exc}") from exc
                raise
            self._sandbox = sandbox
        return self._sandbox

    def close(self) -> None:
        """Remove the sandbox; safe to call twice."""
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def evaluate(self, calls: list[str], cancel: CancelToken | None = None) -> ExampleRun:
        """Run each call (an expression) in the module's namespace; what each returned or raised.
        A call that hangs where the child's alarm cannot stop it (inside C code) is killed with
        the child, reported as a timeout, and the calls after it run in a new child."""
        started = time.monotonic()
        deadline = started + self._budget(len(calls))
        outcomes: list[CallOutcome] = []
        pending = list(calls)
        while True:
            records, result = self._run_child({"mode": "evaluate", "calls": pending},
                                              max(deadline - time.monotonic(), 1.0), cancel, watch=True)
            kinds = [record.get("kind") for record in records]
            if "imported" not in kinds:
                reason = (_import_failure(records, self.memory_mb)
                          or f"importing {self.module} {self._why(result, self.timeout_s)}")
                if not outcomes:
                    return ExampleRun(False, reason, [], time.monotonic() - started)
                outcomes += [CallOutcome(call, "invalid", message=f"not run: {reason}") for call in pending]
                break
            done = [record for record in records if record.get("kind") == "outcome"]
            outcomes += [_outcome(call, record) for call, record in zip(pending, done)]
            if "done" in kinds or len(done) >= len(pending):
                break
            status = "timeout" if result.timed_out or result.returncode == -signal.SIGXCPU else "invalid"
            outcomes.append(CallOutcome(pending[len(done)], status, message=self._why(result, self.per_call_s)))
            pending = pending[len(done) + 1:]
            if not pending:
                break
            if deadline - time.monotonic() < self.per_call_s + START_SLACK_S:
                outcomes += [CallOutcome(call, "timeout", message="not run: the time budget was spent")
                             for call in pending]
                break
        return ExampleRun(True, "", outcomes, time.monotonic() - started)

    def run_doctest(self, docstring: str, cancel: CancelToken | None = None) -> DoctestReport:
        """Run the docstring's examples as a doctest in a fresh process. A docstring without
        examples is not run: attempted 0, so not passed, with no error."""
        try:
            examples = doctest.DocTestParser().get_examples(docstring)
        except ValueError as exc:
            return DoctestReport(0, [], error=f"the examples cannot be parsed: {exc}")
        if not examples:
            return DoctestReport(0, [])
        limit = self._budget(len(examples))
        records, result = self._run_child({"mode": "doctest", "docstring": docstring}, limit, cancel)
        for record in records:
            if record.get("kind") == "doctest":
                failures = [{key: str(failure.get(key, "")) for key in ("source", "want", "got")}
                            for failure in record.get("failures", [])]
                return DoctestReport(int(record.get("attempted", 0)), failures)
            if record.get("kind") == "doctest_error":
                return DoctestReport(0, [], error=str(record.get("error", "")))
        reason = _import_failure(records, self.memory_mb)
        if reason:
            return DoctestReport(0, [], error=f"cannot import {self.module}: {reason}")
        imported = any(record.get("kind") == "imported" for record in records)
        return DoctestReport(0, [], error=("the doctest " if imported else f"importing {self.module} ")
                             + self._why(result, limit if imported else self.timeout_s))

    # ---- the child process ------------------------------------------------------------------

    def _budget(self, count: int) -> float:
        return self.timeout_s + min(self.per_call_s * count, CALLS_BUDGET_CAP_S) + START_SLACK_S

    def _env(self, sandbox: Sandbox) -> dict[str, str]:
        roots = [(sandbox.root / root).resolve() for root in self.import_roots]
        kept = [str(root) for root in roots if is_within(root, sandbox.root)]
        return {"PYTHONPATH": os.pathsep.join(kept or [str(sandbox.root)])}

    def _run_child(self, request: dict[str, Any], timeout_s: float, cancel: CancelToken | None,
                   watch: bool = False) -> tuple[list[dict[str, Any]], RunResult]:
        """Run the child on `request`; its records and how it ended. With `watch`, a child whose
        results stop growing (a call stuck in C code, where the alarm cannot reach) is stopped."""
        if cancel is not None:
            cancel.raise_if_cancelled()
        sandbox = self.sandbox
        if self._python is None:
            self._python = example_python(self.workspace)
        folder = sandbox.base / RUNNER_FOLDER
        number = next(self._runs)
        request_path, result_path = folder / f"request-{number}.json", folder / f"result-{number}.jsonl"
        request = {"module": self.module, "per_call_timeout_s": self.per_call_s,
                   "import_timeout_s": self.timeout_s, **request}
        try:
            request_path.write_text(json.dumps(request), encoding="utf-8")
        except OSError as exc:
            raise ExampleSandboxError(f"cannot write into the sandbox: {exc}") from exc
        argv = [self._python, "-X", "utf8", str(folder / CHILD_SCRIPT.name), str(request_path), str(result_path)]
        stall_s = (self.timeout_s, self.per_call_s) if watch else (timeout_s, timeout_s)
        watchdog = Watchdog(cancel, result_path, *stall_s)
        started = time.monotonic()
        try:
            result = sandbox.run(argv, timeout_s=timeout_s, memory_mb=self.memory_mb, env=self._env(sandbox),
                                 cancel=watchdog)
        except Stalled:  # Sandbox.run killed the process group on the way out
            result = RunResult(returncode=-signal.SIGKILL, stdout="", stderr="", timed_out=True, killed_by_memory=False,
                               duration_s=time.monotonic() - started, network_isolated=False)
        except OSError as exc:
            raise ExampleSandboxError(f"cannot start {self._python}: {exc}") from exc
        return read_records(result_path), result

    def _why(self, result: RunResult, limit_s: float) -> str:
        """Why a child ended before writing all its results."""
        if result.timed_out:
            return f"did not finish within {limit_s:g}s"
        if result.returncode == -signal.SIGXCPU:
            return "used up its CPU time limit"
        if result.too_many_processes:
            return "started too many processes"
        if result.killed_by_memory:
            return f"exceeded the memory limit ({self.memory_mb} MB)"
        lines = result.stderr.strip().splitlines()
        detail = f": {lines[-1][:200]}" if lines else ""
        return f"ended the interpreter (exit status {result.returncode}){detail}"


def _import_failure(records: list[dict[str, Any]], memory_mb: int) -> str:
    reason = next((str(record.get("reason", "")) for record in records if record.get("kind") == "import_failed"), "")
    return f"{reason} (the memory limit is {memory_mb} MB)" if reason.startswith("MemoryError") else reason


def _outcome(call: str, record: dict[str, Any]) -> CallOutcome:
    return CallOutcome(
        call=call,
        status=str(record.get("status", "invalid")),
        value_repr=str(record.get("value_repr", "")),
        exception=str(record.get("exception", "")),
        exception_mro=tuple(str(name) for name in record.get("exception_mro", ())),
        value_mro=tuple(str(name) for name in record.get("value_mro", ())),
        message=str(record.get("message", "")),
        doctest_safe=bool(record.get("doctest_safe", False)),
    )
