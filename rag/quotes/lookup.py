"""Looking quotes up in the store: what ``rag quotes`` lists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.quotes.index import StoredQuote

if TYPE_CHECKING:
    from rag.retrieve import Filters
    from rag.settings import Settings


def find_quotes(
    settings: Settings,
    speaker: str | None = None,
    *,
    article_id: str | None = None,
    filters: Filters | None = None,
) -> list[StoredQuote]:
    """The stored quotes of a speaker (full name, surname, descriptor or organisation,
    any case) and/or of one article, within the filters; newest articles first."""
    from rag.store import ChunkStore

    store = ChunkStore.open(settings)
    index = store.quote_index()
    return store.call(
        lambda: index.find(
            speaker,
            article_id=article_id,
            since=filters.since if filters else None,
            until=filters.until if filters else None,
            source=filters.source if filters else None,
        )
    )
