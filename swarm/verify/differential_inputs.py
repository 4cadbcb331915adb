"""The inputs a differential check runs the original and the rewrite on (issue 16, step 2).

Three sources, in this order of trust: calls *observed* while the project's tests ran (pickled by
arg_recorder_plugin.py); *boundary* inputs, an observed call with one argument replaced by None, an
empty or tied container, or a constant of the code and its neighbours (`n > 9` gives 8, 9 and 10),
or with two changed at once (one set to 0, "" or False, another to its boundary values); and
*generated* inputs, drawn by hypothesis from what is known of each parameter: the shapes of its
observed values, its type hint, its default. An input is {"source", "base", "set"}: `base` the
pickled (args, kwargs) of an observed call (None: defaults only) and `set` the parameters replaced,
each by the source text of a literal, which the child evaluates once per side.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

from swarm_lsp.swarm.verify.differential_literals import (NO_DEFAULT, UNKNOWN, code_constants, literal_default,
                                                         module_constants, to_source)
from swarm_lsp.swarm.verify.differential_variants import emptied, numeric_neighbours, resized, string_variants


Input = dict[str, Any]
SMALL_INTS = (0, 1, -1)
MAX_LENGTH = 64  # integer constants up to this are also tried as lengths of string and list arguments
MAX_LENGTH_CONSTANTS = 4
MAX_ITEM_VARIANTS = 6
FRACTIONS = (0.0, -0.5, 0.5, 0.7)
UNKNOWN_KEYWORD = "unexpected_keyword"
RESHAPES = ("tie", "reversed")  # the child's list changes: an equal copy of the first item appended; reversed


@dataclass(frozen=True)
class Param:
    name: str
    annotation: ast.expr | None  # for *args and **kwargs, the hint of each item
    default: Any  # the default's value when it is a literal; NO_DEFAULT / UNKNOWN otherwise
    star: str = ""  # "*" for *args (a tuple), "**" for **kwargs (a dict)


def parameters(definition: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[Param]:
    """The parameters a caller supplies (self or cls left out), with hints and literal defaults."""
    args = definition.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[Any] = [NO_DEFAULT] * (len(positional) - len(args.defaults)) + list(args.defaults)
    pairs = list(zip(positional, defaults)) + list(zip(args.kwonlyargs, args.kw_defaults))
    found = [Param(arg.arg, arg.annotation, literal_default(default)) for arg, default in pairs]
    found += [Param(a.arg, a.annotation, NO_DEFAULT, star) for a, star in ((args.vararg, "*"), (args.kwarg, "**"))
              if a is not None]
    return found[1:] if is_method and found else found


@dataclass(frozen=True)
class ObservedCall:
    pickle: str  # base64 of pickle.dumps((args, kwargs)), self first for a method
    literals: dict[str, Any]  # the arguments that are plain literals, by parameter name
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # {parameter: {attribute: literal}} of objects
    sequences: tuple[str, ...] = ()  # parameters holding a non-empty list of objects (not a literal)
    items: dict[str, list[tuple[int, int, Any]]] = field(default_factory=dict)  # literal parts of their tuple items


def diverse_first(calls: list[ObservedCall]) -> list[ObservedCall]:
    """The calls in order, those unlike every earlier one first: different kinds of literal arguments,
    or strings written with other punctuation (`'100%'` after `'1.0'`), or other object attributes."""
    seen: set[str] = set()
    first: list[ObservedCall] = []
    rest: list[ObservedCall] = []
    for call in calls:
        shape = repr(sorted((name, type(value).__name__, sorted(set(re.sub(r"[\w\s]", "", value))) if
                             isinstance(value, str) else None) for name, value in call.literals.items()))
        shape += repr(sorted((name, sorted(attributes)) for name, attributes in call.fields.items()))
        (rest if shape in seen else first).append(call)
        seen.add(shape)
    return first + rest


def observed_inputs(calls: list[ObservedCall]) -> list[Input]:
    return [{"source": "observed", "base": call.pickle, "set": {}} for call in calls]


def boundary_values(samples: list[Any], hint: ast.expr | None, constants: list[Any]) -> list[Any]:
    """Values where a plausible mistake shows, for one parameter: None, empty and tied containers,
    the code's constants of the parameter's kind and their neighbours."""
    kinds = {type(sample) for sample in samples} | hint_kinds(hint)
    values: list[Any] = [None]
    if int in kinds:
        numbers = [c for c in constants if type(c) is int]
        values += [n + step for n in numbers for step in (-1, 0, 1)] + list(SMALL_INTS)
    if float in kinds:  # and a value that truncates down but rounds up (c + 0.7): int() written for round()
        values += [float(c) + step for c in constants if type(c) in (int, float) for step in FRACTIONS]
        values += [0.0, 0.5, -1.0]
    if str in kinds:
        values += ["", " "] + [c for c in constants if type(c) is str]
    if bytes in kinds:
        values += [b""] + [c for c in constants if type(c) is bytes]
    if bool in kinds:
        values += [True, False]
    lengths = sorted({n + step for n in constants if type(n) is int and 0 <= n <= MAX_LENGTH for step in (-1, 0, 1)} - {-1})
    for sample in samples:
        if type(sample) in (str, bytes, list):  # `len(x) > 3` moved by one shows on lengths 2, 3 and 4
            values += [resized(sample, length) for length in lengths[:3 * MAX_LENGTH_CONSTANTS]]
        if type(sample) is str:
            values += numeric_neighbours(sample) + string_variants(sample)
        if type(sample) is bytes:
            values += [v.encode("latin-1") for v in string_variants(sample.decode("latin-1"))]
        if type(sample) is list:
            values += [[], [sample[0], sample[0]] if sample else [0, 0], sample[::-1]]
            # an item occurring twice: where the first and the last occurrence differ
            values += [sample + [item] for item in sample[:MAX_ITEM_VARIANTS]]
            values += [sample[:i] + [None] + sample[i + 1:] for i in range(min(len(sample), MAX_ITEM_VARIANTS))]
        elif type(sample) is dict:  # an entry missing, or None: where a `.get` default or a None check matters
            keys = list(sample)[:MAX_ITEM_VARIANTS]
            values += [{}] + [{k: v for k, v in sample.items() if k != key} for key in keys]
            values += [{**sample, key: None} for key in keys]
            values += [{**sample, key: emptied(sample[key])} for key in keys]  # falsy, not None
        elif type(sample) is tuple and not sample:
            values.append(())
    if list in kinds and not any(type(s) is list for s in samples):
        values += [[], [0, 0]]
    if dict in kinds:
        values.append({})
    return _distinct(values, samples[0] if samples else NO_DEFAULT)


def param_boundary_values(param: Param, samples: list[Any], constants: list[Any]) -> list[Any]:
    """boundary_values for a parameter; for *args and **kwargs, variants of the observed tuple or
    dict: none at all, and each item (each keyword's value) in turn given its boundary values."""
    if not param.star:
        return boundary_values(samples, param.annotation, constants)
    found: list[Any]
    if param.star == "*":
        items: tuple = next((s for s in samples if type(s) is tuple), ())
        sample: Any = items
        found = [()]
        for i, item in enumerate(items[:MAX_ITEM_VARIANTS]):
            found += [items[:i] + (v,) + items[i + 1:] for v in boundary_values([item], param.annotation, constants)]
        found += [items[:-1], items + items[-1:]] if items else []
    else:
        named: dict = next((s for s in samples if type(s) is dict), {})
        sample, found = named, [{}]
        for key in list(named)[:MAX_ITEM_VARIANTS]:
            found += [{k: v for k, v in named.items() if k != key}]
            found += [{**named, key: v} for v in boundary_values([named[key]], param.annotation, constants)]
        if named:  # a keyword the function does not know: where it is rejected (and with what) shows
            found.append({**named, UNKNOWN_KEYWORD: next(iter(named.values()))})
    return _distinct(found, sample)


def _distinct(values: list[Any], sample: Any) -> list[Any]:
    """The values that can be written as literals, each once, in order, `sample` itself left out."""
    unique: dict[str, Any] = {}
    for value in values:
        source = to_source(value)
        if source is not None and source != to_source(sample):
            unique.setdefault(source, value)
    return list(unique.values())


def hint_kinds(hint: ast.expr | None) -> set[type]:
    if hint is None:
        return set()
    names = {node.id if isinstance(node, ast.Name) else node.attr
             for node in ast.walk(hint) if isinstance(node, (ast.Name, ast.Attribute))}
    if isinstance(hint, ast.Constant) and isinstance(hint.value, str):
        names |= set(hint.value.replace("[", " ").replace("]", " ").replace("|", " ").replace(",", " ").split())
    table = {"int": int, "float": float, "str": str, "bytes": bytes, "bool": bool, "list": list, "List": list,
             "Sequence": list, "dict": dict, "Dict": dict, "Mapping": dict}
    return {table[name] for name in names if name in table}


def boundary_inputs(params: list[Param], bases: list[Input], constants: list[Any], limit: int,
                    pair_limit: int = 0) -> list[Input]:
    """Each base input with one parameter (or one attribute of an object argument) replaced by a
    boundary value, or one list of objects reshaped or one literal part of one of its tuple items
    varied; the (base, parameter) pairs take turns, so a small `limit` still reaches each. Then, up
    to `pair_limit` more (and what `limit` leaves), pairs: one variable (a parameter or an
    attribute) set to a falsy value that is not None (0, "", False) while another parameter takes
    its boundary values, where `if x and ...` written for `if x is not None and ...` shows."""
    per_param: list[list[Input]] = []
    pairs: list[list[Input]] = []
    calls: set[str] = set()  # the calls made of literals alone: one observed call varied may make another's
    for base in bases:  # the call's own integers count as constants: `len(s) <= length` shows at length
        own = constants + [n for n in base.get("literals", {}).values() if type(n) is int and n not in constants]
        values = {param.name: param_boundary_values(param, _samples(base, param), own) for param in params}
        for name, options in values.items():
            per_param.append([{"source": "boundary", "base": base["base"], "set": {**base["set"], name: to_source(v)}}
                              for v in options if _new_call(base, params, name, v, calls)])
        attributes = {(param, attribute): boundary_values([sample], None, constants)
                      for param, fields in base.get("fields", {}).items() for attribute, sample in fields.items()}
        objects: dict[str, list[list[Input]]] = {}  # an object's attributes share its parameter's turn
        for (param, attribute), options in attributes.items():  # an observed object with one attribute varied
            objects.setdefault(param, []).append([{"source": "boundary", "base": base["base"], "set": base["set"],
                                                   "attrs": {param: {attribute: to_source(v)}}} for v in options])
        for param, attribute, value in _crossed_attributes(base.get("fields", {})):  # two objects alike there
            objects.setdefault(param, []).insert(0, [{"source": "boundary", "base": base["base"], "set": base["set"],
                                                      "attrs": {param: {attribute: to_source(value)}}}])
        per_param += [_taking_turns(groups) for groups in objects.values()]
        pairs += _falsy_pairs(base, values, attributes)
    for base in bases:  # a list of objects reordered, or with an equal copy of its first item added:
        for param in base.get("sequences", ()):  # where ties and order show (stable sorts, first of the max)
            per_param.append([{"source": "boundary", "base": base["base"], "set": base["set"],
                               "reshape": {param: how}} for how in RESHAPES])
        for param, parts in base.get("items", {}).items():  # a literal part of a tuple item varied
            per_param.append(_taking_turns([[{"source": "boundary", "base": base["base"], "set": base["set"],
                                              "item": {param: [index, position, to_source(value)]}}
                                             for value in boundary_values([sample], None, constants)]
                                            for index, position, sample in parts]))
    singles = [item for group in _zip_longest(per_param) for item in group]
    paired = [item for group in _zip_longest(pairs) for item in group]
    return singles[:limit] + paired[:pair_limit + max(limit - len(singles), 0)]


def _new_call(base: Input, params: list[Param], name: str, value: Any, calls: set[str]) -> bool:
    """False when `base` with `name` set to `value` is a call of literals alone already made."""
    literals = base.get("literals", {})
    if not base.get("whole") or any(param.name not in literals for param in params if param.name != name):
        return True
    call = to_source({**{param.name: literals.get(param.name) for param in params}, name: value})
    if call is None or call in calls:
        return call is None
    calls.add(call)
    return True


def _crossed_attributes(fields: dict[str, dict[str, Any]]) -> list[tuple[str, str, Any]]:
    """(parameter, attribute, value): an attribute of one object argument given the value it has on
    another (self and other alike in what decides between them: where ties and order show)."""
    found = []
    for param, attributes in fields.items():
        for other, theirs in fields.items():
            found += [(other, name, value) for name, value in attributes.items()
                      if other != param and name in theirs and theirs[name] != value]
    return found


def _samples(base: Input, param: Param) -> list[Any]:
    samples = [base["literals"][param.name]] if param.name in base.get("literals", {}) else []
    if param.default not in (NO_DEFAULT, UNKNOWN):
        samples.append(param.default)
    return samples


def _falsy_pairs(base: Input, values: dict[str, list[Any]],
                 attributes: dict[tuple[str, str], list[Any]]) -> list[list[Input]]:
    """For each falsy, not-None value of one variable, a group: that value with each boundary value
    of another parameter."""
    groups = []
    falsy: list[tuple[str, Any, Any]] = [("set", key, v) for key, options in values.items() for v in options if _falsy(v)]
    falsy += [("attrs", key, v) for key, options in attributes.items() for v in options if _falsy(v)]
    for kind, key, value in falsy:
        for other, options in values.items():
            if kind == "set" and other == key:
                continue
            fixed: Input = ({"set": {**base["set"], key: to_source(value)}} if kind == "set" else
                            {"set": base["set"], "attrs": {key[0]: {key[1]: to_source(value)}}})
            groups.append([{"source": "boundary", "base": base["base"], **fixed,
                            "set": {**fixed["set"], other: to_source(option)}} for option in options])
    return groups


def _falsy(value: Any) -> bool:
    return value is not None and not value and type(value) in (int, float, str, bytes, bool)


def _taking_turns(groups: list[list[Input]]) -> list[Input]:
    """The groups' first items, then their second items, and so on, as one group."""
    return [item for layer in _zip_longest(groups) for item in layer]


def _zip_longest(groups: list[list[Input]]) -> list[list[Input]]:
    depth = max((len(group) for group in groups), default=0)
    return [[group[i] for group in groups if i < len(group)] for i in range(depth)]
