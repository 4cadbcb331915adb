"""Run selected pytest tests in a `Sandbox` and measure coverage of one target (issue 6, item 3).

The tests run under `coverage run --branch` in a sandboxed subprocess with the current
interpreter, so pytest and coverage are importable. Per-test outcomes come from pytest's JUnit
XML report; coverage comes from reading the coverage data file in this process (reading data
runs no generated code) and is restricted to the target's line range. Running the same
selection several times (`repeats`) reveals tests whose outcome changes between runs.
"""

from __future__ import annotations

import logging
import sys
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from coverage import CoverageData
from coverage.python import PythonParser

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.verify.sandbox import RunResult, Sandbox
from swarm_lsp.swarm.verify.process_limits import MAX_PROCESSES

log = logging.getLogger(__name__)

# coverage.py's default exclusion: lines marked "# pragma: no cover" do not count.
DEFAULT_EXCLUDE = r"#\s*(pragma|PRAGMA)[:\s]?\s*(no|NO)\s*(cover|COVER)"
MESSAGE_MAX_LINES = 15
MESSAGE_MAX_CHARS = 2000
# pytest exit codes that mean the session itself failed (internal error, usage, no tests).
_SESSION_FAILURE_CODES = {2, 3, 4, 5}


@dataclass
class TestRunReport:
    """What a sandboxed pytest run did: outcomes per test and coverage of the target.

    `tests` maps a test name (as given, or `Class::test` when discovered) to "passed",
    "failed", "error" or "skipped"; `failures` holds the first lines of the failure text for
    failed and errored tests; `errors` lists problems that are not one test's (collection
    errors, pytest usage errors, timeouts). `missing_branches` holds `(from_line, to_line)`
    pairs, `to_line` negative when the branch leaves the function (coverage.py's convention).
    """

    __test__ = False  # not a pytest test class despite the name

    tests: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    flaky: list[str] = field(default_factory=list)
    line_coverage: float = 0.0
    branch_coverage: float = 0.0
    missing_lines: list[int] = field(default_factory=list)
    missing_branches: list[tuple[int, int]] = field(default_factory=list)
    executed_lines: list[int] = field(default_factory=list)  # target statements that ran
    taken_branches: list[tuple[int, int]] = field(default_factory=list)  # target branch arcs taken
    duration_s: float = 0.0
    timed_out: bool = False


@dataclass
class _RunOutcome:
    tests: dict[str, str]
    failures: dict[str, str]
    errors: list[str]
    lines: set[int]
    arcs: set[tuple[int, int]]
    result: RunResult


def run_tests_in_sandbox(
    sandbox: Sandbox,
    test_file: str,
    test_names: list[str] | None,
    *,
    target_file: str,
    target_lines: tuple[int, int],
    timeout_s: float = 30,
    repeats: int = 1,
    memory_mb: int = 1024,
    measure: bool = True,
    stop_on_failure: bool = False,
    env: dict[str, str] | None = None,
    cancel: CancelToken | None = None,
    python: str | None = None,
) -> TestRunReport:
    """Run `test_file` (only `test_names` when given) `repeats` times and report the outcome.

    Paths are relative to the sandbox root; `target_lines` is the 1-based inclusive range of
    the target function or class in `target_file`. Coverage is the union over all runs. The
    reported outcome of a test is its first run's; a test whose outcome differs between runs
    is listed in `flaky`. A timeout stops further repeats. Never raises for test problems;
    raises `Cancelled` when `cancel` is set. `measure=False` skips coverage (faster: mutants
    only need outcomes); `stop_on_failure` passes `-x`; `env` adds to the sandbox environment.
    `python` is the interpreter (it needs pytest and coverage); with the default, swarm-lsp's own,
    pytest's plugin autoloading is off: the plugins installed there are swarm-lsp's, not the
    project's, and loading them costs most of a run's start-up time.
    """
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    target_path = sandbox.root / target_file
    report = TestRunReport()
    seen: dict[str, set[str]] = {}
    lines: set[int] = set()
    arcs: set[tuple[int, int]] = set()
    if python is None or python == sys.executable:
        python, env = sys.executable, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})}
    options = _RunOptions(python, timeout_s, memory_mb, measure, stop_on_failure, env, cancel)
    for attempt in range(repeats):
        outcome = _run_once(sandbox, test_file, test_names, target_path, options)
        report.duration_s += outcome.result.duration_s
        lines |= outcome.lines
        arcs |= outcome.arcs
        for name, state in outcome.tests.items():
            seen.setdefault(name, set()).add(state)
            report.tests.setdefault(name, state)
            if name in outcome.failures:
                report.failures.setdefault(name, outcome.failures[name])
        for error in outcome.errors:
            if error not in report.errors:
                report.errors.append(error)
        if outcome.result.timed_out:
            report.timed_out = True
            log.info("pytest run %d/%d timed out; not repeating", attempt + 1, repeats)
            break
    report.flaky = sorted(name for name, states in seen.items() if len(states) > 1)
    if measure:
        _measure(report, target_path, target_lines, lines, arcs)
    return report


@dataclass(frozen=True)
class _RunOptions:
    python: str
    timeout_s: float
    memory_mb: int
    measure: bool
    stop_on_failure: bool
    env: dict[str, str] | None
    cancel: CancelToken | None


def _run_once(
    sandbox: Sandbox,
    test_file: str,
    test_names: list[str] | None,
    target_path: Path,
    options: _RunOptions,
) -> _RunOutcome:
    token = uuid.uuid4().hex
    data_file = sandbox.tmp / f"coverage-{token}"
    xml_file = sandbox.tmp / f"junit-{token}.xml"
    rc_file = sandbox.tmp / f"coveragerc-{token}"
    rc_file.write_text("")  # keeps the workspace's coverage config (parallel, omit...) out
    selection = [f"{test_file}::{name}" for name in test_names] if test_names else [test_file]
    coverage = [
        "-m", "coverage", "run", "--branch", f"--rcfile={rc_file}",
        f"--data-file={data_file}", f"--include={target_path}",
    ]
    argv = [
        options.python, *(coverage if options.measure else []),
        "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-header", "-rN",
        f"--rootdir={sandbox.root}", f"--junitxml={xml_file}", "-o", "junit_logging=no",
        *(["-x"] if options.stop_on_failure else []), *selection,
    ]
    result = sandbox.run(argv, timeout_s=options.timeout_s, memory_mb=options.memory_mb,
                         env=options.env, cancel=options.cancel)
    tests, failures, errors = _read_junit(xml_file, test_file)
    if result.timed_out:
        errors.append(f"timed out after {options.timeout_s:g}s")
    elif result.too_many_processes:
        errors.append(f"killed: started more than {MAX_PROCESSES} processes")
    elif result.killed_by_memory:
        errors.append(f"killed: memory limit of {options.memory_mb} MB exceeded")
    elif not xml_file.exists() or (result.returncode in _SESSION_FAILURE_CODES and not tests):
        errors.append(_tail(result.stdout + "\n" + result.stderr) or f"exit {result.returncode}")
    for name in test_names or []:
        _fold_parameters(name, tests, failures)
        if name not in tests:  # never reported: collection error, timeout, not found
            tests[name] = "error"
            failures[name] = errors[0] if errors else "test was not run"
    lines, arcs = _read_coverage(data_file, target_path)
    return _RunOutcome(tests, failures, errors, lines, arcs, result)


_SEVERITY = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}


def _fold_parameters(name: str, tests: dict[str, str], failures: dict[str, str]) -> None:
    """Report a parametrized test (`test_x[1]`, `test_x[2]`) under its selected name `test_x`,
    with the worst outcome of its cases and the first failure."""
    cases = [key for key in tests if key.startswith(name + "[")]
    if name in tests or not cases:
        return
    tests[name] = max((tests[key] for key in cases), key=_SEVERITY.__getitem__)
    failure = next((failures[key] for key in cases if key in failures), None)
    for key in cases:
        del tests[key]
        failures.pop(key, None)
    if failure is not None:
        failures[name] = failure


def _read_junit(
    xml_file: Path, test_file: str
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    tests: dict[str, str] = {}
    failures: dict[str, str] = {}
    errors: list[str] = []
    if not xml_file.exists():
        return tests, failures, errors
    try:
        root = ET.parse(xml_file).getroot()
    except ET.ParseError as exc:
        errors.append(f"unreadable pytest report: {exc}")
        return tests, failures, errors
    module = test_file.removesuffix(".py").replace("/", ".")
    for case in root.iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        state, detail = "passed", None
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                state = {"failure": "failed"}.get(tag, tag)
                detail = _message(node)
                break
        if not classname:  # pytest reports collection errors as a test named after the file
            errors.append(f"collection error in {name}: {detail or 'unknown'}")
            continue
        key = _test_key(classname, name, module)
        if key in tests and state == "error" and tests[key] != "error":
            state = "failed"  # passed but its teardown errored: pytest adds a second case
        tests[key] = state
        if detail is not None and state in ("failed", "error"):
            failures[key] = detail
    return tests, failures, errors


def _test_key(classname: str, name: str, module: str) -> str:
    """`Class::test` relative to the test module, as pytest node ids write it."""
    if classname == module:
        return name
    if classname.startswith(module + "."):
        return "::".join([*classname[len(module) + 1 :].split("."), name])
    return name


def _message(node: ET.Element) -> str:
    """The failure's message; for errors (often just "collection failure") also the E lines."""
    message = (node.get("message") or "").strip()
    text = (node.text or "").strip()
    if node.tag == "error" or not message:
        e_lines = [line for line in text.splitlines() if line.startswith("E ")]
        detail = "\n".join(e_lines) if e_lines else text
        message = f"{message}\n{detail}".strip() if detail not in message else message
    lines = message.splitlines()[:MESSAGE_MAX_LINES]
    return "\n".join(lines)[:MESSAGE_MAX_CHARS]


def _tail(text: str) -> str:
    """pytest's ERROR lines (and the line after each) when present, else the output's end."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    picked = [
        line for i, line in enumerate(lines)
        if line.startswith("ERROR") or (i > 0 and lines[i - 1].startswith("ERROR"))
    ]
    return "\n".join((picked or lines)[-MESSAGE_MAX_LINES:])[:MESSAGE_MAX_CHARS]


def _read_coverage(data_file: Path, target_path: Path) -> tuple[set[int], set[tuple[int, int]]]:
    """Executed lines and arcs of the target file; empty when no data was written."""
    if not data_file.exists():
        return set(), set()
    data = CoverageData(basename=str(data_file), read_only=True)
    try:
        data.read()
    except Exception as exc:  # noqa: BLE001 - a corrupt file is reported as no coverage
        log.warning("unreadable coverage data %s: %s", data_file, exc)
        return set(), set()
    wanted = target_path.resolve()
    for measured in data.measured_files():
        if Path(measured).resolve() == wanted:
            return set(data.lines(measured) or ()), set(data.arcs(measured) or ())
    return set(), set()


def _measure(
    report: TestRunReport,
    target_path: Path,
    target_lines: tuple[int, int],
    lines: set[int],
    arcs: set[tuple[int, int]],
) -> None:
    """Fill the coverage fields from executed lines and arcs, restricted to the target."""
    first, last = target_lines
    parser = PythonParser(filename=str(target_path), exclude=DEFAULT_EXCLUDE)
    parser.parse_source()

    def in_range(line: int) -> bool:
        return first <= line <= last

    statements = {line for line in parser.statements if in_range(line)}
    executed = parser.translate_lines(lines) & statements
    exit_counts = parser.exit_counts()
    branch_lines = {line for line in statements if exit_counts.get(line, 0) > 1}
    possible = {arc for arc in parser.arcs() if arc[0] in branch_lines}
    taken = parser.translate_arcs(arcs) & possible
    report.line_coverage = len(executed) / len(statements) if statements else 1.0
    report.branch_coverage = len(taken) / len(possible) if possible else 1.0
    report.missing_lines = sorted(statements - executed)
    report.missing_branches = sorted(possible - taken)
    report.executed_lines = sorted(executed)
    report.taken_branches = sorted(taken)
