"""Runs the original and the rewritten target side by side on the same inputs, inside the sandbox.

Executed as a script by whatever interpreter the project uses, so it imports nothing but the
standard library (and, copied beside it, doc_examples_child.py for the per-call alarm and
differential_values.py for fingerprints and argument changes) and keeps to Python 3.8 syntax. Usage: `python differential_child.py IN OUT`. IN is a JSON object {"module",
"qualname", "is_method", "rewrite_path", "module_file", "inputs", "per_call_timeout_s",
"import_timeout_s"}; each input is {"id", "base": base64 pickle of (args, kwargs) or null, "set":
{parameter: expression}, "attrs": {parameter: {attribute: expression}}, "reshape": {parameter:
"tie" | "reversed"}} (a list with an equal copy of its first item appended, or reversed), "item":
{parameter: [item, position, expression]}} (one part of one tuple item of a list replaced). The
original is the module as imported; the rewrite is the rewritten module's text executed as a
second module of the same name (its own helpers, classes and imports). Pickled arguments are loaded once per side; a class of the target module is taken from that side's
module, so a method's instance is rebuilt from the recorded state as an instance of each side's
class. OUT receives JSON lines: {"kind": "imported"} or {"kind": "import_failed", "reason"}; one
{"kind": "compared", "id", "call", "same", "original", "rewrite", "nondeterministic", "call_source",
"pin"} per input (`call_source`: the arguments as Python source when they are plain literals; `pin`:
"returns <literal>" or "raises <builtin exception>", what the original did, when a test can state it)
(or {"kind": "skipped", "id", "reason"} when its arguments cannot be built); {"kind": "done"}.
"""

from __future__ import annotations

import base64
import builtins
import importlib.util
import inspect
import io
import itertools
import json
import linecache
import os
import pickle
import signal
import sys
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

HERE = os.path.dirname(os.path.realpath(__file__))


def _beside(filename: str, name: str) -> Any:
    """The module in `filename`, copied beside this script, loaded as `name`."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, filename))
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


timing: Any = _beside("doc_examples_child.py", "_swarm_doc_examples_child")
values: Any = _beside("differential_values.py", "_swarm_differential_values")

# Raised by the interpreter (not a `raise` statement), these say the value was of the wrong kind; a
# rewrite that fails on it with the other one (None.sort() vs iter(None)) rejects the same input.
WRONG_KIND = (TypeError, AttributeError)
RERUNS = 4  # after a divergence, each side runs this many more times: one that varies is nondeterministic
# (4: a float noise that rounds to one of two values on a large input looked steady over 2 reruns)


class _SideUnpickler(pickle.Unpickler):
    """Takes the target module's classes from one side's module."""

    def __init__(self, data: bytes, module_name: str, side: ModuleType) -> None:
        pickle.Unpickler.__init__(self, io.BytesIO(data))
        self.module_name, self.side = module_name, side

    def find_class(self, module: str, name: str) -> Any:
        if module == "arg_recorder_plugin":  # its Unpicklable stand-ins; the plugin sits beside this script
            return getattr(_recorder_module(), name)
        if module == self.module_name:
            found: Any = self.side
            for part in name.split("."):
                found = getattr(found, part)
            return found
        return pickle.Unpickler.find_class(self, module, name)


def _recorder_module() -> ModuleType:
    if "arg_recorder_plugin" not in sys.modules:
        sys.modules["arg_recorder_plugin"] = _beside("arg_recorder_plugin.py", "arg_recorder_plugin")
    return sys.modules["arg_recorder_plugin"]


def _raised_by_a_statement(exc: BaseException) -> bool:
    """Whether the innermost frame raised it with a `raise` statement (not the interpreter)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    return linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno).strip().startswith("raise")


def _run(function: Callable[..., Any], args: Tuple[Any, ...], kwargs: Dict[str, Any], names: List[str],
         timeout_s: float) -> Tuple[str, str, str, str, Optional[str]]:
    """Calling function: (fingerprint, summary) of what it returned or raised, then (fingerprint,
    summary) of what its mutable arguments hold afterwards, then the outcome as a test can pin it."""
    origins = values.origins_of(names, list(args) + list(kwargs.values()))  # before the call reorders anything
    try:
        timing._arm(timeout_s)
        try:
            value = function(*args, **kwargs)
            if values.is_iterator(value):
                value = values.Produced(itertools.islice(value, values.ITEMS_CAP))
            print_ = values.fingerprint(value, origins=origins)[:values.FINGERPRINT_CAP]
            summary = ("yields " + values.shown(list(value))) if type(value) is values.Produced else (
                "returns " + values.shown(value))
            literal = values.literal_source(value)
            pin = None if literal is None else "returns " + literal
        finally:
            timing._disarm()
        if timing._fired:
            raise timing.CallTimeout()
    except timing.CallTimeout:
        timing._disarm()
        return "timeout", "does not finish within %gs" % timeout_s, "", "", None
    except BaseException as exc:  # SystemExit too: it is what the call does
        if timing._fired:
            return "timeout", "does not finish within %gs" % timeout_s, "", "", None
        kind = type(exc)
        pin = "raises " + kind.__qualname__ if kind.__module__ == "builtins" and issubclass(kind, Exception) else None
        print_ = "raises %s.%s" % (kind.__module__, kind.__qualname__)
        if kind in WRONG_KIND and not _raised_by_a_statement(exc):
            print_ = "raises on a value of the wrong kind"  # TypeError and AttributeError alike
        summary = "raises " + timing._describe(exc)
    after = []
    for name, arg in zip(names, list(args) + list(kwargs.values())):
        if type(arg) not in values.SCALARS:
            try:
                after.append((name, values.fingerprint(arg)[:values.FINGERPRINT_CAP], values.shown(arg)))
            except Exception:
                continue
    state = "|".join(name + "=" + fp for name, fp, _ in after)
    return print_, summary, state, "".join("; %s is then %s" % (name, shown) for name, _, shown in after), pin


def _seen(outcome: Tuple[str, str, str, str, Optional[str]]) -> Tuple[str, str]:
    """What a comparison looks at: the result's and the arguments' fingerprints."""
    return outcome[0], outcome[2]


class Side:
    def __init__(self, module: ModuleType, module_name: str, qualname: str) -> None:
        self.module, self.module_name = module, module_name
        owner: Any = module
        for part in qualname.split(".")[:-1]:
            owner = getattr(owner, part)
        raw = inspect.getattr_static(owner, qualname.split(".")[-1])
        if isinstance(raw, staticmethod):
            raw = raw.__func__
        elif isinstance(raw, classmethod):
            raw = raw.__get__(None, owner)
        self.function = raw

    def arguments(self, item: Dict[str, Any],
                  signature: inspect.Signature) -> Tuple[Tuple[Any, ...], Dict[str, Any], List[str], Optional[str]]:
        """(args, kwargs, parameter names, the call as a test writes it: defaults left out)"""
        args, kwargs = (), {}  # type: Tuple[Any, ...], Dict[str, Any]
        if item.get("base"):
            args, kwargs = _SideUnpickler(base64.b64decode(item["base"]), self.module_name, self.module).load()
        bound = signature.bind_partial(*args, **kwargs)
        for name, expression in (item.get("set") or {}).items():
            bound.arguments[name] = eval(expression, {"__builtins__": builtins})
        for name, changes in (item.get("attrs") or {}).items():
            for attribute, expression in changes.items():
                bound.arguments[name] = values.with_attribute(bound.arguments[name], attribute,
                                                        eval(expression, {"__builtins__": builtins}))
        for name, how in (item.get("reshape") or {}).items():
            bound.arguments[name] = values.reshaped(bound.arguments[name], how)
        for name, (index, position, expression) in (item.get("item") or {}).items():
            bound.arguments[name] = values.with_item_part(bound.arguments[name], index, position,
                                                    eval(expression, {"__builtins__": builtins}))
        call_source = values.call_source(tuple(bound.args), dict(bound.kwargs))
        bound.apply_defaults()
        names = [n for n in bound.arguments if signature.parameters[n].kind not in
                 (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
        return tuple(bound.args), dict(bound.kwargs), names, call_source


def _load_rewrite(request: Dict[str, Any], original: ModuleType) -> ModuleType:
    name = request["module"]
    rewrite = ModuleType(name)
    rewrite.__dict__.update({"__file__": request["module_file"], "__package__": original.__package__,
                             "__spec__": original.__spec__, "__builtins__": builtins})
    with open(request["rewrite_path"], encoding="utf-8") as handle:
        code = compile(handle.read(), request["rewrite_path"], "exec", dont_inherit=True)
    exec(code, rewrite.__dict__)
    return rewrite


def compare(item: Dict[str, Any], sides: Tuple[Side, Side], signature: inspect.Signature,
            timeout_s: float) -> Dict[str, Any]:
    record = {"kind": "compared", "id": item["id"]}  # type: Dict[str, Any]
    outcomes = []  # type: List[Tuple[str, str, str, str, Optional[str]]]
    for side in (sides[0], sides[1]) + (sides[0], sides[1]) * RERUNS:
        if len(outcomes) == 2 and _seen(outcomes[0]) == _seen(outcomes[1]):
            break  # both sides run again only to tell a divergence from nondeterminism
        try:
            args, kwargs, names, call_source = side.arguments(item, signature)
        except Exception as exc:
            return {"kind": "skipped", "id": item["id"], "reason": "arguments not built: " + timing._describe(exc)}
        if len(outcomes) == 0:
            shown = [values.shown(a) for a in args] + ["%s=%s" % (k, values.shown(v)) for k, v in kwargs.items()]
            record["call"] = values.short("(" + ", ".join(shown) + ")")
            record["call_source"] = call_source
        outcomes.append(_run(side.function, args, kwargs, names, timeout_s))
    first, second = outcomes[0], outcomes[1]
    record["same"] = _seen(first) == _seen(second)
    originals, rewrites = [_seen(o) for o in outcomes[0::2]], [_seen(o) for o in outcomes[1::2]]
    record["nondeterministic"] = not record["same"] and (len(set(originals)) > 1 or len(set(rewrites)) > 1
                                                        or _seen(first) in rewrites)
    record["pin"] = first[4]
    states_differ = first[2] != second[2]  # the arguments are shown only when they tell the sides apart
    record["original"] = first[1] + (first[3] if states_differ else "")
    record["rewrite"] = second[1] + (second[3] if states_differ else "")
    return record


def main(argv: List[str]) -> None:
    with open(argv[1], encoding="utf-8") as handle:
        request = json.load(handle)
    out = open(argv[2], "w", encoding="utf-8")

    def emit(record: Dict[str, Any]) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()

    signal.signal(signal.SIGALRM, timing._on_alarm)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")
    imported, original = timing._import(request["module"], float(request.get("import_timeout_s", 10)))
    if original is not None:
        try:
            timing._arm(float(request.get("import_timeout_s", 10)))
            try:
                rewrite = _load_rewrite(request, original)
            finally:
                timing._disarm()
            sides = (Side(original, request["module"], request["qualname"]),
                     Side(rewrite, request["module"], request["qualname"]))
            signature = inspect.signature(sides[0].function)
        except BaseException as exc:
            timing._disarm()
            imported = {"kind": "import_failed", "reason": "the rewrite cannot be loaded: " + timing._describe(exc)}
            original = None
    emit(imported)
    if original is not None:
        for item in request["inputs"]:
            emit(compare(item, sides, signature, float(request["per_call_timeout_s"])))
    emit({"kind": "done"})
    out.close()


if __name__ == "__main__":
    timing.run_as_child(main, HERE)
