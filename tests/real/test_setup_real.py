"""What the README's set-up leaves on the machine: every tier of the default plan usable. CI runs
this with empty user folders (.ci/run), so a model that only a developer's cache holds fails here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swarm_lsp.swarm import models
from swarm_lsp.swarm.tiers import LOCAL_DEFAULT_TIERS

pytestmark = pytest.mark.real


def test_doctor_shows_every_default_tier_usable(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OLLAMA_"))}
    done = subprocess.run([sys.executable, "-m", "swarm_lsp.server.cli", "doctor", "--json"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    report = json.loads(done.stdout)
    assert report["tiers"] == list(LOCAL_DEFAULT_TIERS)
    usable = {backend["backend"]: (backend["ok"], backend["assembled"]) for backend in report["backends"]}
    assert usable == {tier: (True, "verified") for tier in LOCAL_DEFAULT_TIERS}, done.stderr
    assert report["ok"] is True and done.returncode == 0


def test_every_embedded_model_is_assembled_in_the_models_folder():
    for model in models.MODELS.values():
        state = models.status(model)
        assert state.parts_installed == model.parts and state.verified_cached, state
