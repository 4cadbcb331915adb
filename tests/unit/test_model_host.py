"""One model host per machine: processes that need a model find the running host or start exactly
one between them. The host here is a stand-in HTTP server answering `GET /v1/models` (the real one,
llama.cpp's server, is exercised in tests/real/test_openai_server_real.py); every start appends a
line to a file, so the tests count starts, never time them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from swarm_lsp.swarm.backends.model_host import HostStartError, answers, find_or_start, read_record, recorded_hosts, stop

FAKE_HOST = textwrap.dedent('''\
    import http.server, sys
    import time
    port, starts = int(sys.argv[1]), sys.argv[2]
    with open(starts, "a") as f:
        f.write("start\\n")
    if len(sys.argv) > 3:  # a model that loads slowly: the host answers only once the file exists
        while not __import__("os").path.exists(sys.argv[3]):
            time.sleep(0.05)

    class Models(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/v1/models" else 404)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Models).serve_forever()
''')


@pytest.fixture
def host(tmp_path):
    script = tmp_path / "fake_host.py"
    script.write_text(FAKE_HOST)
    starts = tmp_path / "starts.txt"
    hosts_dir = tmp_path / "hosts"
    yield hosts_dir, (lambda port: [sys.executable, str(script), str(port), str(starts)]), starts
    record = read_record(hosts_dir, "m")
    if record is not None:
        stop(hosts_dir, "m")


def started(starts: Path) -> int:
    return len(starts.read_text().splitlines()) if starts.exists() else 0


def test_the_first_call_starts_the_host_and_the_next_finds_it(host):
    hosts_dir, command, starts = host
    url = find_or_start("m", command, hosts_dir)
    assert answers(url) and find_or_start("m", command, hosts_dir) == url
    assert started(starts) == 1
    record = read_record(hosts_dir, "m")
    assert record.url == url and record.pid != os.getpid()


def test_processes_starting_at_once_share_one_host(host, tmp_path):
    hosts_dir, command, starts = host
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(f'''\
        import sys
        from pathlib import Path
        from swarm_lsp.swarm.backends.model_host import find_or_start
        command = lambda port: [sys.executable, {str(tmp_path / "fake_host.py")!r}, str(port), {str(starts)!r}]
        print(find_or_start("m", command, Path({str(hosts_dir)!r})))
    '''))
    clients = [subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True) for _ in range(4)]
    urls = {client.communicate(timeout=120)[0].strip() for client in clients}
    assert len(urls) == 1 and started(starts) == 1


def test_a_host_that_died_is_replaced(host):
    hosts_dir, command, starts = host
    find_or_start("m", command, hosts_dir)
    os.kill(read_record(hosts_dir, "m").pid, signal.SIGKILL)
    assert answers(find_or_start("m", command, hosts_dir)) and started(starts) == 2


def test_a_record_left_by_a_process_that_is_gone_is_not_trusted(host):
    hosts_dir, command, starts = host
    hosts_dir.mkdir(parents=True)
    (hosts_dir / "m.json").write_text(json.dumps({"model": "m", "pid": 2 ** 22 + 12345, "url": "http://127.0.0.1:9/v1",
                                                  "log": "", "started": 0.0}))
    url = find_or_start("m", command, hosts_dir)
    assert url != "http://127.0.0.1:9/v1" and answers(url) and started(starts) == 1


def test_a_host_that_cannot_start_is_an_error_with_its_log(tmp_path):
    def failing(port: int) -> list[str]:
        return [sys.executable, "-c", "import sys; print('no model file here'); sys.exit(3)"]

    with pytest.raises(HostStartError, match=r"(?s)did not start \(exit 3\).*no model file here"):
        find_or_start("m", failing, tmp_path / "hosts")
    assert read_record(tmp_path / "hosts", "m") is None


def test_a_shared_embedded_tier_is_built_without_starting_anything(tmp_path):
    from swarm_lsp.swarm.backends import BackendSettings, create_backend
    from swarm_lsp.swarm.backends.base import BackendError
    from swarm_lsp.swarm.backends.shared_host import SharedHostBackend

    backend = create_backend("llamacpp:qwen2.5-coder-0.5b", BackendSettings(model_host="shared"))
    assert isinstance(backend, SharedHostBackend) and backend.host_url is None and backend.is_cloud is False
    assert backend.name == "llamacpp:qwen2.5-coder-0.5b"  # the plan and the ledger see the embedded tier
    argv = backend.command(43210)
    assert argv[1:3] == ["-m", "swarm_lsp.swarm.backends.model_host_server"] and "43210" in argv
    with pytest.raises(BackendError, match="qwen-7b"):
        create_backend("llamacpp:qwen-7b", BackendSettings(model_host="shared"))


async def test_a_call_cancelled_while_the_host_starts_returns_and_the_start_goes_on(host, tmp_path):
    import asyncio

    from swarm_lsp.swarm.backends.shared_host import SharedHostBackend
    from swarm_lsp.swarm.cancel import CancelToken, Cancelled

    hosts_dir, command, starts = host
    loaded = tmp_path / "loaded"
    backend = SharedHostBackend("qwen2.5-coder-0.5b", folder=hosts_dir, start_timeout_s=60)
    backend.command = lambda port: [*command(port), str(loaded)]  # type: ignore[method-assign]
    token = CancelToken()
    call = asyncio.create_task(backend.chat([{"role": "user", "content": "hi"}], cancel=token))
    while not started(starts):
        await asyncio.sleep(0.05)
    token.cancel("the user cancelled")
    with pytest.raises(Cancelled):
        await call
    assert backend._starting is not None and not backend._starting.done()  # still loading: not waited for
    loaded.touch()
    url = await backend._starting
    assert answers(url) and backend.host_url is None
    await backend._backend(None)  # the next call uses the host that start brought up
    assert backend.host_url == url and started(starts) == 1
    await backend.aclose()
    assert [r.model for r in recorded_hosts(hosts_dir)] == ["qwen2.5-coder-0.5b-ctx4096"]  # one per context size
    stop(hosts_dir, backend.host_key)


def test_models_hosts_lists_the_running_host_and_stop_ends_it(host, tmp_path, monkeypatch, capsys):
    from swarm_lsp.server.cli import main
    from swarm_lsp.swarm.backends.shared_host import hosts_dir as user_hosts_dir

    monkeypatch.setenv("SWARM_LSP_MODEL_HOSTS_DIR", str(tmp_path / "state" / "model-hosts"))
    hosts_dir, command, starts = user_hosts_dir(), host[1], host[2]
    url = find_or_start("m", command, hosts_dir)
    pid = read_record(hosts_dir, "m").pid

    assert main(["models", "hosts", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["folder"] == str(tmp_path / "state" / "model-hosts") == str(hosts_dir)
    assert [(h["key"], h["pid"], h["url"], h["running"], h["answers"]) for h in listed["hosts"]] == [("m", pid, url, True, True)]

    assert main(["models", "hosts", "--stop"]) == 0
    assert "stopped" in capsys.readouterr().out
    assert not answers(url)
    assert main(["models", "hosts", "--json"]) == 0
    assert [h["running"] for h in json.loads(capsys.readouterr().out)["hosts"]] == [False]
    assert started(starts) == 1


def test_models_hosts_with_none_recorded_says_so(tmp_path, monkeypatch, capsys):
    from swarm_lsp.server.cli import main

    monkeypatch.setenv("SWARM_LSP_MODEL_HOSTS_DIR", str(tmp_path / "state" / "model-hosts"))
    assert main(["models", "hosts", "--stop"]) == 0
    assert "no model host recorded in" in capsys.readouterr().out


def test_the_hosts_folder_is_the_user_state_folder_unless_moved(tmp_path, monkeypatch):
    from swarm_lsp.swarm.backends.shared_host import hosts_dir

    monkeypatch.delenv("SWARM_LSP_MODEL_HOSTS_DIR")  # pinned for the whole run by tests/conftest.py
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert hosts_dir() == tmp_path / "state" / "swarm-lsp" / "model-hosts"
    monkeypatch.setenv("SWARM_LSP_MODEL_HOSTS_DIR", str(tmp_path / "elsewhere"))
    assert hosts_dir() == tmp_path / "elsewhere"
