"""The sandbox contains what generated code does, and reports it (DESIGN.md §8, issue 6)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from swarm_lsp.swarm.verify.sandbox import Sandbox, SandboxTooLarge, detect_isolation

PY = sys.executable


def run_script(sandbox: Sandbox, source: str, **kwargs):
    kwargs.setdefault("timeout_s", 10)
    return sandbox.run([PY, "-c", textwrap.dedent(source)], **kwargs)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "data.txt").write_text("original")
    (ws / "pkg").mkdir()
    (ws / "pkg" / "__init__.py").write_text("VALUE = 1\n")
    return ws


def test_writes_via_home_tmpdir_and_absolute_paths_stay_in_the_sandbox(workspace: Path) -> None:
    marker = f"escape-{uuid.uuid4().hex}.txt"
    real_home = Path.home()
    with Sandbox(workspace) as sandbox:
        result = run_script(
            sandbox,
            f"""
            import os, pathlib, tempfile
            pathlib.Path(os.path.expanduser("~/{marker}")).write_text("home")
            pathlib.Path(tempfile.gettempdir(), "{marker}").write_text("tmp")
            try:
                pathlib.Path({str(workspace / "data.txt")!r}).write_text("hacked")
                print("WROTE_ORIGINAL")
            except OSError as exc:
                print("BLOCKED", exc)
            pathlib.Path("data.txt").write_text("changed in the copy")
            import pkg; print("IMPORTED", pkg.VALUE)
            """,
        )
        assert result.returncode == 0, result.stderr
        assert (sandbox.home / marker).read_text() == "home"
        assert (sandbox.tmp / marker).read_text() == "tmp"
        assert (sandbox.root / "data.txt").read_text() == "changed in the copy"
        assert "IMPORTED 1" in result.stdout
        assert result.host_protected is True, "original workspace was not mounted read-only"
        assert "BLOCKED" in result.stdout and "WROTE_ORIGINAL" not in result.stdout
        base = sandbox.base
    assert (workspace / "data.txt").read_text() == "original"
    assert not (real_home / marker).exists()
    assert not (Path("/tmp") / marker).exists()
    assert not base.exists(), "the sandbox was not removed on exit"


def test_infinite_loop_is_killed_at_the_timeout_with_its_children(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        result = run_script(
            sandbox,
            """
            import subprocess, sys
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
            print(child.pid, flush=True)
            while True:
                pass
            """,
            timeout_s=1.0,
        )
    assert result.timed_out is True
    assert result.returncode != 0
    child_pid = int(result.stdout.split()[0])
    deadline = time.monotonic() + 2
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid), "the child process survived the timeout"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_allocating_too_much_memory_fails_and_is_reported(workspace: Path) -> None:
    with Sandbox(workspace) as sandbox:
        source = "block = bytearray(2 * 1024**3)\nprint('ALLOCATED')"
        result = run_script(sandbox, source, memory_mb=256)
    assert "ALLOCATED" not in result.stdout
    assert result.returncode != 0
    assert result.killed_by_memory is True
    assert result.timed_out is False


def test_sockets_to_a_server_in_the_parent_fail(workspace: Path) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        with Sandbox(workspace) as sandbox:
            result = run_script(
                sandbox,
                f"""
                import socket
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=2)
                    print("CONNECTED")
                except OSError as exc:
                    print("BLOCKED", exc)
                """,
            )
        assert result.network_isolated is True, (
            "network isolation is unavailable: `unshare --net` failed on this machine "
            f"({detect_isolation()}); generated code would have network access"
        )
        assert "BLOCKED" in result.stdout, result.stdout + result.stderr
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


def test_gitignored_files_and_venv_are_not_copied(workspace: Path) -> None:
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    (workspace / ".gitignore").write_text("*.log\ngenerated/\n")
    (workspace / "debug.log").write_text("ignored")
    (workspace / "generated").mkdir()
    (workspace / "generated" / "big.bin").write_text("ignored")
    (workspace / ".venv" / "lib").mkdir(parents=True)
    (workspace / ".venv" / "lib" / "site.py").write_text("venv")
    with Sandbox(workspace) as sandbox:
        copied = {p.relative_to(sandbox.root).as_posix() for p in sandbox.root.rglob("*")}
    assert {"data.txt", "pkg/__init__.py", ".gitignore"} <= copied
    assert not {"debug.log", "generated", ".venv", ".git"} & copied


def test_without_git_builtin_ignores_and_symlinks_apply(workspace: Path, tmp_path: Path) -> None:
    for folder in (".venv", "node_modules", "__pycache__", "build", "pkg.egg-info"):
        (workspace / folder).mkdir()
        (workspace / folder / "file.txt").write_text("skip")
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    (workspace / "inside_link").symlink_to(workspace / "data.txt")
    (workspace / "outside_link").symlink_to(outside)
    with Sandbox(workspace) as sandbox:
        copied = {p.relative_to(sandbox.root).as_posix() for p in sandbox.root.rglob("*")}
        link = sandbox.root / "inside_link"
        assert link.is_symlink() and link.resolve() == (sandbox.root / "data.txt").resolve()
    assert copied == {"data.txt", "pkg", "pkg/__init__.py", "inside_link"}


def test_size_caps_raise_sandbox_too_large(workspace: Path) -> None:
    (workspace / "big.bin").write_bytes(b"x" * 5000)
    with pytest.raises(SandboxTooLarge, match="max_bytes=1000"):
        with Sandbox(workspace, max_bytes=1000):
            pass
    with pytest.raises(SandboxTooLarge, match="max_files=2"):
        with Sandbox(workspace, max_files=2):
            pass


def test_parent_secrets_are_not_visible_inside(workspace: Path, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret")
    monkeypatch.setenv("SOME_TOKEN", "tok")
    with Sandbox(workspace) as sandbox:
        result = run_script(
            sandbox,
            "import json, os; print(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}))",
            env={"EXTRA": "given"},
        )
        seen = json.loads(result.stdout)
        assert seen["cwd"] == str(sandbox.root)
        assert seen["env"]["HOME"] == str(sandbox.home)
        assert seen["env"]["TMPDIR"] == str(sandbox.tmp)
        assert seen["env"]["PYTHONPATH"] == str(sandbox.root)
    assert "ANTHROPIC_API_KEY" not in seen["env"] and "SOME_TOKEN" not in seen["env"]
    assert "sk-ant-secret" not in result.stdout
    assert seen["env"]["EXTRA"] == "given"
    assert os.environ["ANTHROPIC_API_KEY"] == "sk-ant-secret"
