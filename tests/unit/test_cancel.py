"""The cancel token and the helpers that keep a cancelled job on time: `wait`, `race_cancel`,
`in_thread`, `Lingering`. Every blocking piece of work here is held by a threading.Event the test
releases itself, so the assertions are about order (the job ended while the work still ran), never
about elapsed time."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from swarm_lsp.swarm.cancel import Cancelled, CancelToken, Lingering, in_thread, race_cancel

GUARD_S = 30  # only a hang guard; nothing below asserts a duration


async def test_wait_returns_when_another_thread_cancels():
    token = CancelToken()
    waiter = asyncio.ensure_future(token.wait())
    await asyncio.sleep(0)
    assert not waiter.done()
    threading.Thread(target=token.cancel, args=("from a thread",)).start()
    await asyncio.wait_for(waiter, GUARD_S)
    assert token.cancelled and token.reason == "from a thread"


async def test_wait_on_a_cancelled_token_returns_at_once():
    token = CancelToken()
    token.cancel()
    await asyncio.wait_for(token.wait(), GUARD_S)


def test_callbacks_run_once_and_can_be_removed():
    token, calls = CancelToken(), []
    token.on_cancel(lambda: calls.append("kept"))
    remove = token.on_cancel(lambda: calls.append("removed"))
    remove()
    token.cancel("first")
    token.cancel("second")
    assert calls == ["kept"] and token.reason == "first"
    token.on_cancel(lambda: calls.append("late"))  # registered after the cancel: called at once
    assert calls == ["kept", "late"]


def test_a_failing_callback_does_not_stop_the_others():
    token, calls = CancelToken(), []
    token.on_cancel(lambda: 1 / 0)
    token.on_cancel(lambda: calls.append("second"))
    token.cancel()
    assert calls == ["second"]


async def test_work_that_finishes_is_returned_and_cancel_is_not_needed():
    assert await in_thread(CancelToken(), sum, [1, 2, 3]) == 6
    assert await in_thread(None, max, 4, 9) == 9


async def test_a_thread_that_ignores_the_cancel_is_abandoned_and_the_caller_goes_on():
    token, release, finished = CancelToken(), threading.Event(), threading.Event()
    abandoned: list[asyncio.Future] = []

    def stubborn() -> str:  # e.g. bandit on a huge file: no cancel checks inside
        release.wait(GUARD_S)
        finished.set()
        return "late"

    call = asyncio.ensure_future(in_thread(token, stubborn, grace_s=0.01, on_abandon=abandoned.append))
    await asyncio.sleep(0.05)
    token.cancel("user")
    with pytest.raises(Cancelled, match="user"):
        await asyncio.wait_for(call, GUARD_S)
    assert not finished.is_set()  # the caller ended while the thread still ran
    [future] = abandoned
    release.set()
    assert await asyncio.wait_for(future, GUARD_S) == "late"


async def test_a_thread_that_honours_the_cancel_within_the_grace_returns_its_result():
    token = CancelToken()

    def polite() -> str:
        while not token.cancelled:  # a sandbox poll
            time.sleep(0.01)
        return "partial result"

    call = asyncio.ensure_future(in_thread(token, polite, grace_s=GUARD_S))
    await asyncio.sleep(0.05)
    token.cancel()
    assert await asyncio.wait_for(call, GUARD_S) == "partial result"


async def test_an_asyncio_cancellation_abandons_the_thread_too():
    release = threading.Event()
    abandoned: list[asyncio.Future] = []
    call = asyncio.ensure_future(in_thread(CancelToken(), release.wait, GUARD_S, on_abandon=abandoned.append))
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    [future] = abandoned
    assert not future.done()
    release.set()
    assert await asyncio.wait_for(future, GUARD_S) is True


async def test_race_cancel_on_a_coroutine():
    token = CancelToken()
    never = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(token.cancel, "stop")
    with pytest.raises(Cancelled, match="stop"):
        await asyncio.wait_for(race_cancel(never, token, grace_s=0), GUARD_S)


async def test_lingering_cleanup_waits_for_every_abandoned_thread():
    lingering, cleaned = Lingering(), []
    loop = asyncio.get_running_loop()
    first, second = loop.create_future(), loop.create_future()
    lingering.add(first)
    lingering.add(second)
    lingering.then(lambda: cleaned.append("closed"))
    first.set_result(None)
    await asyncio.sleep(0)
    assert cleaned == []
    second.set_exception(RuntimeError("the sandbox went away"))
    await asyncio.sleep(0)
    assert cleaned == ["closed"]
    second.exception()


def test_lingering_without_pending_work_cleans_up_at_once():
    cleaned = []
    Lingering().then(lambda: cleaned.append("closed"))
    assert cleaned == ["closed"]


async def test_a_coroutine_that_ignores_the_cancel_is_stopped_after_the_grace():
    token, stopped = CancelToken(), []

    async def deaf_backend() -> str:  # e.g. a third-party backend that never looks at the token
        try:
            await asyncio.sleep(GUARD_S)
        except asyncio.CancelledError:
            stopped.append("cancelled")
            raise
        return "late"

    call = asyncio.ensure_future(race_cancel(deaf_backend(), token, grace_s=0.01))
    await asyncio.sleep(0.05)
    token.cancel("user")
    with pytest.raises(Cancelled, match="user"):
        await asyncio.wait_for(call, GUARD_S)
    await asyncio.sleep(0)  # the stopped task unwinds
    assert stopped == ["cancelled"]


async def test_a_coroutine_that_honours_the_cancel_keeps_its_own_cancelled_with_the_partial_reply():
    token = CancelToken()

    async def polite_backend() -> str:
        await token.wait()
        raise Cancelled("user", partial="the tokens so far")

    call = asyncio.ensure_future(race_cancel(polite_backend(), token, grace_s=GUARD_S))
    await asyncio.sleep(0.05)
    token.cancel("user")
    with pytest.raises(Cancelled) as caught:
        await asyncio.wait_for(call, GUARD_S)
    assert caught.value.partial == "the tokens so far"


async def test_without_a_token_an_asyncio_cancellation_still_abandons_the_thread():
    release = threading.Event()
    abandoned: list[asyncio.Future] = []
    call = asyncio.ensure_future(in_thread(None, release.wait, GUARD_S, on_abandon=abandoned.append))
    await asyncio.sleep(0.05)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    [future] = abandoned  # handed over still running, not marked done by the cancellation
    assert not future.done()
    release.set()
    assert await asyncio.wait_for(future, GUARD_S) is True
