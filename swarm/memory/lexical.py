"""The lexical half of the memory's search: Okapi BM25 over the chunks' words and the parts of their
identifiers (snake_case and camelCase split, lower-cased; k1 = 1.5, b = 0.75), fused with the
vector ranking by reciprocal rank (`fuse`). Alone it is the baseline of bench/memory_recall.py."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Hashable
from typing import TypeVar

T = TypeVar("T", bound=Hashable)

WORD = re.compile(r"[A-Za-z][a-z]+|[A-Z]+(?![a-z])|\d+")


def terms(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text) if len(w) > 1]


def as_words(text: str) -> str:
    """`parse_int_list(range_string)` -> "parse int list range string": what a word-level embedder
    can match against a question in plain words."""
    return " ".join(terms(text))


def fuse(*rankings: list[T], k: int = 60) -> list[T]:
    """Reciprocal rank fusion: each ranking gives an item 1 / (k + rank)."""
    score: dict[T, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            score[item] = score.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(score, key=lambda item: -score[item])


class BM25:
    def __init__(self, documents: list[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(terms(d)) for d in documents]
        self.lengths = [sum(d.values()) for d in self.docs]
        self.average = sum(self.lengths) / max(len(self.docs), 1)
        frequency = Counter(t for d in self.docs for t in d)
        n = len(self.docs)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        self.k1, self.b = k1, b

    def score(self, query: list[str], i: int) -> float:
        doc, norm = self.docs[i], self.k1 * (1 - self.b + self.b * self.lengths[i] / self.average)
        return sum(self.idf.get(t, 0.0) * doc[t] * (self.k1 + 1) / (doc[t] + norm) for t in query if t in doc)

    def top(self, query: str, k: int) -> list[int]:
        words = [t for t in terms(query) if t in self.idf]
        if not words:
            return []
        scored = [(self.score(words, i), i) for i in range(len(self.docs))]
        return [i for s, i in sorted((x for x in scored if x[0] > 0), key=lambda x: -x[0])[:k]]
