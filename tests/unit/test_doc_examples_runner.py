"""ExampleRunner runs proposed docstring examples in a sandbox: real sandboxes, real subprocesses."""

from __future__ import annotations

import ast
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.errors import SwarmLspError
from swarm_lsp.swarm.verify import doc_examples
from swarm_lsp.swarm.verify.doc_examples import (
    CallOutcome,
    ExampleRunner,
    ExampleSandboxError,
    example_python,
)

TEXTUTILS = textwrap.dedent(
    '''
    """Text helpers."""
    import asyncio
    import itertools

    print("textutils imported")  # must neither reach the results nor break a doctest


    class ParseError(ValueError):
        pass


    class BadRecord(ParseError):
        pass


    class Stack:
        def __init__(self, items):
            self.items = list(items)

        def pop(self):
            return self.items.pop()


    class Thing:
        pass


    class TwoLines:
        def __repr__(self):
            return "first\\nsecond"


    class Unrepresentable:
        def __repr__(self):
            raise RuntimeError("no repr")


    def slugify(text, max_len=50):
        return "-".join(text.lower().split())[:max_len]


    def parse(text):
        if not text:
            raise ValueError("empty text")
        return int(text)


    def strict(text):
        raise BadRecord(f"bad record: {text!r}\\nsecond line")


    def spin():
        while True:
            pass


    def count_forever():
        return sum(itertools.repeat(1, 10**13))  # inside C: the child's alarm cannot stop it


    def hard_exit():
        import os
        os._exit(4)


    def quit_now():
        raise SystemExit(3)


    def gen():
        yield 1


    async def later():
        await asyncio.sleep(0)
        return 1


    def nothing():
        return None
    '''
)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_workspace(root: Path) -> Path:
    ws = root / "ws"
    (ws / "pkg").mkdir(parents=True)
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "textutils.py").write_text(TEXTUTILS)
    return ws


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory):
    ws = make_workspace(tmp_path_factory.mktemp("doc-examples"))
    with ExampleRunner(ws, "pkg/textutils.py", TEXTUTILS, "pkg.textutils", timeout_s=1.0) as shared:
        yield shared


def by_call(outcomes: list[CallOutcome]) -> dict[str, CallOutcome]:
    return {outcome.call: outcome for outcome in outcomes}


# ---- evaluate ------------------------------------------------------------------------------


def test_returned_values_have_exact_reprs_including_keywords_and_methods(runner: ExampleRunner) -> None:
    calls = ['slugify("Hello World")', 'slugify("Hello World", max_len=5)', "Stack([1, 2]).pop()", "parse('42')"]
    run = runner.evaluate(calls)
    assert run.importable and run.reason == ""
    assert [o.call for o in run.outcomes] == calls
    assert [(o.status, o.value_repr, o.doctest_safe) for o in run.outcomes] == [
        ("returned", "'hello-world'", True),
        ("returned", "'hello'", True),
        ("returned", "2", True),
        ("returned", "42", True),
    ]
    assert all(o.exception == "" and o.exception_mro == () for o in run.outcomes)


def test_the_sandbox_is_reused_and_calls_do_not_leak_names(runner: ExampleRunner) -> None:
    base = runner.sandbox.base
    run = runner.evaluate(['globals().__setitem__("leaked", 1)', '"leaked" in globals()', '"slugify" in globals()'])
    assert [o.value_repr for o in run.outcomes] == ["None", "False", "True"]
    assert runner.sandbox.base == base


def test_raised_exceptions_are_matched_by_name_and_base_class(runner: ExampleRunner) -> None:
    outcomes = by_call(runner.evaluate(["parse('')", "strict('x')", "quit_now()"]).outcomes)
    value_error = outcomes["parse('')"]
    assert (value_error.status, value_error.exception, value_error.message) == ("raised", "ValueError", "empty text")
    assert value_error.raises("ValueError") and value_error.raises("Exception")
    assert not value_error.raises("KeyError") and not value_error.doctest_safe
    custom = outcomes["strict('x')"]
    assert custom.exception == "BadRecord" and custom.message == "bad record: 'x'"  # first line only
    assert custom.exception_mro[:3] == ("BadRecord", "ParseError", "ValueError")
    assert custom.raises("ParseError") and custom.raises("pkg.textutils.ParseError") and custom.raises("ValueError")
    assert not custom.raises("TypeError") and not custom.raises("")
    exit_call = outcomes["quit_now()"]
    assert exit_call.status == "raised" and exit_call.raises("SystemExit") and not exit_call.raises("Exception")


def test_statements_and_broken_syntax_are_invalid_and_the_rest_still_runs(runner: ExampleRunner) -> None:
    calls = ["x = 1", "parse('7')", "import os", 'slugify(("a"', "for i in range(3): pass", "parse('8')"]
    outcomes = runner.evaluate(calls).outcomes
    assert [o.status for o in outcomes] == ["invalid", "returned", "invalid", "invalid", "invalid", "returned"]
    assert outcomes[0].message.startswith("not an expression: SyntaxError")
    assert [outcomes[1].value_repr, outcomes[5].value_repr] == ["7", "8"]
    assert not CallOutcome("x = 1", "invalid").raises("SyntaxError")


def test_an_endless_call_times_out_and_the_next_call_still_runs(runner: ExampleRunner) -> None:
    outcomes = runner.evaluate(["spin()", "parse('5')"]).outcomes
    assert outcomes[0].status == "timeout" and "did not finish" in outcomes[0].message
    assert (outcomes[1].status, outcomes[1].value_repr) == ("returned", "5")


def test_a_call_stuck_in_c_code_or_ending_the_process_costs_only_itself(runner: ExampleRunner) -> None:
    outcomes = runner.evaluate(["parse('1')", "count_forever()", "parse('2')", "hard_exit()", "parse('3')"]).outcomes
    assert [o.status for o in outcomes] == ["returned", "timeout", "returned", "invalid", "returned"]
    assert "exit status 4" in outcomes[3].message
    assert [outcomes[0].value_repr, outcomes[2].value_repr, outcomes[4].value_repr] == ["1", "2", "3"]


def test_results_unusable_as_doctest_output_are_flagged(runner: ExampleRunner) -> None:
    outcomes = by_call(runner.evaluate(
        ["Thing()", "'x' * 500", "TwoLines()", "Unrepresentable()", "gen()", "later()", "nothing()", "'y' * 100"]
    ).outcomes)
    assert all(o.status == "returned" for o in outcomes.values())
    assert " at 0x" in outcomes["Thing()"].value_repr and not outcomes["Thing()"].doctest_safe
    assert outcomes["'x' * 500"].value_repr == repr("x" * 500) and not outcomes["'x' * 500"].doctest_safe
    assert outcomes["TwoLines()"].value_repr == "first\nsecond" and not outcomes["TwoLines()"].doctest_safe
    assert outcomes["Unrepresentable()"].value_repr == "<unrepresentable>"
    assert not outcomes["Unrepresentable()"].doctest_safe
    assert not outcomes["gen()"].doctest_safe and not outcomes["later()"].doctest_safe
    # doctest prints nothing for None, so "None" cannot be an expected output
    assert outcomes["nothing()"].value_repr == "None" and not outcomes["nothing()"].doctest_safe
    assert outcomes["'y' * 100"].doctest_safe


# ---- the document's text, import failures ----------------------------------------------------


def test_the_unsaved_text_runs_and_the_users_files_are_untouched(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / "src" / "lib").mkdir(parents=True)
    (ws / "src" / "lib" / "__init__.py").write_text("")
    (ws / "src" / "lib" / "version.py").write_text("def version():\n    return 'disk'\n")
    before = snapshot(ws)
    unsaved = "def version():\n    return 'buffer'\n"
    runner = ExampleRunner(ws, "src/lib/version.py", unsaved, "lib.version", ("src",), timeout_s=2.0)
    try:
        run = runner.evaluate(["version()"])
        assert run.importable and run.outcomes[0].value_repr == "'buffer'"
        assert (runner.sandbox.root / "src/lib/version.py").read_text() == unsaved
    finally:
        runner.close()
    assert snapshot(ws) == before  # byte for byte, and no __pycache__ or result files added


@pytest.mark.parametrize(
    ("source", "reason_part"),
    [
        ("raise RuntimeError('needs a database')\n", "RuntimeError: needs a database"),
        ("import sys\nsys.exit(2)\n", "SystemExit"),
        ("import missing_dependency_xyz\n", "ModuleNotFoundError"),
        ("while True:\n    pass\n", "the import took longer than 2s"),
    ],
)
def test_a_module_that_cannot_be_imported_is_reported(tmp_path: Path, source: str, reason_part: str) -> None:
    ws = make_workspace(tmp_path)
    with ExampleRunner(ws, "pkg/textutils.py", source, "pkg.textutils", timeout_s=2.0) as runner:
        run = runner.evaluate(["parse('1')"])
        report = runner.run_doctest(">>> parse('1')\n1\n")
    assert not run.importable and reason_part in run.reason and run.outcomes == []
    assert not report.passed and reason_part in report.error and "cannot import pkg.textutils" in report.error


def test_a_path_outside_the_workspace_is_a_sandbox_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    runner = ExampleRunner(ws, "../outside.py", "X = 1\n", "outside")
    with pytest.raises(ExampleSandboxError) as raised:
        runner.evaluate(["X"])
    assert isinstance(raised.value, SwarmLspError)
    assert not (tmp_path / "outside.py").exists()
    runner.close()


# ---- doctest -----------------------------------------------------------------------------------


def test_a_correct_doctest_passes_despite_prints_at_import(runner: ExampleRunner) -> None:
    docstring = 'Slugify text.\n\n>>> slugify("Hello World")\n\'hello-world\'\n>>> Stack([1, 2]).pop()\n2\n'
    report = runner.run_doctest(docstring)
    assert (report.attempted, report.failures, report.error) == (2, [], "")
    assert report.passed


def test_a_wrong_expected_value_and_an_unexpected_exception_fail(runner: ExampleRunner) -> None:
    docstring = (
        ">>> slugify('Hello World')\n'Hello World'\n"
        ">>> parse('')\n0\n"
        ">>> parse('x')\nTraceback (most recent call last):\n    ...\nKeyError: 'x'\n"
        ">>> parse('3')\n3\n"
    )
    report = runner.run_doctest(docstring)
    assert report.attempted == 4 and report.error == "" and not report.passed
    assert report.failures[0] == {"source": "slugify('Hello World')", "want": "'Hello World'", "got": "'hello-world'"}
    assert report.failures[1] == {"source": "parse('')", "want": "0", "got": "raised ValueError: empty text"}
    assert report.failures[2]["got"].startswith("raised ValueError: invalid literal")
    assert len(report.failures) == 3


def test_doctest_timeouts_and_empty_or_broken_docstrings(runner: ExampleRunner) -> None:
    report = runner.run_doctest(">>> spin()\n>>> parse('4')\n4\n")
    assert report.attempted == 2 and not report.passed
    assert report.failures == [{"source": "spin()", "want": "", "got": "timed out after 1s"}]
    empty = runner.run_doctest("No examples here.")
    assert (empty.attempted, empty.error, empty.passed) == (0, "", False)
    broken = runner.run_doctest(">>>parse('1')\n1\n")  # no space after >>>
    assert broken.error.startswith("the examples cannot be parsed") and not broken.passed


# ---- cancellation, clean-up, interpreter, child script ----------------------------------------


def test_cancelling_during_a_long_call_raises_cancelled(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    source = TEXTUTILS + textwrap.dedent(
        """
        def announce_then_spin():
            import os, pathlib
            pathlib.Path(os.environ["TMPDIR"], "started").write_text("yes")
            spin()
        """
    )
    token = CancelToken()
    with ExampleRunner(ws, "pkg/textutils.py", source, "pkg.textutils", timeout_s=30.0) as runner:
        marker = runner.sandbox.tmp / "started"

        def cancel_once_started() -> None:
            for _ in range(600):  # the call has started: cancel mid-call (or give up waiting and cancel anyway)
                if marker.exists():
                    break
                time.sleep(0.05)
            token.cancel("user moved on")

        canceller = threading.Thread(target=cancel_once_started)
        canceller.start()
        with pytest.raises(Cancelled):
            runner.evaluate(["announce_then_spin()", "parse('1')"], cancel=token)
        canceller.join()
        assert marker.exists()  # it was cancelled while the call ran
        again = runner.evaluate(["parse('9')"])  # the runner is still usable afterwards
        assert again.outcomes[0].value_repr == "9"


def test_close_twice_removes_the_sandbox(tmp_path: Path) -> None:
    runner = ExampleRunner(make_workspace(tmp_path), "pkg/textutils.py", TEXTUTILS, "pkg.textutils")
    base = runner.sandbox.base
    assert (base / "workspace" / "pkg" / "textutils.py").exists()
    runner.close()
    runner.close()
    assert not base.exists()


def test_the_projects_interpreter_is_preferred_when_it_runs(tmp_path: Path) -> None:
    good = tmp_path / "good"
    (good / ".venv" / "bin").mkdir(parents=True)
    (good / ".venv" / "bin" / "python").symlink_to(sys.executable)
    assert example_python(good) == str(good / ".venv" / "bin" / "python")
    broken = tmp_path / "broken"
    (broken / "venv" / "bin").mkdir(parents=True)
    script = broken / "venv" / "bin" / "python"
    script.write_text("#!/bin/sh\nexit 1\n")
    script.chmod(0o755)
    assert example_python(broken) == sys.executable


def test_the_child_script_imports_only_the_standard_library() -> None:
    tree = ast.parse(doc_examples.CHILD_SCRIPT.read_text())
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import)]
    names = {alias.name.split(".")[0] for node in imports for alias in node.names}
    names |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert names and names <= set(sys.stdlib_module_names) | {"__future__"}
