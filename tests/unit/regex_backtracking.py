"""Does a regular expression backtrack exponentially? A static check on what `re` parses it into,
used by test_redact.py so that no test has to time a regex on a slow input."""

from __future__ import annotations

import re
from re import _compiler, _constants as sre, _parser

# Catastrophic backtracking needs a pattern that can match one text in exponentially many ways:
# `(a+)+`, `(a*)*`, `(a|a)*`, `(x*;x*)*`. That is a property of the pattern, checked below on what
# `re` parses it into, so no test has to time a regex on a slow input.
ALPHABET = [chr(c) for c in range(0x250)]  # ASCII and Latin letters: enough to tell these classes apart


def plus(*terms: tuple[int, dict[int, int]]) -> dict[int, int]:
    total: dict[int, int] = {}
    for times, ways in terms:
        for position, count in ways.items() if times else ():
            total[position] = min(total.get(position, 0) + times * count, 2)  # 2 stands for "several"
    return total


class Automaton:
    """Glushkov's position automaton of a parsed pattern: a state per character read, an edge per "may
    follow", each edge counting the parses that give it. A fragment is (ways to match "", first states,
    last states). Anchors and lookarounds read nothing (that only adds paths) and X{m,n} counts as X+,
    or X* (conservative); a possessive or atomic part is one opaque step, as the engine never
    backtracks into it. Lookaround and opaque bodies go to `inner`, to be checked on their own."""

    def __init__(self, items, flags: int) -> None:
        self.classes: list[frozenset[str]] = []
        self.follow: list[dict[int, int]] = []
        self.inner: list[tuple] = []
        self.whole = self.seq(items, flags)

    def char(self, chars, empty: int = 0) -> tuple:
        self.classes.append(frozenset(chars))
        self.follow.append({})
        return empty, {len(self.follow) - 1: 1}, {len(self.follow) - 1: 1}

    def then(self, a: tuple, b: tuple) -> tuple:
        for p, ways in a[2].items():
            self.follow[p] = plus((1, self.follow[p]), (ways, b[1]))
        return min(a[0] * b[0], 2), plus((1, a[1]), (a[0], b[1])), plus((1, b[2]), (b[0], a[2]))

    def seq(self, items, flags: int) -> tuple:
        frag = (1, {}, {})
        for op, av in items:
            frag = self.then(frag, self.node(op, av, flags))
        return frag

    def node(self, op, av, flags: int) -> tuple:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.ANY, sre.IN):
            one = _compiler.compile(_parser.SubPattern(_parser.State(), [(op, av)]), flags)
            return self.char(c for c in ALPHABET if one.match(c))
        if op is sre.SUBPATTERN:
            return self.seq(av[3], (flags | av[1]) & ~av[2])
        if op is sre.BRANCH:
            frags = [self.seq(items, flags) for items in av[1]]
            firsts, lasts = plus(*((1, f[1]) for f in frags)), plus(*((1, f[2]) for f in frags))
            return min(sum(f[0] for f in frags), 2), firsts, lasts
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, items = av
            frag = self.seq(items, flags)
            if high > 1:
                self.then(frag, frag)  # the loop: its last states may be followed by its first ones
            return (min(frag[0] + 1, 2) if low == 0 else frag[0]), frag[1], frag[2]
        if op in (sre.POSSESSIVE_REPEAT, sre.ATOMIC_GROUP):
            items = av[2] if op is sre.POSSESSIVE_REPEAT else av
            self.inner.append((items, flags))
            body = Automaton(items, flags)
            empty = 1 if body.whole[0] or (op is sre.POSSESSIVE_REPEAT and av[0] == 0) else 0
            return self.char(frozenset().union(*body.classes), empty) if body.classes else (1, {}, {})
        if op in (sre.ASSERT, sre.ASSERT_NOT):
            self.inner.append((av[1], flags))
            return 1, {}, {}
        if op is sre.AT:
            return 1, {}, {}
        if op is sre.GROUPREF:
            return self.char(ALPHABET, empty=1)
        raise NotImplementedError(f"{op} is not modelled yet: teach Automaton.node about it")


def backtracks_exponentially(items, flags: int = 0) -> bool:
    """Weber & Seidl: exponentially many parses exist iff a state loops back to itself along two
    different paths reading the same text, i.e. the automaton's self-product has a cycle through a
    pair (q, q) that leaves the diagonal or takes an edge with several parses."""
    if isinstance(items, re.Pattern):
        parsed = _parser.parse(items.pattern, items.flags)
        return backtracks_exponentially(parsed, parsed.state.flags)
    a = Automaton(items, flags)
    if any(backtracks_exponentially(*inner) for inner in a.inner):
        return True

    def step(pair) -> list:  # both states read one more character, the same one
        return [(x, y) for x in a.follow[pair[0]] for y in a.follow[pair[1]] if a.classes[x] & a.classes[y]]

    def reach(start, step) -> set:
        seen, todo = {start}, [start]
        while todo:
            for nxt in step(todo.pop()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    back: dict = {}
    for pair in set().union(*(reach((q, q), step) for q in range(len(a.classes)))):
        for nxt in step(pair):
            back.setdefault(nxt, []).append(pair)
    for q in range(len(a.classes)):
        cycle = reach((q, q), step) & reach((q, q), lambda pair: back.get(pair, ()))
        if any(x != y for x, y in cycle) or any(a.follow[x].get(y, 0) > 1 for x, _ in cycle for y, _ in cycle):
            return True
    return False
