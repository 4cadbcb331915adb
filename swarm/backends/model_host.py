"""One model host per machine (issue 17, step 4): the processes of one user share a model server
instead of each loading its own copy of a model and fighting over the cores.

`find_or_start` returns the base URL of the host serving a model: the one a record says is running
(its process alive and answering `GET /models`), else a new one it starts. A lock file makes the
check-and-start atomic across processes, so when several start at once exactly one host comes up
and the others wait for it and use it. The host runs detached from the process that started it (its
own session), so it outlives that process and serves the next; its output goes to a log file
beside the record.

Records and locks live in one folder per user (`hosts_dir`); nothing here knows what the server
is: the caller gives the command that starts it on a given port (llama.cpp's OpenAI-compatible
server for the embedded models).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

log = logging.getLogger(__name__)

Command = Callable[[int], list[str]]  # the argv that starts the host on a port


class HostStartError(RuntimeError):
    """The host did not come up: why, and the end of its log."""


@dataclass(frozen=True)
class HostRecord:
    model: str
    pid: int
    url: str  # base URL, e.g. http://127.0.0.1:PORT/v1
    log: str
    started: float


def find_or_start(model: str, command: Command, hosts_dir: Path, *, start_timeout_s: float = 300.0,
                  lock_timeout_s: float = 600.0) -> str:
    """The base URL of a running host for `model`, started with `command` when none answers."""
    hosts_dir.mkdir(parents=True, exist_ok=True)
    record = _alive(read_record(hosts_dir, model))
    if record is not None:
        return record.url
    with _locked(hosts_dir / f"{model}.lock", lock_timeout_s):
        record = _alive(read_record(hosts_dir, model))  # another process may have started it meanwhile
        if record is not None:
            return record.url
        record = _start(model, command, hosts_dir, start_timeout_s)
        (hosts_dir / f"{model}.json").write_text(json.dumps(asdict(record)))
        return record.url


def read_record(hosts_dir: Path, model: str) -> HostRecord | None:
    try:
        return HostRecord(**json.loads((hosts_dir / f"{model}.json").read_text()))
    except (OSError, ValueError, TypeError):
        return None


def recorded_hosts(hosts_dir: Path) -> list[HostRecord]:
    """Every host recorded in `hosts_dir` (running or not), by the key it was started under."""
    found = (read_record(hosts_dir, path.stem) for path in sorted(hosts_dir.glob("*.json")))
    return [record for record in found if record is not None]


def stop(hosts_dir: Path, model: str) -> bool:
    """Ask the recorded host of `model` to end (SIGTERM); False when none was running."""
    record = read_record(hosts_dir, model)
    if record is None or not _process_alive(record.pid):
        return False
    os.kill(record.pid, 15)
    return True


def _alive(record: HostRecord | None) -> HostRecord | None:
    if record is None or not _process_alive(record.pid):
        return None
    return record if answers(record.url) else None


def answers(url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=timeout_s) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's: its record is not ours, but the pid exists
    try:  # a zombie (exited, not yet reaped by the process that started it) is not alive
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return True


def _start(model: str, command: Command, hosts_dir: Path, start_timeout_s: float) -> HostRecord:
    port = _free_port()
    log_path = hosts_dir / f"{model}.log"
    with log_path.open("ab") as out:
        process = subprocess.Popen(command(port), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)  # outlives this process; Ctrl-C here does not reach it
    url = f"http://127.0.0.1:{port}/v1"
    log.info("started the %s model host (pid %d) on %s", model, process.pid, url)
    deadline = time.monotonic() + start_timeout_s
    while not answers(url, timeout_s=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                process.kill()
            tail = log_path.read_text(errors="replace")[-1500:]
            raise HostStartError(f"the {model} model host did not start (exit {process.poll()}); its log ends:\n{tail}")
        time.sleep(0.2)
    return HostRecord(model, process.pid, url, str(log_path), time.time())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def _locked(path: Path, timeout_s: float) -> Iterator[None]:
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HostStartError(f"another process holds {path} (starting a model host) for too long") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
