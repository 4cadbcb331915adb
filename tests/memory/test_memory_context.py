"""Related code for the writer: what the target calls, what calls it, the tests that mention it and
the nearest chunks, within the token budget; the engine shows it to every writer (scripted backend)
and lists it in the result's evidence; a memory that fails never fails the action."""

from __future__ import annotations

from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm, SwarmSettings
from swarm_lsp.swarm.memory.context import HEADER, gather_context, with_context
from swarm_lsp.swarm.memory.index import MemoryIndex
from swarm_lsp.swarm.types import ActionRequest, DocumentSnapshot

CHECKOUT = '''from shop.cart import apply_coupon, sales_tax


def checkout(cart, prices, region):
    total = cart.total(prices)
    return apply_coupon(total + sales_tax(total, region), 10)
'''
TESTS = '''from shop.cart import sales_tax


def test_new_york_tax():
    assert sales_tax(100.0, "NY") == 4.0
'''
GOOD_DOC = {"summary": "Charge a cart: its total, plus the region's tax, less the house coupon.",
            "params": {"cart": "The cart.", "prices": "Price of each item.", "region": "Where it ships."},
            "returns": "What the customer pays.", "raises": {}}


def with_checkout(memory: MemoryIndex) -> MemoryIndex:
    (memory.root / "shop" / "checkout.py").write_text(CHECKOUT)
    (memory.root / "tests").mkdir()
    (memory.root / "tests" / "test_cart.py").write_text(TESTS)
    memory.update()
    return memory


def listed(context) -> list[tuple[str, str]]:
    return [(item.section, item.symbol) for item in context.items]


def test_the_target_sees_what_it_calls(memory):
    with_checkout(memory)
    code = CHECKOUT.split("\n\n\n")[1]
    context = gather_context(memory, "shop/checkout.py", "checkout", code, 2000)
    calls = [symbol for section, symbol in listed(context) if section == "calls"]
    assert sorted(calls) == ["Cart.total", "apply_coupon", "sales_tax"]  # `.total(` is the project's only `total`
    assert context.text.startswith(HEADER) and "def sales_tax(amount: float, region: str)" in context.text
    assert ("checkout", "checkout") not in [(s, sym) for s, sym in listed(context)]


def test_a_function_sees_its_callers_and_its_tests(memory):
    with_checkout(memory)
    code = (memory.root / "shop" / "cart.py").read_text().split("def sales_tax")[1]
    context = gather_context(memory, "shop/cart.py", "sales_tax", "def sales_tax" + code, 2000)
    assert ("called by", "checkout") in listed(context)
    assert ("tests", "test_new_york_tax") in listed(context) or ("called by", "test_new_york_tax") in listed(context)
    assert all(symbol != "sales_tax" for _, symbol in listed(context))


def test_the_budget_bounds_what_is_given(memory):
    with_checkout(memory)
    code = CHECKOUT.split("\n\n\n")[1]
    full = gather_context(memory, "shop/checkout.py", "checkout", code, 4000)
    small = gather_context(memory, "shop/checkout.py", "checkout", code, 120)
    assert 0 < small.tokens <= 120 < full.tokens and len(small.items) < len(full.items)
    assert gather_context(memory, "shop/checkout.py", "checkout", code, 0).items == []
    assert small.evidence()["budget_tokens"] == 120 and small.evidence()["tokens"] == small.tokens


def test_a_whole_file_target_is_not_shown_its_own_code(memory):
    with_checkout(memory)
    context = gather_context(memory, "shop/cart.py", "", (memory.root / "shop" / "cart.py").read_text(), 2000)
    assert context.items and all(item.path != "shop/cart.py" for item in context.items)


def test_with_context_prefixes_the_first_user_turn_only():
    messages = [{"role": "system", "content": "rules"}, {"role": "user", "content": "task"},
                {"role": "assistant", "content": "a"}, {"role": "user", "content": "more"}]
    shown = with_context(messages, "RELATED")
    assert [m["content"] for m in shown] == ["rules", "RELATED\n\n---\n\ntask", "a", "more"]
    assert messages[1]["content"] == "task" and with_context(messages, "") is messages


async def test_the_engine_shows_every_writer_the_related_code(memory, tmp_path):
    with_checkout(memory)
    backend = ScriptedBackend("llamacpp:scripted", [{**GOOD_DOC, "params": {}}, GOOD_DOC])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), candidates=2, context_tokens=600),
                  lambda name: backend, memory=lambda workspace: memory)
    request = ActionRequest("document", DocumentSnapshot("shop/checkout.py", CHECKOUT, version=1), "checkout",
                            workspace=str(memory.root))
    result = await swarm.run(request)
    assert result.status == "accepted" and len(backend.calls) == 2
    for call in backend.calls:  # the second writer, after the feedback, sees it too
        first_user = next(m["content"] for m in call["messages"] if m["role"] == "user")
        assert first_user.startswith(HEADER) and "def apply_coupon" in first_user
    given = result.evidence["context"]
    assert given["budget_tokens"] == 600 and 0 < given["tokens"] <= 600
    assert {"section": "calls", "path": "shop/cart.py", "symbol": "sales_tax"} in [
        {k: item[k] for k in ("section", "path", "symbol")} for item in given["items"]]


async def test_no_budget_means_no_lookup_and_a_failing_memory_never_fails_the_action(memory):
    with_checkout(memory)
    request = ActionRequest("document", DocumentSnapshot("shop/checkout.py", CHECKOUT, version=1), "checkout",
                            workspace=str(memory.root))

    def broken(workspace: str) -> MemoryIndex:
        raise OSError("disk gone")

    for settings, provider in ((SwarmSettings(tiers=("llamacpp:scripted",)), broken),
                               (SwarmSettings(tiers=("llamacpp:scripted",), context_tokens=600), broken)):
        backend = ScriptedBackend("llamacpp:scripted", [GOOD_DOC])
        result = await Swarm(settings, lambda name: backend, memory=provider).run(request)
        assert result.status == "accepted"
        first_user = next(m["content"] for m in backend.calls[0]["messages"] if m["role"] == "user")
        assert not first_user.startswith(HEADER)
        if settings.context_tokens:
            assert result.evidence["context"] == {"error": "no related code: disk gone"}
        else:
            assert "context" not in result.evidence


async def test_an_accepted_output_is_shown_later_as_an_example(memory):
    with_checkout(memory)
    request = ActionRequest("document", DocumentSnapshot("shop/checkout.py", CHECKOUT, version=1), "checkout",
                            workspace=str(memory.root))
    first = ScriptedBackend("llamacpp:scripted", [GOOD_DOC])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), context_tokens=1500), lambda name: first,
                  memory=lambda workspace: memory)
    assert (await swarm.run(request)).status == "accepted"
    # a similar function in another file: the docstring accepted for checkout is its example
    similar = CHECKOUT.replace("def checkout(", "def checkout_express(").replace(", 10)", ", 5)")
    (memory.root / "shop" / "express.py").write_text(similar)
    later = ScriptedBackend("llamacpp:scripted", [GOOD_DOC])
    swarm = Swarm(SwarmSettings(tiers=("llamacpp:scripted",), context_tokens=1500), lambda name: later,
                  memory=lambda workspace: memory)
    result = await swarm.run(ActionRequest("document", DocumentSnapshot("shop/express.py", similar, version=1),
                                           "checkout_express", workspace=str(memory.root)))
    earlier = [item for item in result.evidence["context"]["items"] if item["section"] == "earlier"]
    assert [(item["path"], item["symbol"]) for item in earlier] == [("shop/checkout.py", "checkout")]
    first_user = next(m["content"] for m in later.calls[0]["messages"] if m["role"] == "user")
    assert "### earlier: accepted for shop/checkout.py::checkout" in first_user and GOOD_DOC["summary"] in first_user


def test_no_outputs_kept_means_no_examples(memory):
    with_checkout(memory)
    assert memory.examples("document", CHECKOUT) == []
    memory.remember("document", "shop/checkout.py", "checkout", CHECKOUT, "   ")  # nothing to keep
    assert memory.examples("document", CHECKOUT) == []
