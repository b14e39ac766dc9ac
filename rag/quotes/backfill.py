"""Quotes for a store written before the quote index existed.

A store made by an older version has chunks and no quote collection; the first ``rag
ingest`` after the upgrade creates the collection marked for backfill, and ``catch_up``
(called by ingest under the write lock) extracts the quotes of every stored article that
has none yet, from the article's text as the store puts it together from its chunks (so
offsets slice what ``rag show`` prints). A collection whose quotes were extracted under
older rules (``RULES_VERSION``) has every stored article's quotes extracted again. A
collection from before speaker key records gets them filled in from its article records.
All are idempotent: an interrupted catch-up starts again on the next ingest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from rag.quotes.extract import quotes_or_fault
from rag.types import Article

if TYPE_CHECKING:
    from rag.store import ChunkStore

BATCH = 200


@dataclass
class CatchUp:
    """What ``catch_up`` did: articles whose quotes were extracted, articles filed under
    speaker keys, articles whose quotes could not be read (recorded as having none): id ->
    why."""

    extracted: int = 0
    keyed: int = 0
    failed: dict[str, str] = field(default_factory=dict)


def catch_up(store: ChunkStore) -> CatchUp:
    """Bring the store's quote index up to its chunks (see the module docstring)."""
    done = CatchUp()
    index = store.quotes
    if index is None:
        return done
    stale = not index.rules_current  # extracted under older rules: every article again
    if index.needs_backfill or stale:
        have = index.article_ids()
        stored = sorted(a.article_id for a in store.articles())
        missing = stored if stale else [a for a in stored if a not in have]
        for i in range(0, len(missing), BATCH):
            ids = missing[i : i + BATCH]
            if stale:
                store.call(partial(index.delete, [a for a in ids if a in have]))
            batch = []
            for article_id, text, meta in store.article_texts(ids):
                article = Article(
                    article_id,
                    str(meta.get("title", "")),
                    text,
                    source=str(meta.get("source", "")),
                    published=str(meta.get("published") or "") or None,
                    url=str(meta.get("url", "")),
                )
                quotes, fault = quotes_or_fault(article_id, text)
                if fault:
                    done.failed[article_id] = fault
                batch.append((article, quotes))
            store.call(partial(index.write, batch))
            done.extracted += len(batch)
        store.call(index.backfilled)
    if not index.has_keys:
        done.keyed = store.call(index.build_keys)
    return done
