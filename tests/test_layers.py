"""The shape of the package: the library never draws on the terminal."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import rag

TERMINAL = ("rich", "prompt_toolkit")
DRAWS = ("rag.cli",)


def library_modules() -> list[str]:
    """Every module of rag outside the terminal side."""
    names = [m.name for m in pkgutil.walk_packages(rag.__path__, "rag.")]
    return sorted(n for n in names if not n.startswith(DRAWS))


def test_the_library_never_loads_rich_or_prompt_toolkit() -> None:
    modules = library_modules()
    assert {"rag.engine", "rag.chat", "rag.store", "rag.settings"} <= set(modules)
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(TERMINAL)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_terminal_side_does_load_them() -> None:
    """The check above can see rich being loaded."""
    script = "import sys, rag.cli.chatview; print('rich' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "True", done.stderr
