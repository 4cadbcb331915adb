"""Runs a docstring's example calls, or its doctest, inside the sandbox (see doc_examples.py).

Executed as a script by whatever interpreter the project uses, so it imports nothing but the
standard library and keeps to Python 3.8 syntax. Usage: `python doc_examples_child.py IN OUT`.
IN is a JSON object {"module", "mode": "evaluate"|"doctest", "calls"|"docstring",
"per_call_timeout_s", "import_timeout_s"}. OUT receives JSON lines, one record each, flushed as
they are made so the parent learns how far a child got that it had to kill:
{"kind": "imported"} or {"kind": "import_failed", "reason"}; then one {"kind": "outcome", ...}
per call, or one {"kind": "doctest", "attempted", "failures"} / {"kind": "doctest_error", "error"};
finally {"kind": "done"}, after which the process exits 0 at once.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import os
import signal
import sys
import traceback
from types import FrameType, ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

MESSAGE_CAP = 200
REPR_CAP = 2000
SAFE_REPR_CAP = 120
RETRY_ALARM_S = 0.25  # the alarm repeats this often until disarmed, in case user code swallows it

Record = Dict[str, Any]


class CallTimeout(BaseException):
    """Raised by the alarm: our own BaseException, so `except Exception` in user code misses it."""


_armed = False
_fired = False


def _on_alarm(signum: int, frame: Optional[FrameType]) -> None:
    global _fired
    if _armed:
        _fired = True
        raise CallTimeout()


def _arm(seconds: float) -> None:
    global _armed, _fired
    _fired = False
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01), RETRY_ALARM_S)


def _disarm() -> None:
    global _armed
    _armed = False  # first: an alarm arriving from here on is ignored by the handler
    signal.setitimer(signal.ITIMER_REAL, 0)


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    line = lines[0] if lines else ""
    return line if len(line) <= MESSAGE_CAP else line[: MESSAGE_CAP - 3] + "..."


def _message(exc: BaseException) -> str:
    try:
        return _first_line(str(exc))
    except Exception:  # a __str__ that raises
        return ""


def _describe(exc: BaseException) -> str:
    message = _message(exc)
    return "%s: %s" % (type(exc).__name__, message) if message else type(exc).__name__


def _doctest_safe(value: object, text: str) -> bool:
    if value is None or inspect.isawaitable(value) or inspect.isgenerator(value) or inspect.isasyncgen(value):
        return False  # doctest prints nothing for None; the others have no stable repr
    one_line = "\n" not in text and "\r" not in text and text == text.strip()
    return bool(text) and one_line and len(text) <= SAFE_REPR_CAP and " at 0x" not in text


def evaluate(module: ModuleType, call: str, timeout_s: float) -> Record:
    record: Record = {"kind": "outcome", "call": call, "status": "", "value_repr": "", "exception": "",
                      "exception_mro": [], "message": "", "doctest_safe": False}
    try:
        code = compile(call, "<example>", "eval")
    except Exception as exc:  # SyntaxError mostly; ValueError for null bytes
        record.update(status="invalid", message="not an expression: " + _describe(exc))
        return record
    namespace = dict(module.__dict__)  # a fresh copy: calls do not leak names into each other
    try:
        try:
            _arm(timeout_s)
            try:
                value = eval(code, namespace)
                try:
                    text = repr(value)
                    safe = _doctest_safe(value, text)
                except CallTimeout:
                    raise
                except BaseException:
                    text, safe = "<unrepresentable>", False
            finally:
                _disarm()
            if inspect.iscoroutine(value):
                value.close()  # never awaited: no "never awaited" warning
            if _fired:  # the user's code swallowed the alarm and carried on
                raise CallTimeout()
            record.update(status="returned", value_repr=text[:REPR_CAP], doctest_safe=safe,
                          value_mro=[cls.__name__ for cls in type(value).__mro__])
        except CallTimeout:
            raise
        except BaseException as exc:  # SystemExit too: it is what the call does
            if _fired:  # the alarm, turned into another exception by the user's code
                raise CallTimeout() from exc
            record.update(status="raised", exception=type(exc).__name__,
                          exception_mro=[cls.__name__ for cls in type(exc).__mro__], message=_message(exc))
    except CallTimeout:
        _disarm()
        record.update(status="timeout", message="did not finish within %gs" % timeout_s)
    return record


class _Runner(doctest.DocTestRunner):
    """Collects failures as {source, want, got} and bounds each example with the alarm."""

    def __init__(self, timeout_s: float) -> None:
        doctest.DocTestRunner.__init__(self, verbose=False, optionflags=0)
        self.timeout_s = timeout_s
        self.collected: List[Dict[str, str]] = []

    def report_start(self, out: Any, test: Any, example: Any) -> None:
        _arm(self.timeout_s)

    def report_success(self, out: Any, test: Any, example: Any, got: str) -> None:
        _disarm()

    def report_failure(self, out: Any, test: Any, example: Any, got: str) -> None:
        _disarm()
        if "Traceback (most recent call last)" in got:  # an exception other than the expected one
            got = "raised " + _first_line(got.strip().splitlines()[-1])
        self._collect(example, got)

    def report_unexpected_exception(self, out: Any, test: Any, example: Any, exc_info: Any) -> None:
        _disarm()
        exc = exc_info[1]
        timed_out = isinstance(exc, CallTimeout) or _fired
        self._collect(example, "timed out after %gs" % self.timeout_s if timed_out else "raised " + _describe(exc))

    def _collect(self, example: Any, got: str) -> None:
        self.collected.append({"source": example.source.rstrip("\n"), "want": example.want.rstrip("\n"),
                               "got": got.rstrip("\n")[:REPR_CAP]})


def run_doctest(module: ModuleType, name: str, docstring: str, timeout_s: float) -> Record:
    try:
        test = doctest.DocTestParser().get_doctest(docstring, dict(module.__dict__), name, None, 0)
    except ValueError as exc:
        return {"kind": "doctest_error", "error": "the examples cannot be parsed: " + _message(exc)}
    runner = _Runner(timeout_s)
    try:
        results = runner.run(test, out=lambda text: None)
    except CallTimeout:  # the alarm landed in doctest's own code around an example
        _disarm()
        return {"kind": "doctest_error", "error": "an example did not finish within %gs" % timeout_s}
    return {"kind": "doctest", "attempted": results.attempted, "failures": runner.collected}


def _import(name: str, timeout_s: float) -> Tuple[Record, Optional[ModuleType]]:
    try:
        _arm(timeout_s)
        try:
            module = importlib.import_module(name)
        finally:
            _disarm()
    except CallTimeout:
        return {"kind": "import_failed", "reason": "the import took longer than %gs" % timeout_s}, None
    except BaseException as exc:  # SystemExit at import too
        return {"kind": "import_failed", "reason": _describe(exc)}, None
    return {"kind": "imported"}, module


def main(argv: List[str]) -> None:
    with open(argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    out = open(argv[2], "w", encoding="utf-8")

    def emit(record: Record) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    signal.signal(signal.SIGALRM, _on_alarm)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # doctest captures its own
    name, per_call = request["module"], float(request["per_call_timeout_s"])
    imported, module = _import(name, float(request.get("import_timeout_s", 10)))
    emit(imported)
    if module is not None:
        if request["mode"] == "doctest":
            emit(run_doctest(module, name, request["docstring"], per_call))
        else:
            for call in request["calls"]:
                emit(evaluate(module, call, per_call))
    emit({"kind": "done"})
    out.close()


def run_as_child(entry: Callable[[List[str]], None], folder: str) -> None:
    """Run a child script's `entry(sys.argv)` and exit at once: 3 on an internal error, else 0."""
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == folder:
        del sys.path[0]  # only the project's import roots: never this folder
    try:
        entry(sys.argv)
    except Exception:
        traceback.print_exc(file=sys.__stderr__)
        os._exit(3)
    # At once: the user's threads and atexit hooks must not hold the finished child.
    os._exit(0)


if __name__ == "__main__":
    run_as_child(main, os.path.dirname(os.path.realpath(__file__)))
