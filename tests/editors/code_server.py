"""A real VS Code (code-server) with the packaged extension installed, in headless Chromium.

scripts/setup-editors installs code-server into $SWARM_LSP_EDITORS_DIR and builds
editors/vscode/swarm-lsp.vsix; Debian's Chromium is driven through Playwright's Python API with
`executable_path`, so nothing downloads a browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tests.lsp.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
CODE_SERVER_VERSION = "4.100.3"
VSIX = REPO / "editors" / "vscode" / "swarm-lsp.vsix"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
SETUP_HINT = "run scripts/setup-editors (scripts/test does) to install code-server, Chromium and the .vsix"


def editors_dir() -> Path:
    configured = os.environ.get("SWARM_LSP_EDITORS_DIR")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(configured) if configured else cache / "swarm-lsp-editors"


def code_server_binary() -> Path:
    return editors_dir() / f"code-server-{CODE_SERVER_VERSION}" / "node_modules" / ".bin" / "code-server"


def missing_parts() -> list[str]:
    parts = {"code-server": code_server_binary(), "the packaged extension": VSIX, "Chromium": CHROMIUM}
    return [f"{name} ({path})" for name, path in parts.items() if not path.exists()]


class CodeServer:
    """One code-server with its own user-data and extensions folders under `home`."""

    def __init__(self, home: Path, settings: dict, env: dict | None = None) -> None:
        self.home, self.port = home, free_port()
        self.user_data, self.extensions = home / "user-data", home / "extensions"
        (self.user_data / "User").mkdir(parents=True, exist_ok=True)
        (self.user_data / "User" / "settings.json").write_text(json.dumps(settings, indent=2))
        self.log = home / "code-server.log"
        # code-server's own settings and state, and swarm-lsp's ledger, in `home`; the cache (where
        # the models are assembled) stays the user's, or CI's.
        self.env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data"),
                    "XDG_STATE_HOME": str(home / "state"),
                    "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")}
        self.env.update(env or {})

    def _command(self, *args: str) -> list[str]:
        return [str(code_server_binary()), "--user-data-dir", str(self.user_data),
                "--extensions-dir", str(self.extensions), *args]

    def install_extension(self, vsix: Path) -> str:
        done = subprocess.run(self._command("--install-extension", str(vsix)), env=self.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    @contextmanager
    def serving(self, folder: Path) -> Iterator[str]:
        with self.log.open("w") as log:
            process = subprocess.Popen(self._command(
                "--auth", "none", "--bind-addr", f"127.0.0.1:{self.port}", "--disable-telemetry",
                "--disable-update-check", "--disable-workspace-trust", "--disable-getting-started-override",
                str(folder)), env=self.env, stdout=log, stderr=subprocess.STDOUT)
            try:
                self._wait_until_up(process)
                yield f"http://127.0.0.1:{self.port}/?folder={folder}"
            finally:
                process.terminate()
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _wait_until_up(self, process: subprocess.Popen) -> None:
        for _ in range(600):  # hang guard: code-server answers /healthz within seconds
            if process.poll() is not None:
                raise AssertionError(f"code-server exited {process.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"code-server did not answer:\n{self.log.read_text()}")


def python_for_server() -> Path:
    return Path(sys.executable).parent / "swarm-lsp"
