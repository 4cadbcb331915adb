"""Hypothesis strategies for a differential check's generated inputs (see differential_inputs.py):
values shaped like those observed, values of a type hint made of builtins and the usual containers,
and a parameter's literal default. `draw` takes the same values on every run.
"""

from __future__ import annotations

import ast
import math
import warnings
from typing import Any, Iterable

from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import HypothesisException

from swarm_lsp.swarm.verify.differential_inputs import (NO_DEFAULT, UNKNOWN, Input, ObservedCall, Param, hint_kinds,
                                                        to_source)

LITERAL_KINDS = (bool, int, float, str, bytes, type(None), list, tuple, dict, set, frozenset)

def shape_strategy(value: Any, depth: int = 0) -> st.SearchStrategy | None:
    """Values shaped like `value`: the same container kinds, element kinds taken from its items."""
    if value is None:
        return st.none()
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):  # inside a container, a small range makes ties and repeats likely
        return st.integers(-2, 3) if depth else st.integers(-100, 100) | st.integers()
    if isinstance(value, float):
        return st.floats(allow_nan=False) | st.just(0.0)
    if isinstance(value, str):
        return st.sampled_from([value, value[:1], ""]) | st.text("ab", max_size=2) if depth else st.text(max_size=12) | st.just(value)
    if isinstance(value, bytes):
        return st.binary(max_size=12)
    if depth > 2 or type(value) not in LITERAL_KINDS:
        return None
    if isinstance(value, tuple):
        parts = [shape_strategy(item, depth + 1) for item in value]
        return None if any(p is None for p in parts) else st.tuples(*parts)
    if isinstance(value, dict):
        keys = _union([shape_strategy(k, depth + 1) for k in value], st.text(max_size=8))
        values = _union([shape_strategy(v, depth + 1) for v in value.values()], st.integers() | st.text(max_size=8))
        return st.dictionaries(keys, values, max_size=4)
    items = _union([shape_strategy(item, depth + 1) for item in value], st.integers(-5, 5) | st.text(max_size=6))
    if isinstance(value, list):
        return st.lists(items, max_size=5)
    return st.sets(items, max_size=4) if isinstance(value, set) else st.frozensets(items, max_size=4)


_NAMED = {"int": st.integers(-100, 100) | st.integers(), "float": st.floats(allow_nan=False),
          "str": st.text(max_size=12), "bytes": st.binary(max_size=12), "bool": st.booleans(), "None": st.none()}
_SEQUENCES = {"list", "List", "Sequence", "Iterable", "Collection", "MutableSequence"}
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping"}


def hint_strategy(node: ast.expr | None) -> st.SearchStrategy | None:
    """Values of a type hint made of builtins, Optional/Union, and the usual containers; None when
    the hint names anything else (the shapes of observed values decide then)."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return hint_strategy(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Constant) and node.value is None:
        return st.none()
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = hint_strategy(node.left), hint_strategy(node.right)
        return left | right if left is not None and right is not None else None
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    if name is not None:
        if name in _SEQUENCES:
            return st.lists(st.integers(-5, 5) | st.text(max_size=6), max_size=5)
        return _NAMED.get(name)
    if not isinstance(node, ast.Subscript):
        return None
    outer = hint_strategy_name(node.value)
    args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    inner = [hint_strategy(arg) for arg in args if not (isinstance(arg, ast.Constant) and arg.value is Ellipsis)]
    if any(part is None for part in inner) or not inner:
        return None
    if outer == "Optional":
        return st.none() | inner[0]  # type: ignore[operator]
    if outer == "Union":
        return st.one_of(*inner)  # type: ignore[arg-type]
    if outer in _SEQUENCES:
        return st.lists(inner[0], max_size=5)  # type: ignore[arg-type]
    if outer in ("set", "Set", "frozenset", "FrozenSet", "AbstractSet"):
        return st.sets(inner[0], max_size=4)  # type: ignore[arg-type]
    if outer in ("tuple", "Tuple"):
        if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is Ellipsis:
            return st.lists(inner[0], max_size=4).map(tuple)  # type: ignore[arg-type]
        return st.tuples(*inner)
    if outer in _MAPPINGS and len(inner) == 2:
        return st.dictionaries(inner[0], inner[1], max_size=4)  # type: ignore[arg-type]
    return None


def hint_strategy_name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _union(strategies: Iterable[st.SearchStrategy | None], otherwise: Any = None) -> Any:
    """One of the strategies given (duplicates dropped); `otherwise` when there are none."""
    found = [s for s in strategies if s is not None]
    unique = list({repr(s): s for s in found}.values())
    return st.one_of(*unique) if unique else otherwise


def param_strategy(param: Param, observed: list[Any]) -> st.SearchStrategy | None:
    """What is known of one parameter: observed shapes, its hint, its default (and None)."""
    if param.star:
        return _starred_strategy(param, observed)
    parts = [shape_strategy(value) for value in observed]
    parts.append(hint_strategy(param.annotation))
    numbers = [abs(v) for v in observed if type(v) in (int, float) and math.isfinite(v)]
    if numbers and (float in hint_kinds(param.annotation) or any(type(v) is float for v in observed)):
        scale = 2 * max(numbers) + 1  # floats of the observed magnitudes: where rounding and division show
        parts.append(st.floats(-scale, scale))
    if param.default not in (NO_DEFAULT, UNKNOWN):
        parts += [shape_strategy(param.default), st.just(param.default)]
    return _union(parts)


def _starred_strategy(param: Param, observed: list[Any]) -> st.SearchStrategy | None:
    """*args: tuples of the observed lengths, each item like an observed item or of the items' hint;
    **kwargs: dicts shaped like the observed ones. None when nothing is known (then none are passed)."""
    if param.star == "**":  # keyword names: the observed ones (a call can only pass identifiers)
        dicts = [value for value in observed if type(value) is dict and value]
        names = sorted({key for value in dicts for key in value if isinstance(key, str) and key.isidentifier()})
        items = _union(shape_strategy(item) for value in dicts for item in value.values())
        if not names or items is None:
            return None
        return st.dictionaries(st.sampled_from(names), items, max_size=len(names))
    tuples = [value for value in observed if type(value) is tuple]
    item = _union([hint_strategy(param.annotation)] + [shape_strategy(i) for value in tuples for i in value])
    if item is None:
        return None
    lengths = sorted({len(value) for value in tuples}) or [0, 1, 2]
    return st.one_of(*(st.tuples(*[item] * length) for length in lengths))


def draw(strategy: st.SearchStrategy, count: int) -> list[Any]:
    """Up to `count` values, the same ones on every run (derandomized, no example database)."""
    found: list[Any] = []

    @settings(max_examples=count, database=None, derandomize=True, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            collect()
        except HypothesisException:
            pass
    return found


def generated_inputs(params: list[Param], calls: list[ObservedCall], limit: int) -> tuple[list[Input], str]:
    """Up to `limit` inputs drawn from what is known of each parameter, each on an observed call in
    turn (so a method keeps its instance); and why there are none, when there are none."""
    strategies = {}
    for param in params:
        observed = [call.literals[param.name] for call in calls if param.name in call.literals]
        strategy = param_strategy(param, observed)
        if strategy is not None:
            strategies[param.name] = strategy
        elif param.default is NO_DEFAULT and not param.star and not calls:
            return [], f"no value of {param.name} can be built (no hint, default or observed value)"
    if not strategies or limit <= 0:
        return [], "" if strategies else "no parameter has a hint, a default or an observed literal value"
    inputs = []
    for number, values in enumerate(draw(st.fixed_dictionaries(strategies), limit)):
        sources = {name: to_source(value) for name, value in values.items()}
        if any(source is None for source in sources.values()):
            continue
        base = calls[number % len(calls)].pickle if calls else None
        inputs.append({"source": "generated", "base": base, "set": sources, "literals": values})
    return inputs, ""
