"""rag: ask questions of news articles and get answers with checkable citations.

The library works without the CLI::

    from rag import Settings, ask, ingest
    ingest(["seeds/"], Settings.load())
    answer = ask("What did the Kremlin say?")

Heavy dependencies load on first use, so ``import rag`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rag.errors import RagError
from rag.version import __version__

if TYPE_CHECKING:
    from rag.engine import ask
    from rag.ingest import ingest
    from rag.settings import Settings

__all__ = ["RagError", "Settings", "__version__", "ask", "ingest"]

_LAZY = {"ask": "rag.engine", "ingest": "rag.ingest", "Settings": "rag.settings"}


def __getattr__(name: str) -> Any:
    """Import the public API lazily."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
