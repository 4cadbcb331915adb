"""Differential check of a rewrite: the original and the rewritten function, side by side in the
sandbox, on the same inputs (issue 16, step 2).

`DifferentialCheck.prepare` runs the tests that exercise the target once with arg_recorder_plugin.py
loaded, so the calls they make are recorded, then builds the inputs (differential_inputs.py):
observed calls, boundary variations of them, values drawn by hypothesis. `check` runs
differential_child.py on a rewritten module text and compares, per input, the return value, the
type of a raised exception and the arguments afterwards. Bounded by `DifferentialLimits` (inputs
and seconds); a target it cannot call is reported as not run, with the reason, and the tests
alone judge it.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.verify.child_watch import START_SLACK_S, Stalled, Watchdog, read_records
from swarm_lsp.swarm.verify.differential_inputs import (
    Input, ObservedCall, boundary_inputs, code_constants, diverse_first, module_constants, observed_inputs, parameters,
)
from swarm_lsp.swarm.verify.differential_strategies import generated_inputs
from swarm_lsp.swarm.verify.pytest_bench import TestBench

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SCRIPTS = ("differential_child.py", "doc_examples_child.py", "arg_recorder_plugin.py", "differential_values.py")
RUNNER_FOLDER = "differential"
PER_CALL_S = 2.0
IMPORT_S = 10.0
MAX_OBSERVED = 40  # distinct recorded calls kept as inputs
BOUNDARY_BASES = 6  # observed (or generated) calls that boundary values are substituted into


@dataclass(frozen=True)
class DifferentialLimits:
    inputs: int = 200
    seconds: float = 30.0


@dataclass(frozen=True)
class Divergence:
    source: str  # observed | boundary | generated
    call: str  # the arguments, as the original saw them
    original: str  # "returns 0", "raises IndexError: ...", "...; items is then [...]"
    rewrite: str
    call_source: str | None = None  # the arguments as Python source, when they are plain literals
    pin: str | None = None  # "returns <literal>" / "raises <builtin>": the original's outcome as a test states it

    def sentence(self, name: str) -> str:
        return f"for {name}{self.call} the original {self.original}, the rewrite {self.rewrite}"


SHOWN = ("source", "call", "original", "rewrite")  # a divergence as the evidence reports it


@dataclass
class DifferentialReport:
    status: str  # "same" | "diverged" | "not_run"
    reason: str = ""  # why not run, or why it stopped early
    tried: dict[str, int] = field(default_factory=dict)  # inputs compared, by source
    divergences: list[Divergence] = field(default_factory=list)
    skipped: int = 0  # inputs whose arguments could not be built
    nondeterministic: int = 0  # inputs on which the original disagreed with itself (not counted)
    seconds: float = 0.0
    stand_ins: list[str] = field(default_factory=list)  # attributes the recorder could not pickle

    @property
    def passed(self) -> bool:
        return self.status != "diverged"

    def feedback(self, name: str) -> list[str]:
        """The smallest counterexample first, as the writer's next prompt states it."""
        ordered = sorted(self.divergences, key=lambda d: (len(d.call), d.source != "observed"))
        lines = [ordered[0].sentence(name) + "; keep the original's behaviour"] if ordered else []
        if len(ordered) > 1:
            lines.append(f"{len(ordered) - 1} more input(s) differ, e.g. " + ordered[1].sentence(name))
        return lines

    def evidence(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason or None, "inputs": dict(self.tried),
                "divergences": [{k: v for k, v in asdict(d).items() if k in SHOWN} for d in self.divergences[:5]],
                "divergent_inputs": len(self.divergences),
                "skipped_inputs": self.skipped, "nondeterministic_inputs": self.nondeterministic,
                "seconds": round(self.seconds, 2),
                **({"attributes_not_recorded": self.stand_ins} if self.stand_ins else {})}


def find_definition(text: str, qualname: str) -> ast.AST | None:
    try:
        body: list[ast.stmt] = ast.parse(text).body
    except SyntaxError:
        return None
    found: ast.AST | None = None
    for part in qualname.split("."):
        found = next((node for node in body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and node.name == part), None)
        if found is None:
            return None
        body = getattr(found, "body", [])
    return found


class DifferentialCheck:
    def __init__(self, bench: TestBench, qualname: str, limits: DifferentialLimits = DifferentialLimits(),
                 observed_only: bool = False) -> None:
        """`observed_only`: compare on the calls the tests make and nothing else (a fix for an audit
        finding must keep behaviour for safe inputs; drawn and boundary values may be the attack)."""
        self.bench, self.qualname, self.limits, self.observed_only = bench, qualname, limits, observed_only
        self.module = bench.target.target_import.module
        self.inputs: list[Input] = []
        self.reason = ""  # set when the check cannot run on this target
        self._runs = 0
        self._unpicklable = ""  # why the recorder could not keep a call, when it could not
        self._test_dirs: list[str] = []  # folders of the exercising tests (their classes unpickle there)
        self.stand_ins: set[str] = set()  # attributes recorded as stand-ins (arg_recorder_plugin.Unpicklable)
        definition = find_definition(bench.target.source_text, qualname)
        self.is_method = "." in qualname and not isinstance(definition, ast.ClassDef)
        if isinstance(definition, ast.ClassDef) or definition is None:
            self.reason = "a class is judged by its tests alone" if definition else f"{qualname} was not found"
        elif isinstance(definition, ast.AsyncFunctionDef):
            self.reason = "a coroutine function is judged by its tests alone"
        self.definition = definition

    @property
    def folder(self) -> Path:
        folder = self.bench.sandbox.base / RUNNER_FOLDER
        if not folder.exists():
            folder.mkdir()
            for script in SCRIPTS:
                shutil.copyfile(HERE / script, folder / script)
        return folder

    def prepare(self, exercising: dict[str, list[str]], cancel: CancelToken | None = None) -> None:
        """Record the calls the exercising tests make, and build the inputs (once per action)."""
        if self.reason:
            return
        calls = self._record(exercising, cancel)[:MAX_OBSERVED]
        if self.is_method and not calls:
            self.reason = (f"the calls the tests make could not be recorded ({self._unpicklable})" if self._unpicklable
                           else f"the tests built no instance to call {self.qualname} on")
            return
        if self.observed_only:
            self.inputs = observed_inputs(calls)[: self.limits.inputs]
            self.reason = "" if self.inputs else "the tests make no call to compare on"
            return
        assert isinstance(self.definition, (ast.FunctionDef, ast.AsyncFunctionDef))
        params = parameters(self.definition, self.is_method)
        room = max(self.limits.inputs - len(calls), 0)
        generated, why = generated_inputs(params, calls, room)
        bases = [{"base": c.pickle, "set": {}, "literals": c.literals, "fields": c.fields, "sequences": c.sequences,
                  "items": c.items, "whole": not self.is_method}  # a function's literals are its whole call
                 for c in diverse_first(calls)[:BOUNDARY_BASES]]
        bases = bases or generated[:BOUNDARY_BASES]
        # a third of the room stays for generated inputs: new boundary kinds must not crowd them out
        boundary = boundary_inputs(params, bases, self._constants(), room // 2, room // 6) if bases else []
        self.inputs = _first_of_each(observed_inputs(calls) + boundary + generated)[: self.limits.inputs]
        if not self.inputs:
            self.reason = why or "no input could be built"

    def _constants(self) -> list[Any]:
        assert self.definition is not None
        named = module_constants(ast.parse(self.bench.target.source_text))
        return code_constants(self.definition, named)

    def _record(self, exercising: dict[str, list[str]], cancel: CancelToken | None) -> list[ObservedCall]:
        out = self.folder / "observed.jsonl"
        request = {"module": self.module, "qualname": self.qualname, "out": str(out), "max_calls": MAX_OBSERVED}
        env = {"PYTEST_PLUGINS": "arg_recorder_plugin", "SWARM_RECORD": json.dumps(request),
               "PYTHONPATH": os.pathsep.join([str(self.folder), self.bench.env["PYTHONPATH"]])}
        # objects the tests made from their own classes are unpickled by the child: their folders go on its path
        self._test_dirs = sorted({str((self.bench.sandbox.root / test_file).parent.resolve()) for test_file in exercising})
        for test_file, tests in exercising.items():
            self.bench.run(test_file, tests, measure=False, env=env, cancel=cancel)
        calls, seen = [], set()
        for record in read_records(out):
            if "unpicklable" in record:
                self._unpicklable = f"their arguments cannot be pickled: {record['unpicklable']}"
            self.stand_ins.update(str(name) for name in record.get("stand_ins") or ())
            blob = str(record.get("pickle", ""))
            if blob and blob not in seen:
                seen.add(blob)
                fields = {name: _literal_values(values) for name, values in (record.get("fields") or {}).items()}
                sequences = tuple(str(name) for name in record.get("sequences") or ())
                calls.append(ObservedCall(blob, _literal_values(record.get("literals") or {}), fields, sequences,
                                          _item_literals(record.get("items") or {})))
        return calls

    def check(self, new_text: str, cancel: CancelToken | None = None) -> DifferentialReport:
        """Compare the original with `new_text` (the whole rewritten module) on the inputs."""
        if self.reason:
            return DifferentialReport("not_run", self.reason)
        if cancel is not None:
            cancel.raise_if_cancelled()
        started = time.monotonic()
        self._runs += 1
        folder = self.folder
        rewrite, request_path = folder / f"rewrite-{self._runs}.py", folder / f"request-{self._runs}.json"
        result_path = folder / f"result-{self._runs}.jsonl"
        rewrite.write_text(new_text, encoding="utf-8")
        inputs = [{"id": number, "base": item["base"], "set": item["set"], "attrs": item.get("attrs") or {},
                   "reshape": item.get("reshape") or {}, "item": item.get("item") or {}}
                  for number, item in enumerate(self.inputs)]
        request_path.write_text(json.dumps({
            "module": self.module, "qualname": self.qualname, "is_method": self.is_method,
            "rewrite_path": str(rewrite), "module_file": str(self.bench.sandbox.root / self.bench.target.source_path),
            "inputs": inputs, "per_call_timeout_s": PER_CALL_S, "import_timeout_s": IMPORT_S,
        }), encoding="utf-8")
        argv = [self.bench.python, "-X", "utf8", str(folder / SCRIPTS[0]), str(request_path), str(result_path)]
        watchdog = Watchdog(cancel, result_path, IMPORT_S * 2, PER_CALL_S * 3)
        try:
            ended = self.bench.sandbox.run(argv, timeout_s=self.limits.seconds + IMPORT_S * 2 + START_SLACK_S,
                                           memory_mb=self.bench.limits.memory_mb, cancel=watchdog, env={
                                               "PYTHONPATH": os.pathsep.join([self.bench.env["PYTHONPATH"], *self._test_dirs])})
            stopped = ended.timed_out or ended.too_many_processes
        except Stalled:
            stopped = True
        report = self._report(read_records(result_path), stopped)
        report.seconds, report.stand_ins = time.monotonic() - started, sorted(self.stand_ins)
        return report

    def _report(self, records: list[dict[str, Any]], stopped: bool) -> DifferentialReport:
        if not any(r.get("kind") == "imported" for r in records):
            failed = next((str(r.get("reason")) for r in records if r.get("kind") == "import_failed"), "")
            return DifferentialReport("not_run", failed or f"importing {self.module} did not finish")
        report = DifferentialReport("same")
        why_skipped = ""
        for record in records:
            if record.get("kind") == "skipped":
                report.skipped += 1
                why_skipped = why_skipped or str(record.get("reason", ""))
            if record.get("kind") != "compared":
                continue
            source = self.inputs[int(record["id"])]["source"]
            if record.get("nondeterministic"):
                report.nondeterministic += 1
                continue
            report.tried[source] = report.tried.get(source, 0) + 1
            if not record.get("same") and all(d.call != record.get("call") for d in report.divergences):
                report.divergences.append(Divergence(source, str(record.get("call", "()")),
                                                     str(record.get("original")), str(record.get("rewrite")),
                                                     record.get("call_source"), record.get("pin")))
        if report.divergences:
            report.status = "diverged"
        elif not report.tried:
            report.status = "not_run"
            report.reason = ("the original disagreed with itself on every input it ran" if report.nondeterministic
                             else f"no input could be run ({why_skipped or 'none finished'})")
        if stopped and not any(r.get("kind") == "done" for r in records):
            report.reason = f"stopped after {sum(report.tried.values())} of {len(self.inputs)} inputs (time budget)"
        return report


def _first_of_each(inputs: list[Input]) -> list[Input]:
    """The inputs in order, each distinct one once."""
    seen: set[str] = set()
    unique = []
    for item in inputs:
        key = json.dumps([item["base"], item["set"], item.get("attrs"), item.get("reshape"), item.get("item")],
                         sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def _literal_values(literals: dict[str, str]) -> dict[str, Any]:
    values = {}
    for name, text in literals.items():
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return values


def _item_literals(items: dict[str, list[list[Any]]]) -> dict[str, list[tuple[int, int, Any]]]:
    """The recorder's {parameter: [[item, position, repr]]} with the reprs read back."""
    found: dict[str, list[tuple[int, int, Any]]] = {}
    for name, parts in items.items():
        for index, position, text in parts:
            value = _literal_values({"v": text}).get("v", _literal_values)
            if value is not _literal_values:
                found.setdefault(name, []).append((int(index), int(position), value))
    return found
