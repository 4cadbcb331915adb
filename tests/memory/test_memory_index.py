"""The memory's index on a real Chroma store with real embeddings: questions in plain words find the
right function, re-indexing embeds only what changed, and what is gone leaves the index."""

from __future__ import annotations

import pytest

from swarm_lsp.swarm.cancel import CancelToken, Cancelled
from swarm_lsp.swarm.memory import index as memory_index

QUESTIONS = {  # plain words, none of the answer's identifiers
    "how much tax is added to an order in a given state": "sales_tax",
    "what takes a percentage off the price": "apply_coupon",
    "when should we order more from the supplier": "reorder_needed",
    "hold items so nobody else can buy them": "reserve_stock",
    "check that a product code read by the scanner is valid": "parse_barcode",
    "email the customer after they pay": "send_receipt",
    "hide part of an email address on screen": "mask_email",
    "try a request again with growing waits between attempts": "withBackoff",
    "show an amount of money in dollars": "formatPrice",
    "turn a title into something usable in a web address": "slugForUrl",
    "limit how many requests per second a client can make": "TokenBucket",
    "decide which server stores a key": "shard_for",
}


def test_plain_language_questions_find_the_right_function(memory):
    stats = memory.update()
    assert (stats.files, stats.chunks, stats.embedded, stats.unchanged, stats.removed) == (7, 17, 17, 0, 0)
    for hybrid, least_top1 in ((False, 10), (True, 9)):
        found = {q: [h.symbol for h in memory.search(q, 3, hybrid=hybrid)] for q in QUESTIONS}
        top3 = [q for q, answer in QUESTIONS.items() if answer in found[q]]
        top1 = [q for q, answer in QUESTIONS.items() if found[q][0] == answer]
        # measured 2026-12-03: vectors alone 11 of 12 first and in the top 3, fused with BM25 9 and 10
        # (on 17 chunks BM25 favours a repeated word: "email"; on a real library the fusion wins,
        # see docs/benchmarks.md)
        assert len(top3) >= 10 and len(top1) >= least_top1, found
    hit = memory.search("decide which server stores a key", 1)[0]
    assert (hit.path, hit.symbol, hit.kind, hit.start_line, hit.end_line) == ("web/hash.rs", "shard_for", "function", 5, 9)
    assert 0 < hit.score <= 1


def test_every_language_is_indexed_with_paths_symbols_and_ranges(memory):
    memory.update()
    held = memory.collection.get(include=["metadatas"])["metadatas"]
    assert {m["language"] for m in held} == {"python", "typescript", "javascript", "go", "rust"}
    by_symbol = {m["symbol"]: m for m in held}
    assert {k: by_symbol["Cart.total"][k] for k in ("path", "kind", "start_line", "end_line")} == {
        "path": "shop/cart.py", "kind": "method", "start_line": 20, "end_line": 21}
    assert by_symbol["TokenBucket.Allow"]["path"] == "web/ratelimit.go"


def test_re_indexing_an_unchanged_tree_embeds_nothing(memory):
    memory.update()
    memory.embedder.texts.clear()
    stats = memory.update()
    assert memory.embedder.texts == [] and (stats.embedded, stats.unchanged, stats.removed) == (0, 17, 0)


def test_an_edited_function_is_embedded_again_alone(memory, project):
    memory.update()
    memory.embedder.texts.clear()
    cart = project / "shop" / "cart.py"
    cart.write_text(cart.read_text().replace("rates = {", "rates = {\"WA\": 0.065, "))
    stats = memory.update()
    assert stats.embedded == 1 and len(memory.embedder.texts) == 1
    assert memory.embedder.texts[0].startswith("shop/cart.py function sales_tax\n") and "WA" in memory.embedder.texts[0]
    assert stats.unchanged == 16


def test_deleted_functions_and_files_leave_the_index(memory, project):
    memory.update()
    (project / "web" / "hash.rs").unlink()
    mailer = project / "shop" / "mailer.py"
    mailer.write_text(mailer.read_text().split("def mask_email")[0])
    stats = memory.update()
    assert stats.removed == 2 and stats.embedded == 0
    symbols = {m["symbol"] for m in memory.collection.get(include=["metadatas"])["metadatas"]}
    assert "shard_for" not in symbols and "mask_email" not in symbols and "send_receipt" in symbols


def test_indexing_some_files_leaves_the_others_alone(memory, project):
    memory.update()
    (project / "web" / "hash.rs").unlink()
    stats = memory.update(["shop/cart.py"])
    assert (stats.files, stats.embedded, stats.removed) == (1, 0, 0)
    assert memory.collection.count() == 17  # hash.rs is dropped only by a whole-tree update or its own path
    assert memory.update(["web/hash.rs"]).removed == 1


def test_cancelling_keeps_what_was_embedded_and_the_next_run_does_the_rest(memory, monkeypatch):
    monkeypatch.setattr(memory_index, "EMBED_BATCH", 5)
    token = CancelToken()
    with pytest.raises(Cancelled):
        memory.update(progress=lambda done, total: token.cancel("stop") if done == 10 else None, cancel=token)
    assert memory.collection.count() == 10
    memory.embedder.texts.clear()
    stats = memory.update()
    assert (stats.embedded, stats.unchanged) == (7, 10) and len(memory.embedder.texts) == 7


def test_files_that_cannot_be_read_are_skipped_with_the_reason(memory, project):
    (project / "shop" / "broken.py").write_bytes(b"def f():\n    return '\xff'\n")
    stats = memory.update()
    assert [s.split(":")[0] for s in stats.skipped] == ["shop/broken.py"] and stats.chunks == 17


def test_an_empty_question_or_memory_finds_nothing(memory):
    assert memory.search("where is the cart") == []
    memory.update()
    assert memory.search("   ") == []


def test_a_question_without_words_still_searches(memory):
    from swarm_lsp.swarm.memory.embedders import WordLlamaEmbedder

    memory.update()
    for query in ("?!", "...", "\u200b"):
        hits = memory.search(query, 2)
        assert len(hits) <= 2 and all(h.score == h.score for h in hits)  # no NaN
    [vector] = WordLlamaEmbedder().embed([""])
    assert abs(sum(x * x for x in vector) - 1) < 1e-6
