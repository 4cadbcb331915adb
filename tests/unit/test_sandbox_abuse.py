"""Generated code that attacks the machine (issue 20, item 4): a fork bomb, reading the user's
secrets, vandalising the tree and the home. Each is contained and reported; the user's tree and home
are byte-for-byte what they were (the original workspace and a stand-in home, hashed before and after)."""

from __future__ import annotations

import hashlib
import sys
import textwrap
from pathlib import Path

import pytest

from swarm_lsp.swarm.verify.process_limits import MAX_PROCESSES
from swarm_lsp.swarm.verify.pytest_runner import run_tests_in_sandbox
from swarm_lsp.swarm.verify.sandbox import Sandbox, detect_isolation

SECRETS = {".ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n", ".aws/credentials": "[default]\nkey=fake\n",
           ".netrc": "machine example.org password fake\n", ".config/gh/hosts.yml": "oauth_token: fake\n"}


def digest(folder: Path) -> dict[str, str]:
    """Every file and folder below `folder` with its content hash and mode."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        data = path.read_bytes() if path.is_file() else b""
        found[rel] = f"{oct(path.stat().st_mode)}:{hashlib.sha256(data).hexdigest()}"
    return found


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    for rel, text in SECRETS.items():
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text(text)
    (home / "notes.txt").write_text("mine\n")
    monkeypatch.setenv("HOME", str(home))  # the sandbox protects Path.home(): this stand-in
    return home


@pytest.fixture
def workspace(tmp_path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "calc.py").write_text("def double(x):\n    return 2 * x\n")
    return ws


needs_mounts = pytest.mark.skipif(not detect_isolation().mounts, reason="no mount namespace on this machine: "
                                  "the home cannot be protected (the sandbox says so in RunResult.host_protected)")


def test_a_fork_bomb_is_stopped_and_reported(workspace):
    bomb = textwrap.dedent("""\
        import os, time
        from calc import double


        def test_double():
            while True:
                try:
                    os.fork()
                except OSError:
                    time.sleep(0.001)
        """)
    (workspace / "test_bomb.py").write_text(bomb)
    with Sandbox(workspace) as sandbox:
        report = run_tests_in_sandbox(sandbox, "test_bomb.py", None, target_file="calc.py", target_lines=(1, 2),
                                      timeout_s=60, measure=False)
    assert f"killed: started more than {MAX_PROCESSES} processes" in report.errors
    assert report.tests.get("test_bomb.py::test_double", "error") == "error"


def test_the_process_limit_stops_a_run_before_its_timeout_and_leaves_nothing(workspace):
    with Sandbox(workspace) as sandbox:
        result = sandbox.run([sys.executable, "-c", textwrap.dedent("""\
            import subprocess
            children = [subprocess.Popen(["sleep", "6007"]) for _ in range(400)]
            """)], timeout_s=600)
    assert result.too_many_processes and not result.timed_out and result.returncode != 0
    assert not [p for p in Path("/proc").glob("[0-9]*") if _cmdline(p) == b"sleep\x006007\x00"]


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:
        return b""


@needs_mounts
def test_the_home_secrets_cannot_be_read(workspace, home):
    reader = textwrap.dedent(f"""\
        import os
        for rel in {sorted(SECRETS)!r}:
            path = os.path.join({str(home)!r}, rel)
            try:
                print(rel, "READ", open(path).read().strip().replace("\\n", " "))
            except OSError as exc:
                print(rel, "BLOCKED", type(exc).__name__)
        print("notes", open(os.path.join({str(home)!r}, "notes.txt")).read().strip())
        """)
    with Sandbox(workspace) as sandbox:
        result = sandbox.run([sys.executable, "-c", reader], timeout_s=30)
    assert result.returncode == 0, result.stderr
    assert "fake" not in result.stdout, result.stdout
    assert "notes mine" in result.stdout  # the rest of the home stays readable (read-only)


@needs_mounts
def test_vandalism_leaves_the_tree_and_the_home_byte_for_byte(workspace, home):
    before = digest(workspace), digest(home)
    vandal = textwrap.dedent(f"""\
        import os, shutil, stat
        for top in ({str(workspace)!r}, {str(home)!r}):
            for folder, dirs, files in os.walk(top):
                for name in files:
                    path = os.path.join(folder, name)
                    for attempt in (lambda: open(path, "w").write("gone"), lambda: os.chmod(path, 0o777),
                                    lambda: os.remove(path)):
                        try:
                            attempt()
                            print("CHANGED", path)
                        except OSError:
                            pass
            for attempt in (lambda: open(os.path.join(top, "dropped.txt"), "w").write("x"),
                            lambda: shutil.rmtree(top)):
                try:
                    attempt()
                    print("CHANGED", top)
                except OSError:
                    pass
        """)
    with Sandbox(workspace) as sandbox:
        result = sandbox.run([sys.executable, "-c", vandal], timeout_s=60)
        assert result.host_protected
    assert "CHANGED" not in result.stdout, result.stdout
    assert (digest(workspace), digest(home)) == before
