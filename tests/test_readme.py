"""The README's examples run, and .ci/run uses the README's test command."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.DOTALL)


def _rag(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "rag"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _bash_blocks()[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_main_job_command_runs_as_written_after_install() -> None:
    main_job = _bash_blocks()[0].strip()
    _, _, tail = main_job.partition("pip install . && ")
    for step in tail.split(" && "):
        result = _rag(shlex.split(step)[1:], ROOT)
        assert result.returncode == 0, result.stderr
    assert "there is no interference" in _rag(["ask", "What did the Kremlin say?"], ROOT).stdout


def test_tour_commands_run() -> None:
    tour = README.split("## A short tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = [line[2:] for line in tour.splitlines() if line.startswith("$ rag ")]
    assert len(commands) >= 5
    for command in commands:
        result = _rag(shlex.split(command)[1:], ROOT)
        assert result.returncode == 0, (command, result.stderr)


def test_readme_names_every_command() -> None:
    for command in ("ingest", "ask", "chat", "eval", "list", "remove", "stats", "config"):
        assert f"rag {command}" in README
