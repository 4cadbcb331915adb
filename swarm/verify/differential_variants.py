"""Variants of one observed value for a differential check's boundary inputs: a number written as
text moved by one, a string with a part emptied or cut, a value resized or emptied."""

from __future__ import annotations

import math
import re
from typing import Any


def emptied(value: Any) -> Any:
    """The empty (falsy) value of `value`'s kind: 0, "", [], set()...; None for other kinds."""
    return type(value)() if type(value) in (bool, int, float, str, bytes, list, tuple, dict, set, frozenset) else None


def resized(sample: Any, length: int) -> Any:
    """`sample` repeated or cut to `length` items (characters, bytes, list items)."""
    if not sample:
        sample = "a" if isinstance(sample, str) else b"a" if isinstance(sample, bytes) else [0]
    return (sample * (length // len(sample) + 1))[:length]


def numeric_neighbours(text: str) -> list[str]:
    """A number written as text, one below and one above, and negated: where a parser's or a
    range check's boundary shows (`'0'` gives `'-1'`, `'1'`, and `'-0'`)."""
    try:
        number = int(text) if re.fullmatch(r"\s*[-+]?\d+\s*", text) else float(text)
    except ValueError:
        return []
    if not math.isfinite(number):
        return []
    return [str(number - 1), str(number + 1), "-" + text.strip().lstrip("+-") if not text.strip().startswith("-")
            else text.strip()[1:]]


def string_variants(text: str, cap: int = 24, prefixes: int = 8) -> list[str]:
    """An observed string with one word or number emptied, with a number turned into letters, cut
    short, with one character dropped, then cut right after a separator (a line ending in its
    newline) or started at one: where parsers move a boundary or drop a case."""
    found = [text[:match.start()] + text[match.end():] for match in re.finditer(r"[\w-]+", text)]
    found += [text[:match.start()] + "x" + text[match.end():] for match in re.finditer(r"\d+", text)]
    found += [text[:match.start()] + text[match.end():] for match in re.finditer(r"\w+", text)]  # `-x` -> `-`
    found += [text[:end] for end in range(len(text) - 1, max(len(text) - 4, 0), -1)]
    found += [text[:i] + text[i + 1:] for i in range(min(len(text), 4))]
    unique = [value for value in dict.fromkeys(found) if value != text][:cap]
    cuts = [text[:match.end()] for match in re.finditer(r"[^\w\s]|\n", text)]
    cuts += [text[match.start():] for match in re.finditer(r"[^\w\s]", text)][1:]  # and from one: `/../c`
    return unique + [value for value in dict.fromkeys(cuts) if value != text and value not in unique][:2 * prefixes]
