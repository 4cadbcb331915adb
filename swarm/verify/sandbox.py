"""A throw-away copy of the workspace to run generated code in (DESIGN.md §8).

`Sandbox` copies the workspace (respecting .gitignore, capped in size) to a temporary
directory that also holds a private HOME and TMPDIR. `Sandbox.run` starts a subprocess there
with a minimal environment, a timeout that kills the whole process group, memory and CPU
limits, and — where the OS allows — no network and the original workspace and real home
mounted read-only (Linux namespaces via util-linux `unshare`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from swarm_lsp.swarm.cancel import CancelToken
from swarm_lsp.swarm.verify.isolation import HIDDEN_IN_HOME, _wrap, detect_isolation, network_isolation
from swarm_lsp.swarm.verify.process_limits import ProcessLimit
from swarm_lsp.swarm.verify.process_limits import count as count_processes
from swarm_lsp.swarm.verify.workspace_copy import SandboxTooLarge, copy_workspace, is_within

__all__ = ["RunResult", "Sandbox", "SandboxTooLarge", "detect_isolation", "network_isolation"]

log = logging.getLogger(__name__)

OUTPUT_CAP_BYTES = 1_000_000
CANCEL_POLL_S = 0.1
MEMORY_ERROR_MARKERS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")

# Bind-mounts each of the first N arguments read-only onto itself, then execs the rest.
@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool
    killed_by_memory: bool
    duration_s: float
    network_isolated: bool
    host_protected: bool = False  # original workspace and real home were read-only inside
    too_many_processes: bool = False  # it started more than MAX_PROCESSES processes (a fork bomb) and was killed


class Sandbox:
    """Context manager: a temporary copy of `workspace` plus a private home and tmp folder."""

    def __init__(
        self, workspace: Path, *, max_bytes: int = 200_000_000, max_files: int = 20_000
    ) -> None:
        self.workspace = Path(os.path.realpath(workspace))
        self.max_bytes = max_bytes
        self.max_files = max_files
        self._base: Path | None = None

    @property
    def base(self) -> Path:
        """The sandbox directory, holding `root` (the copy), `home` and `tmp`."""
        if self._base is None:
            raise RuntimeError("Sandbox is not entered")
        return self._base

    root = property(lambda self: self.base / "workspace")
    home = property(lambda self: self.base / "home")
    tmp = property(lambda self: self.base / "tmp")

    def __enter__(self) -> Sandbox:
        self._base = Path(os.path.realpath(tempfile.mkdtemp(prefix="swarm-sandbox-")))
        try:
            for folder in (self.root, self.home, self.tmp):
                folder.mkdir()
            copy_workspace(self.workspace, self.root, max_bytes=self.max_bytes, max_files=self.max_files)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Remove the sandbox and everything written in it."""
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            if self._base.exists():
                log.warning("sandbox: could not fully remove %s", self._base)
            self._base = None

    # ---- running -------------------------------------------------------------------------

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The whole environment a sandboxed process sees: nothing else leaks from the parent."""
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "HOME": str(self.home),
            "TMPDIR": str(self.tmp),
            "TMP": str(self.tmp),
            "TEMP": str(self.tmp),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
            "XDG_STATE_HOME": str(self.home / ".local" / "state"),
            "XDG_RUNTIME_DIR": str(self.tmp),
            "PYTHONPATH": str(self.root),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.update(extra or {})
        return env

    def _protected_paths(self) -> list[str]:
        """Host paths mounted read-only inside: the original workspace and the real home."""
        candidates = [self.workspace, Path(os.path.realpath(Path.home()))]
        return [
            str(path)
            for path in candidates
            if path.is_dir() and path != Path("/") and not is_within(self.base, path)
        ]

    def _hidden_paths(self) -> list[str]:
        """The real home's secrets (HIDDEN_IN_HOME) that exist, never a folder the run needs."""
        home = Path(os.path.realpath(Path.home()))
        found = [home / name for name in HIDDEN_IN_HOME if (home / name).exists() and not (home / name).is_symlink()]
        return [str(path) for path in found
                if not is_within(self.base, path) and not is_within(self.workspace, path)
                and not is_within(Path(os.path.realpath(sys.executable)), path)]

    def run(
        self,
        argv: list[str],
        *,
        timeout_s: float,
        memory_mb: int = 1024,
        env: dict[str, str] | None = None,
        cancel: CancelToken | None = None,
    ) -> RunResult:
        """Run `argv` in the copy; always returns, reporting timeouts and memory failures.

        When `cancel` is set while the process runs, the process group is killed and
        `Cancelled` is raised."""
        isolation = detect_isolation()
        protected = self._protected_paths() if isolation.mounts else []
        hidden = self._hidden_paths() if isolation.mounts else []
        empty = self.base / "empty"
        empty.touch(mode=0o444, exist_ok=True)
        command = _wrap(isolation, protected, argv, hidden, str(empty))
        limit_bytes = memory_mb * 1024 * 1024
        cpu_s = max(1, math.ceil(timeout_s) + 1)

        processes = ProcessLimit()

        def limit_child() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
            processes.child_setup()

        log.debug("sandbox run: %s (timeout %.1fs, %d MB)", argv, timeout_s, memory_mb)
        started = time.monotonic()
        with processes:
            proc = subprocess.Popen(
                command,
                cwd=self.root,
                env=self.environment(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
                preexec_fn=limit_child,
            )
            out, err = bytearray(), bytearray()
            readers = [_start_reader(proc.stdout, out), _start_reader(proc.stderr, err)]
            try:
                timed_out, crowded = _wait(proc, started + timeout_s, cancel, lambda: processes.hit() or (
                    count_processes(proc.pid) > processes.allowance))
                if timed_out:
                    log.info("sandbox run timed out after %.1fs: %s", timeout_s, argv)
            finally:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)  # also ends children left in the background
                proc.wait()
            crowded = crowded or processes.hit()
        if crowded:
            log.warning("sandbox run started more than %d processes and was stopped: %s", processes.allowance, argv)
        duration = time.monotonic() - started
        for reader in readers:
            reader.join(timeout=2)
        stdout, stderr = (data.decode("utf-8", errors="replace") for data in (out, err))
        killed_by_memory = not timed_out and not crowded and proc.returncode != 0 and (
            proc.returncode == -signal.SIGKILL or any(m in stderr for m in MEMORY_ERROR_MARKERS)
        )
        return RunResult(
            returncode=proc.returncode,
            stdout=stdout,
            stderr=stderr,
            timed_out=timed_out,
            killed_by_memory=killed_by_memory,
            duration_s=duration,
            network_isolated=isolation.network,
            host_protected=bool(protected),
            too_many_processes=crowded,
        )


def _wait(proc: subprocess.Popen, deadline: float, cancel: CancelToken | None,
          crowded: Callable[[], bool]) -> tuple[bool, bool]:
    """Wait for `proc` until `deadline` (monotonic), polling `cancel` and `crowded` (too many
    processes); (timed out, stopped for too many processes)."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return proc.poll() is None, False
        try:
            proc.wait(timeout=min(remaining, CANCEL_POLL_S))
            return False, False
        except subprocess.TimeoutExpired:
            if cancel is not None:
                cancel.raise_if_cancelled()
            if crowded():
                return False, True


def _start_reader(pipe, sink: bytearray) -> threading.Thread:  # noqa: ANN001 - binary pipe
    """Drain `pipe` on a thread into `sink`, keeping only the first OUTPUT_CAP_BYTES."""

    def drain() -> None:
        with pipe:
            while chunk := pipe.read1(65536):
                sink.extend(chunk[: max(OUTPUT_CAP_BYTES - len(sink), 0)])

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    return thread

