"""A data dir on a read-only mount (issue 16): reading commands work, writing ones fail in
one line.

Three tests, because root ignores file modes and CI runs as root:
- the real thing: the store is made read-only with ``chmod -R a-w`` and the CLI runs in a
  subprocess that file modes bind (as root: without CAP_DAC_OVERRIDE); it is skipped only
  where root cannot drop that capability (not Linux);
- the write refusal when the file system refuses the lock file (``EROFS`` raised by a patched
  ``open``): proves the error path, not that a mount is detected;
- a store Chroma cannot open for writing (it raises SQLite's "attempt to write a readonly
  database", as on a read-only mount): proves the snapshot fallback reads it.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.cli import app

RAG = Path(sys.executable).with_name("rag")
runner = CliRunner()
PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, capability.h


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def shared_store(seed_path: Path) -> Iterator[Path]:
    """A store other users can read (a private tmp_path is not traversable by nobody)."""
    root = Path(tempfile.mkdtemp(prefix="rag-ro-test-"))
    os.chmod(root, 0o755)
    data = root / "data"
    result = runner.invoke(
        app, ["ingest", str(seed_path.parent), "--data-dir", str(data), "--embedding", "hash"]
    )
    assert result.exit_code == 0, result.output
    try:
        yield data
    finally:
        for path in [root, *root.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
        shutil.rmtree(root)


def _unprivileged() -> None:
    """Root without the capabilities that let it ignore file modes (the bounding set is
    what root's capabilities come from after exec); anyone else as they are."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "cannot drop root's file-mode capabilities")


def _run_unprivileged(*command: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "RAG_MODELS_DIR": str(home / "models"),
        "RAG_EMBEDDING": "hash",
        "RAG_CONFIG": str(home / "no-config.toml"),
        "TMPDIR": str(home),
    }
    return subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        preexec_fn=_unprivileged,
    )


def test_a_read_only_store_is_read_and_refuses_writes(shared_store: Path, seed_path: Path) -> None:
    home = Path(tempfile.mkdtemp(prefix="rag-ro-home-"))
    os.chmod(home, 0o777)
    try:
        before = _digest(shared_store)
        subprocess.run(["chmod", "-R", "a-w", str(shared_store)], check=True)
        write = f"open({str(shared_store / 'probe')!r}, 'w')"
        try:
            probe = _run_unprivileged(sys.executable, "-c", write, home=home)
        except (OSError, subprocess.SubprocessError) as exc:
            pytest.skip(f"cannot run a process that file modes bind here: {exc}")
        if probe.returncode == 0:
            pytest.skip("a process here writes to a folder without write permission")
        assert "Permission denied" in probe.stderr
        data = ["--data-dir", str(shared_store)]

        listed = _run_unprivileged(str(RAG), "list", *data, home=home)
        assert listed.returncode == 0, listed.stderr
        article_id = listed.stdout.splitlines()[1].split()[0]
        assert "Erdogan" in listed.stdout
        for args in (["stats"], ["show", article_id], ["ask", "What did the Kremlin say?"]):
            done = _run_unprivileged(str(RAG), *args, *data, home=home)
            assert done.returncode == 0, (args, done.stderr)
            assert done.stdout.strip(), args
        assert "Peskov" in done.stdout  # the answer, with its sources

        for args in (["ingest", str(seed_path.parent)], ["ingest", str(seed_path), "--force"]):
            refused = _run_unprivileged(str(RAG), *args, *data, home=home)
            assert refused.returncode == 1, args
            assert refused.stderr.count("\n") == 1, refused.stderr
            assert "cannot write to the data dir" in refused.stderr
        refused = _run_unprivileged(str(RAG), "remove", article_id, *data, home=home)
        assert refused.returncode == 1
        assert refused.stderr.startswith("error: cannot write to the data dir")
        assert refused.stderr.count("\n") == 1, refused.stderr
        assert _digest(shared_store) == before
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_writes_fail_in_one_line_when_the_file_system_refuses_them(
    seed_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.ingest

    assert runner.invoke(app, ["ingest", str(seed_path.parent)]).exit_code == 0
    real_open = open

    def read_only_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if any(c in mode for c in "wax+"):
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(rag.ingest, "open", read_only_open, raising=False)
    for args in (["ingest", str(seed_path.parent), "--force"], ["remove", "any-id"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, args
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert result.stderr.startswith("error: cannot write to the data dir")
        assert "read-only file system" in result.stderr
        assert result.stderr.count("\n") == 1, result.stderr


def test_a_store_chroma_cannot_write_is_read_from_a_snapshot(
    seed_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb

    assert runner.invoke(app, ["ingest", str(seed_path.parent)]).exit_code == 0
    store_dir = isolated_env / "chroma"
    before = _digest(store_dir)
    real = chromadb.PersistentClient
    opened: list[str] = []

    def refusing(path: str, **kwargs: Any) -> Any:
        opened.append(path)
        if Path(path) == store_dir:
            raise RuntimeError("(code: 8) attempt to write a readonly database")
        return real(path=path, **kwargs)

    monkeypatch.setattr(chromadb, "PersistentClient", refusing)
    listed = runner.invoke(app, ["list"])
    assert listed.exit_code == 0, listed.output
    assert "Erdogan" in listed.stdout
    asked = runner.invoke(app, ["ask", "What did the Kremlin say?"])
    assert asked.exit_code == 0, asked.output
    assert "Peskov" in asked.stdout
    assert any(Path(p) != store_dir for p in opened)  # a snapshot was read
    removed = runner.invoke(app, ["remove", "any-id"])
    assert removed.exit_code == 1
    assert removed.stderr.startswith("error: cannot write to the data dir"), removed.stderr
    assert _digest(store_dir) == before
