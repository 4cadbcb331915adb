"""The sandbox a tests action runs every candidate in, and the suite of tests kept so far.

`TestBench` opens one `Sandbox` per action (a copy of the workspace with the document's current,
possibly unsaved, text written over the target file) and runs pytest selections there through
`run_tests_in_sandbox`. `SuiteState` is the kept tests and the coverage they reach together.
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.verify.pytest_runner import TestRunReport, run_tests_in_sandbox
from swarm_lsp.swarm.verify.sandbox import Sandbox, SandboxTooLarge
from swarm_lsp.swarm.errors import SwarmLspError

if TYPE_CHECKING:  # a runtime import would cycle through the actions registry
    from swarm_lsp.swarm.actions.tests_target import TestTarget

log = logging.getLogger(__name__)


class BenchError(SwarmLspError):
    """The sandbox could not be set up (workspace too large, disk full...)."""


@dataclass
class SuiteState:
    """The generated tests kept so far (a standalone module) and what they cover together."""

    module_text: str = ""
    tests: list[str] = field(default_factory=list)
    lines: set[int] = field(default_factory=set)
    branches: set[tuple[int, int]] = field(default_factory=set)
    line_coverage: float = 0.0
    branch_coverage: float = 0.0
    missing_lines: list[int] = field(default_factory=list)
    missing_branches: list[tuple[int, int]] = field(default_factory=list)

    def covers(self, goal: float) -> bool:
        return bool(self.tests) and self.line_coverage >= goal and self.branch_coverage >= goal


@dataclass(frozen=True)
class BenchLimits:
    timeout_s: float = 10.0  # per pytest process
    memory_mb: int = 1024


PROJECT_VENVS = (".venv", "venv")


@functools.lru_cache(maxsize=16)
def project_python(workspace: Path) -> str | None:
    """The project's own virtualenv interpreter when it has pytest and coverage: the tests then
    import the project's dependencies. None: use swarm-lsp's interpreter."""
    for folder in PROJECT_VENVS:
        python = workspace / folder / "bin" / "python"
        if not python.exists():
            continue
        try:
            probe = subprocess.run([str(python), "-c", "import pytest, coverage"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return str(python)
        log.info("%s lacks pytest or coverage; running tests with swarm-lsp's interpreter", python)
    return None


class TestBench:
    __test__ = False  # not a pytest test class despite the name

    def __init__(self, target: "TestTarget", limits: BenchLimits) -> None:
        self.target = target
        self.limits = limits
        self._sandbox: Sandbox | None = None
        self._scratch = itertools.count(1)
        self.python = project_python(target.workspace) or sys.executable

    @property
    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            sandbox = Sandbox(self.target.workspace)
            try:
                sandbox.__enter__()
            except (SandboxTooLarge, OSError) as exc:
                raise BenchError(f"cannot copy the workspace into a sandbox: {exc}") from exc
            self._sandbox = sandbox
            self.write(self.target.source_path, self.target.source_text)
        return self._sandbox

    def close(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    @property
    def env(self) -> dict[str, str]:
        roots = [str((self.sandbox.root / root).resolve()) for root in self.target.import_roots]
        return {"PYTHONPATH": os.pathsep.join(roots)}

    def write(self, relative: str, text: str) -> None:
        path = self.sandbox.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    def scratch_file(self, text: str) -> str:
        """Write a candidate module beside the test module (so its conftest applies); its path."""
        folder = Path(self.target.test_path).parent
        relative = (folder / f"test_swarm_candidate_{next(self._scratch)}.py").as_posix()
        self.write(relative, text)
        return relative

    def run(self, test_file: str, tests: list[str], *, repeats: int = 1, measure: bool = True,
            stop_on_failure: bool = False, timeout_s: float | None = None,
            cancel: CancelToken | None = None, env: dict[str, str] | None = None) -> TestRunReport:
        """Run pytest on `test_file` in the sandbox; `env` adds variables (its PYTHONPATH replaces the bench's)."""
        return run_tests_in_sandbox(
            self.sandbox, test_file, tests,
            target_file=self.target.source_path,
            target_lines=(self.target.first_line, self.target.last_line),
            timeout_s=timeout_s or self.limits.timeout_s, repeats=repeats, memory_mb=self.limits.memory_mb,
            measure=measure, stop_on_failure=stop_on_failure, env={**self.env, **(env or {})}, cancel=cancel, python=self.python,
        )
