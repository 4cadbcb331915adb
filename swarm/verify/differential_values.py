"""Values as the differential child sees them: fingerprints that two equal behaviours give alike,
short descriptions for counterexamples, literal source for pinning tests, and the argument
changes boundary inputs ask for (a list reshaped, a tuple item's part or an attribute replaced).

Loaded by differential_child.py from beside it, so, like it, this imports nothing but the standard
library and keeps to Python 3.8 syntax.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
from typing import Any, Dict, List, Optional, Tuple

FINGERPRINT_CAP = 20000
SUMMARY_CAP = 300
ITEMS_CAP = 200
PIN_CAP = 200  # longest literal a pinning test states
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
SCALARS = (type(None), bool, int, float, complex, str, bytes)
VALUE_FIELD = "__value__"  # as in arg_recorder_plugin.py (this child-side module imports nothing of ours)


class Produced(list):
    """What a generator or another iterator returned by the target produced (its first ITEMS_CAP
    items, drawn inside the call's time limit, so an error it raises on the way is the call's)."""


def is_iterator(value: Any) -> bool:
    return inspect.isgenerator(value) or (hasattr(value, "__next__") and hasattr(value, "__iter__"))


def fingerprint(value: Any, depth: int = 0, origins: Optional[Dict[int, str]] = None) -> str:
    """A text that two equal behaviours give alike: structure and values, never addresses. With
    `origins` (id -> "items[2]"), an object that is an item of an argument is named by its place:
    equal items in another order (a sort that is not stable, the last of the maxima) then differ."""
    kind = type(value)
    if kind in SCALARS:
        return repr(value)
    if origins and id(value) in origins:
        return "@%s:%s" % (origins[id(value)], fingerprint(value, depth))
    if depth > 8:
        return "..."
    name = kind.__module__ + "." + kind.__qualname__
    if kind is Produced:
        return "iterator[%s]" % ",".join(fingerprint(v, depth + 1, origins) for v in value)
    if isinstance(value, (list, tuple)):
        inner = ",".join(fingerprint(v, depth + 1, origins) for v in list(value)[:ITEMS_CAP])
        return "%s[%s]" % (name, inner)
    if isinstance(value, (set, frozenset)):
        return "%s{%s}" % (name, ",".join(sorted(fingerprint(v, depth + 1, origins) for v in list(value)[:ITEMS_CAP])))
    if isinstance(value, dict):
        items = list(value.items())[:ITEMS_CAP]
        return "%s{%s}" % (name, ",".join(fingerprint(k, depth + 1, origins) + ":" + fingerprint(v, depth + 1, origins)
                                          for k, v in items))
    if is_iterator(value):  # one nested in a result; the result itself is drawn as a Produced
        produced = []  # type: List[str]
        for item in value:
            produced.append(fingerprint(item, depth + 1, origins))
            if len(produced) >= ITEMS_CAP:
                break
        return "iterator[%s]" % ",".join(produced)
    if inspect.isroutine(value) or inspect.isclass(value):
        return "%s %s" % (name, getattr(value, "__qualname__", "?"))
    state = getattr(value, "__dict__", None)
    slots = [s for c in kind.__mro__ for s in getattr(c, "__slots__", ()) if isinstance(s, str)]
    if state is None and slots:
        state = {s: getattr(value, s) for s in slots if hasattr(value, s)}
    text = ADDRESS.sub("", repr(value))
    if isinstance(state, dict) and state:
        return "%s(%s)%s" % (name, fingerprint(dict(state), depth + 1), "" if " at 0x" in repr(value) else text)
    return "%s:%s" % (name, text)


def origins_of(names: List[str], values: List[Any]) -> Dict[int, str]:
    """id -> place of every object (not a plain value) that is an item of a list or tuple argument."""
    found = {}  # type: Dict[int, str]
    for name, value in zip(names, values):
        if type(value) in (list, tuple):
            for index, item in enumerate(list(value)[:ITEMS_CAP]):
                if type(item) not in SCALARS:
                    found[id(item)] = "%s[%d]" % (name, index)
    return found


def short(text: str) -> str:
    return text if len(text) <= SUMMARY_CAP else text[: SUMMARY_CAP - 3] + "..."


def shown(value: Any) -> str:
    """repr, or for an object without its own repr, its class and attributes."""
    try:
        text = repr(value)
        state = getattr(value, "__dict__", None)
        if " at 0x" in text and isinstance(state, dict):
            text = "%s(%s)" % (type(value).__name__, ", ".join("%s=%r" % item for item in list(state.items())[:8]))
        return short(ADDRESS.sub("", text))
    except Exception:
        return "<unrepresentable>"


def literal_source(value: Any) -> Optional[str]:
    """repr(value) when it reads back as an equal value of the same type (a test can assert it)."""
    try:
        text = repr(value)
        back = ast.literal_eval(text)
    except Exception:
        return None
    if len(text) > PIN_CAP or type(back) is not type(value) or back != value:
        return None  # NaN is not equal to itself, and a long literal makes an unreadable test
    return text


def call_source(args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> Optional[str]:
    """The arguments as Python source, "(1, 'a', width=3)", when every one is a plain literal."""
    parts = [literal_source(a) for a in args]
    for name, value in kwargs.items():
        text = literal_source(value)
        parts.append(None if text is None else "%s=%s" % (name, text))
    return None if any(part is None for part in parts) else "(" + ", ".join(parts) + ")"  # type: ignore[arg-type]


def reshaped(value: List[Any], how: str) -> List[Any]:
    if type(value) is not list or not value:
        raise ValueError("not a non-empty list")
    return value + [copy.copy(value[0])] if how == "tie" else value[::-1]


def with_item_part(value: List[Any], index: int, position: int, new: Any) -> List[Any]:
    """A copy of the list whose tuple item `index` has `new` at `position` (a named tuple stays one)."""
    item = value[index]
    parts = list(item)
    parts[position] = new
    changed = list(value)
    changed[index] = item._make(parts) if hasattr(item, "_make") else type(item)(parts)
    return changed


def with_attribute(value: Any, name: str, new: Any) -> Any:
    """`value` with one attribute replaced: a named tuple's `_replace`, else a shallow copy. The
    pseudo-attribute `__value__` replaces the value of an int or str subclass's instance (its type
    and instance attributes kept)."""
    if name == VALUE_FIELD:
        rebuilt = type(value)(new)
        if getattr(value, "__dict__", None):
            rebuilt.__dict__.update(value.__dict__)
        return rebuilt
    if hasattr(value, "_replace") and name in getattr(value, "_fields", ()):
        return value._replace(**{name: new})
    changed = copy.copy(value)
    object.__setattr__(changed, name, new)  # frozen dataclasses too
    return changed
