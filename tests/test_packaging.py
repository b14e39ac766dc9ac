"""`pip install .` ships every package under rag/ (setuptools lists them by hand)."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_package_under_rag_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "rag").rglob("__init__.py")
    }
    assert {"rag", "rag.eval"} <= found
    assert sorted(found - listed) == []
