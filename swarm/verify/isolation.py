"""How the sandbox isolates a run, probed once per process: a network namespace (no network), a
private mount namespace where the original workspace and the real home are mounted read-only and
the home's secrets are hidden, via util-linux `unshare` (as root, or with a user namespace)."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

log = logging.getLogger(__name__)

_PROTECT_SCRIPT = (
    'n="$1"; shift; while [ "$n" -gt 0 ]; do '
    '{mount} --bind "$1" "$1" && {mount} -o remount,bind,ro "$1" || exit 125; '
    'shift; n=$((n - 1)); done; '
    'empty="$1"; shift; n="$1"; shift; while [ "$n" -gt 0 ]; do '
    'if [ -d "$1" ]; then {mount} -t tmpfs -o ro,size=16k,mode=0500 tmpfs "$1"; '
    'else {mount} --bind "$empty" "$1" && {mount} -o remount,bind,ro "$1"; fi '
    '|| {{ echo "sandbox: could not hide $1" >&2; exit 125; }}; '
    'shift; n=$((n - 1)); done; exec "$@"'
)
# What the real home holds that sandboxed code has no business reading: hidden inside (an empty
# folder or an empty file in its place) where the machine gives the sandbox its own mounts.
HIDDEN_IN_HOME = (
    ".ssh", ".aws", ".azure", ".gnupg", ".kube", ".docker", ".config", ".netrc", ".git-credentials", ".pypirc",
    ".npmrc", ".bash_history", ".zsh_history", ".python_history", ".local/share/swarm-lsp", ".local/state",
)


@dataclass(frozen=True)
class _Isolation:
    prefix: tuple[str, ...]  # unshare command, empty when namespaces are unavailable
    network: bool
    mounts: bool  # a private mount namespace where the protect script can run


def _candidate_isolations() -> list[_Isolation]:
    unshare = shutil.which("unshare")
    if unshare is None:
        return []
    userns = (unshare, "--map-root-user")
    plain = (unshare,)
    order = [plain, userns] if os.geteuid() == 0 else [userns, plain]
    mount_ns = ("--net", "--mount", "--propagation", "private")
    with_mounts = [_Isolation((*p, *mount_ns), True, True) for p in order]
    net_only = [_Isolation((*p, "--net"), True, False) for p in order]
    return with_mounts + net_only if shutil.which("mount") else net_only


@functools.lru_cache(maxsize=1)
def detect_isolation() -> _Isolation:
    """Find the strongest isolation this machine allows; probed once per process."""
    with tempfile.TemporaryDirectory(prefix="swarm-sandbox-probe-") as probe_dir:
        for candidate in _candidate_isolations():
            argv = _wrap(candidate, [probe_dir], ["/bin/sh", "-c", "exit 0"])
            try:
                ok = subprocess.run(argv, capture_output=True, timeout=10).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
            if ok:
                log.info("sandbox isolation: %s", " ".join(candidate.prefix))
                return candidate
    log.warning("sandbox: network namespaces unavailable; generated code runs with network access")
    return _Isolation((), False, False)


def network_isolation() -> bool:
    """Whether sandboxed processes run without network on this machine."""
    return detect_isolation().network


def _wrap(isolation: _Isolation, protected: list[str], argv: list[str], hidden: list[str] | None = None,
          empty: str = "/nonexistent") -> list[str]:
    """`argv` under the isolation: `protected` mounted read-only, each of `hidden` replaced by an
    empty read-only folder or by `empty` (an empty file of the sandbox's own, mounted read-only:
    never a device such as /dev/null, whose mode a root process inside could change for the host)."""
    if not isolation.prefix:
        return list(argv)
    if not isolation.mounts:
        return [*isolation.prefix, "--", *argv]
    mount = shutil.which("mount") or "mount"
    script = _PROTECT_SCRIPT.format(mount=mount)
    hidden = hidden or []
    shell = ["/bin/sh", "-c", script, "sh", str(len(protected)), *protected, empty, str(len(hidden)), *hidden]
    return [*isolation.prefix, "--", *shell, *argv]
