"""One model host per machine, for real: the embedded 0.5B served by `model_host_server`
(llama-cpp-python's app) and shared by two processes; the host exits when idle and the next call
starts it again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from swarm_lsp.swarm.backends.model_host import _process_alive, read_record
from swarm_lsp.swarm.backends.shared_host import SharedHostBackend

pytestmark = pytest.mark.real

MODEL = "qwen2.5-coder-0.5b"
KEY = f"{MODEL}-ctx2048"  # the host key: one host per model and context size
HI = [{"role": "user", "content": "Say hi."}]
EXIT_GUARD_S = 120  # only stops a host that never exits from hanging the run; no duration is asserted


async def test_two_processes_use_one_host_and_its_calls_count_as_local(tmp_path):
    backend = SharedHostBackend(MODEL, n_ctx=2048, folder=tmp_path)
    try:
        reply = await backend.chat(HI, max_tokens=8)
        first = read_record(tmp_path, KEY)
        other = subprocess.run([sys.executable, "-c", textwrap.dedent(f'''\
            import asyncio
            from pathlib import Path
            from swarm_lsp.swarm.backends.shared_host import SharedHostBackend
            backend = SharedHostBackend({MODEL!r}, n_ctx=2048, folder=Path({str(tmp_path)!r}))
            reply = asyncio.run(backend.chat([{{"role": "user", "content": "Say hi."}}], max_tokens=8))
            print(backend.host_url, reply.usage.completion)
        ''')], capture_output=True, text=True, timeout=600)
        assert other.returncode == 0, other.stderr[-2000:]
        url, completion = other.stdout.split()
        assert url == backend.host_url == first.url and int(completion) > 0
        assert read_record(tmp_path, KEY).pid == first.pid  # the second process started nothing
        assert reply.model == f"llamacpp:{MODEL}" and reply.usage.completion > 0
    finally:
        await backend.aclose()
        record = read_record(tmp_path, KEY)
        if record is not None and _process_alive(record.pid):
            subprocess.run(["kill", str(record.pid)])


async def test_an_idle_host_exits_and_the_next_call_starts_it_again(tmp_path):
    backend = SharedHostBackend(MODEL, n_ctx=2048, folder=tmp_path, idle_s=3)
    try:
        await backend.chat(HI, max_tokens=4)
        first = read_record(tmp_path, KEY)
        deadline = time.monotonic() + EXIT_GUARD_S
        while _process_alive(first.pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _process_alive(first.pid)  # it exited on its own
        reply = await backend.chat(HI, max_tokens=4)
        assert reply.usage.completion > 0 and read_record(tmp_path, KEY).pid != first.pid
    finally:
        await backend.aclose()
        record = read_record(tmp_path, KEY)
        if record is not None and _process_alive(record.pid):
            subprocess.run(["kill", str(record.pid)])
