"""The session every front end uses: per-job overrides validated through the configuration, one
queue for every front end (also from another thread's loop, as MCP beside the language server),
the edit plan written to disk, ledger rows written off the event loop. Scripted backends only."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from swarm_lsp.server.config import Config, ConfigError
from swarm_lsp.server.session.session import Session
from swarm_lsp.server.workspace import StaleFile
from swarm_lsp.swarm.backends.base import Reply, TokenUsage
from swarm_lsp.swarm.backends.scripted import ScriptedBackend
from swarm_lsp.swarm.engine import Swarm
from swarm_lsp.swarm.errors import InputError
from swarm_lsp.swarm.ledger import Ledger

SOURCE = "def add(a, b):\n    return a + b\n"
GOOD = {"summary": "Add two numbers.", "params": {"a": "The first number.", "b": "The second number."},
        "returns": "The sum.", "raises": {}}
TIER = "llamacpp:qwen2.5-coder-0.5b"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "calc.py").write_text(SOURCE)
    return tmp_path


def session_with(root: Path, backend, **config) -> Session:
    def factory(config: Config, _root: Path) -> Swarm:
        return Swarm(config.swarm_settings(), lambda name: backend, Ledger(root / "ledger.sqlite3"))

    return Session(root, Config(tiers=(TIER,), candidates=1, **config), swarm_factory=factory)


@pytest.mark.parametrize("overrides, message", [
    ({"candidatez": 1}, "unknown option 'candidatez' in test; did you mean 'candidates'?"),
    ({"candidates": 0}, "candidates = 0 in test: expected an integer from 1 to 16"),
    ({"tiers": ["gpt:4"]}, '"gpt:4" is not a backend name'),
    ({"n_ctx": 2048}, "'n_ctx' in test cannot change for one job"),
    ({"instruction": "shorter"}, "'instruction' in test does not apply to the document action"),
    ({"doc_style": "fancy"}, "expected one of auto, google, numpy, rest"),
    (["candidates"], "expected an object of options"),
])
def test_a_bad_override_is_an_input_error_that_names_the_key(root, overrides, message):
    session = session_with(root, ScriptedBackend(TIER, []))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")) as caught:
        session.job_settings("document", overrides, "test")
    assert isinstance(caught.value, InputError)


def test_overrides_reach_the_swarm_and_the_action_settings(root):
    session = session_with(root, ScriptedBackend(TIER, []), mutants=12)
    settings = session.job_settings("refactor", {"candidates": 2, "max-tokens": 256, "instruction": "inline it"}, "t")
    assert (settings.swarm.candidates, settings.swarm.max_tokens, settings.swarm.tiers) == (2, 256, (TIER,))
    assert (settings.options.instruction, settings.options.mutants) == ("inline it", 12)
    defaults = session.job_settings("document", None, "t")
    assert defaults.swarm == session.config.swarm_settings() and defaults.options.instruction is None


async def test_a_per_job_candidates_override_is_used(root):
    backend = ScriptedBackend(TIER, ["not json", "still not json", "nor this"])
    session = session_with(root, backend)
    outcome = await session.run("document", session.read(root / "calc.py"), "add", overrides={"candidates": 3})
    assert outcome.result.status == "rejected" and len(backend.calls) == 3  # the configuration says 1


async def test_a_configuration_change_applies_to_the_next_run_and_keeps_the_loaded_swarm(root):
    session = session_with(root, ScriptedBackend(TIER, lambda messages: GOOD))
    await session.run("document", session.read(root / "calc.py"), "add")
    swarm = session.swarm
    session.configure(Config(tiers=(TIER, "llamacpp:qwen2.5-coder-1.5b"), candidates=2))
    assert session.swarm is swarm  # tiers and candidates do not reload models
    assert session.job_settings("document", None, "t").swarm.tiers == (TIER, "llamacpp:qwen2.5-coder-1.5b")
    session.configure(Config(tiers=(TIER,), n_ctx=2048))
    assert session.swarm is not swarm  # the context size decides the loaded model


class OrderedBackend:
    """Records when each call starts and ends; a call ends when the test releases it."""

    def __init__(self) -> None:
        self.name, self.is_cloud, self.log = TIER, False, []
        self.release = asyncio.Event()

    async def chat(self, messages, **kwargs) -> Reply:
        label = "first" if "first" in messages[-1]["content"] else "second"
        self.log.append(f"start {label}")
        await self.release.wait()
        self.log.append(f"end {label}")
        return Reply(text="{}", parsed={}, usage=TokenUsage(prompt=1, completion=1), model=TIER, latency_s=0.0,
                     finish_reason="stop")


async def test_runs_from_every_front_end_share_one_queue_one_at_a_time(root):
    (root / "two.py").write_text("def first(x):\n    return x\n\n\ndef second(x):\n    return x\n")
    backend = OrderedBackend()
    session = session_with(root, backend)
    document = session.read(root / "two.py")
    one = asyncio.ensure_future(session.run("document", document, "first", origin="lsp"))
    await asyncio.sleep(0.05)
    two = asyncio.ensure_future(session.run("document", document, "second", origin="mcp"))
    while backend.log != ["start first"] or len(session.queue.status()["queued"]) != 1:
        await asyncio.sleep(0.01)
    status = session.queue.status()
    assert [(j["origin"], j["state"]) for j in status["running"] + status["queued"]] == [("lsp", "running"),
                                                                                         ("mcp", "queued")]
    backend.release.set()
    await asyncio.gather(one, two)
    assert backend.log == ["start first", "end first", "start second", "end second"]


async def test_a_run_submitted_from_another_threads_loop_joins_the_sessions_queue(root):
    session = session_with(root, ScriptedBackend(TIER, lambda messages: GOOD))
    session.bind_loop()  # this loop is the language server's
    events: list[tuple[str, bool]] = []
    outcome_box = []

    def other_front_end() -> None:
        async def call() -> None:
            mcp_loop = asyncio.get_running_loop()

            def sink(event) -> None:  # must arrive on the caller's own loop
                events.append((event.stage, asyncio.get_running_loop() is mcp_loop))

            from swarm_lsp.swarm.cancel import CancelToken

            job = await session.submit("document", session.read(root / "calc.py"), "add", cancel=CancelToken(),
                                       events=sink, origin="mcp")
            outcome_box.append(await job)
            await asyncio.sleep(0.05)  # let forwarded events drain

        asyncio.run(call())

    thread = threading.Thread(target=other_front_end)
    thread.start()
    while thread.is_alive():
        await asyncio.sleep(0.01)  # the session's loop must keep running for the run to progress
    assert outcome_box[0].result.status == "accepted" and outcome_box[0].run.origin == "mcp"
    assert events and all(on_caller_loop for _, on_caller_loop in events) and events[-1][0] == "done"
    assert session.queue.finished == 1


async def test_the_plan_writes_atomically_and_refuses_a_changed_or_outside_file(root):
    session = session_with(root, ScriptedBackend(TIER, lambda messages: GOOD))
    outcome = await session.run("document", session.read(root / "calc.py"), "add")
    plan = outcome.plan
    assert [e.path for e in plan.edits] == ["calc.py"] and plan.diff.startswith("--- a/calc.py")
    with pytest.raises(StaleFile, match="outside"):
        plan.write(root, inside=root / "elsewhere")
    assert (root / "calc.py").read_text() == SOURCE
    assert plan.write(root) == [root / "calc.py"] and '"""Add two numbers.' in (root / "calc.py").read_text()
    with pytest.raises(StaleFile, match="changed after it was read"):
        plan.write(root)  # the file is no longer the one the plan was computed from


async def test_ledger_rows_are_written_off_the_event_loop_before_the_run_returns(root, monkeypatch):
    writers: list[str] = []
    original = Ledger.record_call

    def record_call(self, record):
        writers.append(threading.current_thread().name)
        return original(self, record)

    monkeypatch.setattr(Ledger, "record_call", record_call)
    session = session_with(root, ScriptedBackend(TIER, lambda messages: GOOD))
    await session.run("document", session.read(root / "calc.py"), "add")
    assert writers and all(name.startswith("swarm-ledger") for name in writers)
    assert session.swarm.ledger is not None and session.swarm.ledger.totals()["calls"] == 1


async def test_an_actions_own_tiers_and_candidates_apply_to_its_jobs_and_a_request_overrides_them(root):
    other = "llamacpp:qwen2.5-coder-1.5b"
    backend = ScriptedBackend(TIER, ["not json"] * 6)
    session = session_with(root, backend, actions={"document": {"tiers": [other], "candidates": 2}})
    own = session.job_settings("document", None, "t")
    assert (own.swarm.tiers, own.swarm.candidates) == ((other,), 2)
    assert session.job_settings("audit", None, "t").swarm.tiers == (TIER,)  # the others keep the top level
    assert session.job_settings("document", {"tiers": [TIER]}, "t").swarm.tiers == (TIER,)
    outcome = await session.run("document", session.read(root / "calc.py"), "add")
    assert outcome.result.status == "rejected" and len(backend.calls) == 2
    assert {attempt.tier for attempt in outcome.result.attempts} == {other}  # the document action's own tier
