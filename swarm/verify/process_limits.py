"""How many processes sandboxed code may start: a fork bomb in generated tests must end as a
reported failure, not take the machine. Three layers, the strongest the machine allows:

- a pids cgroup of its own (`pids.max`), where this process may create one (cgroup v1's pids
  hierarchy or a writable cgroup v2 folder with the pids controller): counted by the kernel, for
  every user, root included;
- RLIMIT_NPROC for an unprivileged user (the kernel ignores it for root): this user's processes now
  plus the allowance;
- the sandbox's own count while it waits (`count`), which kills the group once it exceeds the
  allowance, wherever the others are missing.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import resource
import signal
import time
from pathlib import Path

log = logging.getLogger(__name__)

MAX_PROCESSES = 256  # per sandboxed run: pytest, its workers and whatever the tests start
_counter = itertools.count()


def _writable_pids_root() -> Path | None:
    v1 = Path("/sys/fs/cgroup/pids")
    if (v1 / "cgroup.procs").exists() and os.access(v1, os.W_OK):
        return v1
    try:  # cgroup v2: the folder of this process, when it may create children with the pids controller
        own = next(line.split("::", 1)[1].strip() for line in Path("/proc/self/cgroup").read_text().splitlines()
                   if line.startswith("0::"))
    except (OSError, StopIteration):
        return None
    folder = Path("/sys/fs/cgroup") / own.lstrip("/")
    controllers = folder / "cgroup.subtree_control"
    try:
        if "pids" in controllers.read_text().split() and os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return None


class ProcessLimit:
    """One sandboxed run's process allowance (a context manager around the run)."""

    def __init__(self, allowance: int = MAX_PROCESSES) -> None:
        self.allowance = allowance
        self.cgroup: Path | None = None
        self.nproc: int | None = None

    def __enter__(self) -> ProcessLimit:
        root = _writable_pids_root()
        if root is not None:
            _sweep(root)
            folder = root / f"swarm-lsp-sandbox-{os.getpid()}-{next(_counter)}"
            try:
                folder.mkdir()
                (folder / "pids.max").write_text(str(self.allowance))
                self.cgroup = folder
            except OSError as exc:
                log.debug("sandbox: no pids cgroup (%s)", exc)
                with contextlib.suppress(OSError):
                    folder.rmdir()
        if os.geteuid() != 0:
            self.nproc = _processes_of(os.getuid()) + self.allowance
        return self

    def child_setup(self) -> None:
        """In the child, before exec: join the cgroup, lower RLIMIT_NPROC (async-signal-safe enough:
        only writes and a setrlimit)."""
        if self.cgroup is not None:
            with contextlib.suppress(OSError):
                with open(self.cgroup / "cgroup.procs", "w") as procs:
                    procs.write(str(os.getpid()))
        if self.nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.nproc, self.nproc))

    def hit(self) -> bool:
        """Whether the kernel refused a fork for the cgroup's limit."""
        if self.cgroup is None:
            return False
        try:
            return int((self.cgroup / "pids.events").read_text().split()[1]) > 0
        except (OSError, IndexError, ValueError):
            return False

    def __exit__(self, *exc_info: object) -> None:
        if self.cgroup is None:
            return
        deadline = time.monotonic() + 5  # killed processes leave the cgroup once their parents reap them
        while time.monotonic() < deadline:  # whatever is left (a child that left the process group) goes too
            try:
                pids = [int(p) for p in (self.cgroup / "cgroup.procs").read_text().split()]
            except OSError:
                break
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        try:
            self.cgroup.rmdir()
        except OSError as exc:  # removed by the next run's sweep
            log.debug("sandbox: %s not removed yet (%s)", self.cgroup, exc)


def _sweep(root: Path) -> None:
    """Remove the empty cgroups earlier runs of this process could not (still reaping then)."""
    for folder in root.glob(f"swarm-lsp-sandbox-{os.getpid()}-*"):
        with contextlib.suppress(OSError):
            if not (folder / "cgroup.procs").read_text().split():
                folder.rmdir()


def count(session: int) -> int:
    """Processes of the session `session` (the sandboxed run's, started with a new session)."""
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                fields = Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            total += len(fields) > 3 and fields[3] == str(session)
    return total


def _processes_of(uid: int) -> int:
    total = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                total += entry.stat().st_uid == uid
    return total
