"""A pytest plugin that records the arguments a target is called with while the project's tests run.

Loaded inside the sandbox through PYTEST_PLUGINS by whatever interpreter the project uses, so it
imports nothing but the standard library and keeps to Python 3.8 syntax. The environment variable
SWARM_RECORD holds a JSON object {"module", "qualname", "out", "max_calls"}. At start-up the plugin
wraps the target (the module attribute for a function, the class attribute for a method) before any
test module is imported, so `from module import target` in a test gets the wrapper. Each distinct
call (self included, for a method) is pickled *before* the call runs and written to `out` as a JSON
line {"pickle": base64, "literals": {parameter: repr}, "fields": {parameter: {attribute: repr}}};
`literals` holds the arguments that are plain literals (`ast.literal_eval` reads their repr back),
from which the parent infers their shapes; `fields` the literal attributes of the other arguments
(a named tuple, a dataclass, an instance; `self` too), which the parent varies one at a time;
`sequences` the parameters holding a non-empty list that is not a literal (a list of objects),
whose items the parent reorders or repeats; `items` the literal parts of their tuple items
({parameter: [[item, position, repr]]}: the text of a (token type, text) pair), which it varies.
An object argument (`self` too) whose attributes cannot all be pickled (a lock, a connection) is
recorded with those attributes replaced by `Unpicklable` stand-ins, named in the record's
`stand_ins`: a method that never touches them still runs, one that does fails alike on both sides.
Calls that still cannot be pickled are not recorded; the first such call writes {"unpicklable": why}.
"""

from __future__ import annotations

import ast
import base64
import functools
import importlib
import inspect
import json
import os
import pickle
from typing import Any, Dict, List, Set

MAX_PICKLE_BYTES = 65536
MAX_LITERAL_CHARS = 2000
MAX_FIELDS = 12
MAX_ITEMS = 4  # tuple items of a list argument whose literal parts are recorded

_seen: Set[bytes] = set()
_unpicklable: List[str] = []
VALUE_FIELD = "__value__"  # the pseudo-attribute a builtin-valued object's own value is varied under


def _literal(value: object) -> Any:
    """repr(value) when it reads back as an equal literal, else None."""
    try:
        text = repr(value)
        if len(text) <= MAX_LITERAL_CHARS and ast.literal_eval(text) == value:
            return text
    except Exception:
        pass
    return None


def _fields(value: object) -> Dict[str, str]:
    """The literal attributes of an object (a named tuple's fields, a dataclass's or an instance's)."""
    names = getattr(value, "_fields", None)
    try:
        state = {n: getattr(value, n) for n in names} if isinstance(names, tuple) else dict(vars(value))
    except Exception:
        return {}
    found = {}
    for name, item in list(state.items())[:MAX_FIELDS]:
        text = _literal(item)
        if text is not None and isinstance(name, str) and not name.startswith("__"):
            found[name] = text
    return found


def _builtin_valued(value: object) -> bool:
    """An instance of a strict subclass of int, float, str or bytes (not bool)."""
    return isinstance(value, (int, float, str, bytes)) and type(value) not in (int, float, str, bytes, bool)


def _tuple_item_literals(value: list) -> List[List[Any]]:
    """[item, position, repr] of the literal parts of the first tuple items of a list."""
    found = []  # type: List[List[Any]]
    for index, item in enumerate(value[:MAX_ITEMS]):
        if isinstance(item, tuple):
            for position, part in enumerate(item[:MAX_FIELDS]):
                text = _literal(part) if type(part) in (str, bytes, int, float) else None
                if text is not None:
                    found.append([index, position, text])
    return found


class Unpicklable:
    """Stands in for an attribute the recorder could not pickle."""

    def __init__(self, why: str = "") -> None:
        self.why = why

    def __repr__(self) -> str:
        return "<not recorded: %s>" % self.why


def _pickles(value: Any) -> bool:
    try:
        pickle.dumps(value, protocol=4)
    except Exception:
        return False
    return True


def _stood_in(value: Any, names: List[str]) -> Any:
    """`value`, or when it does not pickle, a copy without `__init__` whose unpicklable attributes are
    `Unpicklable` stand-ins (their names appended to `names`)."""
    state = getattr(value, "__dict__", None)
    if _pickles(value) or not isinstance(state, dict) or isinstance(value, type):
        return value
    try:
        clone = object.__new__(type(value))
    except TypeError:
        return value
    for name, item in state.items():
        if _pickles(item):
            clone.__dict__[name] = item
        else:
            clone.__dict__[name] = Unpicklable(type(item).__name__)
            names.append(str(name))
    return clone


def _wrap(function: Any, out_path: str, max_calls: int, is_method: bool) -> Any:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        signature = None

    @functools.wraps(function)
    def recorder(*args: Any, **kwargs: Any) -> Any:
        if len(_seen) < max_calls:
            _record(args, kwargs)
        return function(*args, **kwargs)

    def _record(args: Any, kwargs: Any) -> None:
        stand_ins = []  # type: List[str]
        try:
            try:
                blob = pickle.dumps((args, kwargs), protocol=4)
            except Exception:
                args = tuple(_stood_in(a, stand_ins) for a in args)
                kwargs = {k: _stood_in(v, stand_ins) for k, v in kwargs.items()}
                blob = pickle.dumps((args, kwargs), protocol=4)
        except Exception as exc:
            if not _unpicklable:
                _unpicklable.append(type(exc).__name__ + ": " + str(exc)[:200])
                with open(out_path, "a", encoding="utf-8") as out:
                    out.write(json.dumps({"unpicklable": _unpicklable[0]}) + "\n")
            return
        if len(blob) > MAX_PICKLE_BYTES or blob in _seen:
            return
        _seen.add(blob)
        literals: Dict[str, str] = {}
        fields: Dict[str, Dict[str, str]] = {}
        sequences: List[str] = []
        items: Dict[str, List[List[Any]]] = {}
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                bound = None
            for number, (name, value) in enumerate(bound.arguments.items() if bound else ()):
                text = _literal(value)
                if text is not None and not (is_method and number == 0):
                    literals[name] = text
                elif text is None or _builtin_valued(value):
                    fields[name] = _fields(value)
                    if text is not None:  # self of an int or str subclass (a size, a URL): its value varies
                        fields[name][VALUE_FIELD] = text
                    if type(value) is list and value:
                        sequences.append(name)
                        parts = _tuple_item_literals(value)
                        if parts:
                            items[name] = parts
        record = {"pickle": base64.b64encode(blob).decode("ascii"), "literals": literals,
                  "fields": {name: found for name, found in fields.items() if found}, "sequences": sequences,
                  "items": items, "stand_ins": stand_ins}
        with open(out_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")

    return recorder


def pytest_configure(config: Any) -> None:
    request = json.loads(os.environ.get("SWARM_RECORD", "{}"))
    if not request:
        return
    try:
        module = importlib.import_module(request["module"])
        owner: Any = module
        parts = request["qualname"].split(".")
        for part in parts[:-1]:
            owner = getattr(owner, part)
        name = parts[-1]
        raw = inspect.getattr_static(owner, name)
    except Exception:
        return  # the tests then run unrecorded; the parent sees no calls
    if isinstance(raw, (staticmethod, classmethod)):
        return  # their calls do not carry an instance to rebuild; the tests alone judge them
    is_method = owner is not module
    setattr(owner, name, _wrap(raw, request["out"], int(request.get("max_calls", 50)), is_method))
