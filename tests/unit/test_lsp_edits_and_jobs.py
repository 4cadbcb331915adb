"""Pure parts of the language server: minimal edits, rebasing, position encodings, the job queue."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from swarm_lsp.server.lsp.edits import StaleEdit, minimal_change, new_file_edit, position_at, rebase, workspace_edit
from swarm_lsp.server.session.queue import QueueFull, RunQueue
from swarm_lsp.swarm.cancel import Cancelled

OLD = "import os\n\ndef f(x):\n    return x\n\ndef g():\n    pass\n"
NEW = 'import os\n\ndef f(x):\n    """Return x."""\n    return x\n\ndef g():\n    pass\n'
TARGET = (OLD.index("def f"), OLD.index("\n\ndef g"))


def test_minimal_change_keeps_common_prefix_and_suffix():
    change = minimal_change(OLD, NEW)
    assert OLD[: change.start] + change.text + OLD[change.end :] == NEW
    assert change.text == '    """Return x."""\n' and change.start == change.end == OLD.index("    return")


def test_rebase_onto_a_document_changed_elsewhere():
    current = "import os\nimport sys\n\ndef f(x):\n    return x\n\ndef g():\n    return 1\n"
    rebased = rebase(OLD, NEW, current, TARGET)
    assert rebased == 'import os\nimport sys\n\ndef f(x):\n    """Return x."""\n    return x\n\ndef g():\n    return 1\n'
    assert rebase(OLD, NEW, OLD, TARGET) == NEW


@pytest.mark.parametrize("current", [
    "import os\n\ndef f(x):\n    return x + 1\n\ndef g():\n    pass\n",  # the target's body changed
    "import os\n\ndef f(x):\n    return x\n\ndef f(x):\n    return x\n",  # now there twice
])
def test_rebase_refuses_when_the_target_changed_or_is_ambiguous(current):
    with pytest.raises(StaleEdit):
        rebase(OLD, NEW, current, TARGET)


@pytest.mark.parametrize(("encoding", "character"), [
    (types.PositionEncodingKind.Utf16, 4), (types.PositionEncodingKind.Utf8, 7), (types.PositionEncodingKind.Utf32, 3),
])
def test_positions_in_each_encoding(encoding, character):
    text = "x = 1\nsé😀z\n"  # é: 2 UTF-8 bytes / 1 UTF-16 unit; 😀: 4 bytes / 2 units
    offset = text.index("z")
    assert position_at(text, offset, encoding) == types.Position(line=1, character=character)


def test_workspace_edit_is_versioned_when_the_client_supports_it():
    edit = workspace_edit("file:///a.py", 7, OLD, NEW, encoding="utf-16", document_changes=True)
    [document_edit] = edit.document_changes
    assert document_edit.text_document.version == 7
    [text_edit] = document_edit.edits
    assert text_edit.range.start == types.Position(3, 0) == text_edit.range.end
    plain = workspace_edit("file:///a.py", 7, OLD, NEW, encoding="utf-16", document_changes=False)
    assert list(plain.changes) == ["file:///a.py"]


async def test_jobs_run_one_at_a_time_and_the_queue_is_bounded():
    manager = RunQueue(max_queued=1)
    order: list[str] = []
    release = asyncio.Event()

    async def work(job):
        order.append(f"start {job.id}")
        await release.wait()
        order.append(f"end {job.id}")
        return job.id

    first = manager.new_run("document", "u::f")
    tasks = [asyncio.ensure_future(manager.run(first, work))]
    await asyncio.sleep(0.05)
    second = manager.new_run("document", "u::g")
    tasks.append(asyncio.ensure_future(manager.run(second, work)))
    await asyncio.sleep(0.05)
    assert manager.status()["running"][0]["id"] == first.id and manager.status()["queued"][0]["id"] == second.id
    with pytest.raises(QueueFull, match="limit 1"):
        manager.new_run("document", "u::h")
    release.set()
    assert await asyncio.gather(*tasks) == [first.id, second.id]
    assert order == [f"start {first.id}", f"end {first.id}", f"start {second.id}", f"end {second.id}"]
    assert manager.status()["running"] == [] and first.state == "done"


async def test_a_queued_job_can_be_cancelled_without_waiting_for_the_running_one():
    manager = RunQueue()
    blocker = asyncio.Event()

    async def work(job):
        await blocker.wait()

    running, queued = manager.new_run("document", "u::f"), manager.new_run("document", "u::g")
    first = asyncio.ensure_future(manager.run(running, work))
    second = asyncio.ensure_future(manager.run(queued, work))
    await asyncio.sleep(0.05)
    assert manager.cancel(queued.id)
    with pytest.raises(Cancelled):
        await asyncio.wait_for(second, timeout=60)  # a hang guard: it would wait for `blocker` forever
    assert queued.state == "cancelled" and running.state == "running"
    blocker.set()
    await first
    assert not manager.cancel(running.id)  # already finished


async def test_asyncio_cancellation_sets_the_token():
    manager = RunQueue()
    job = manager.new_run("document", "u::f")
    task = asyncio.ensure_future(manager.run(job, lambda job: asyncio.sleep(10)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert job.cancel.cancelled and job.state == "cancelled"


def test_a_new_file_is_created_then_filled():
    edit = new_file_edit("file:///ws/tests/test_new.py", "def test_x():\n    assert True\n")
    create, fill = edit.document_changes
    assert isinstance(create, types.CreateFile) and create.options.ignore_if_exists
    assert fill.text_document.version is None and fill.edits[0].new_text.startswith("def test_x")
