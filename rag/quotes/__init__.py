"""Who said what: quotations extracted at ingest, attributed to speakers, and indexed.

``Quote`` and ``extract_quotes`` are loaded on first use: the extraction rules compile many
patterns, which reading the index or answering from it (a cold ``rag ask``) does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.quotes.extract import Quote, extract_quotes

__all__ = ["Quote", "extract_quotes"]


def __getattr__(name: str) -> Any:
    if name == "Quote":
        from rag.quotes.model import Quote

        return Quote
    if name == "extract_quotes":
        from rag.quotes.extract import extract_quotes

        return extract_quotes
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
