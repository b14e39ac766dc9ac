"""The quote index: every extracted quote in a Chroma collection of its own beside the
chunks (``<collection>-quotes``), embedded or on a server alike.

One record an article (a record a quote made ingest 1.5x slower: Chroma writes are the
cost): its quotes as a JSON document, the article's facts, and ``keys``, the lowercase
names a reader may ask each speaker by (full name, surname, descriptors, organisation), so
a lookup by speaker is one metadata filter and a filter of the article's quotes. The store
writes an article's quotes with its chunks and deletes them with it (``rag.store``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.articles import same_outlet
from rag.quotes.extract import Quote

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from rag.types import Article

SUFFIX = "-quotes"
PAGE = 5000
_DUMMY = np.zeros((1, 1), dtype=np.float32)  # quotes are found by speaker, not by vector
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.I)


@dataclass
class StoredQuote:
    """A quote as the index returns it: the quote and the article it is from."""

    quote: Quote
    title: str = ""
    source: str = ""
    published: str | None = None
    url: str = ""
    keys: list[str] = field(default_factory=list)
    context: str = ""  # the article text from context_start to context_end

    def to_dict(self) -> dict[str, Any]:
        """The ``rag quotes --json`` shape."""
        q = self.quote
        return {
            "speaker": q.speaker,
            "descriptors": q.descriptors,
            "organisation": q.organisation,
            "text": q.text,
            "kind": q.kind,
            "cue": q.cue,
            "article_id": q.article_id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "url": self.url,
            "start": q.start,
            "end": q.end,
        }


def key(text: str) -> str:
    """How a speaker name is compared: lowercase, no leading article or possessive."""
    text = " ".join(text.lower().replace("’", "'").split())
    text = _LEADING.sub("", text)
    return re.sub(r"'s?$", "", text).strip(" ,.")


def speaker_keys(quote: Quote) -> list[str]:
    """Every name a reader may look this quote's speaker up by."""
    keys = {key(quote.speaker)}
    words = quote.speaker.split()
    if len(words) > 1:
        keys.add(key(words[-1]))  # the surname
    for descriptor in quote.descriptors:
        keys.add(key(descriptor))
    if quote.organisation:
        keys.add(key(quote.organisation))
    return sorted(k for k in keys if k)


def collection_name(chunks: str) -> str:
    """The quote collection that goes with a chunk collection."""
    return f"{chunks}{SUFFIX}"


class QuoteIndex:
    """rag's view of a quote collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def write(self, articles: Sequence[tuple[dict[str, Any], Article, list[Quote]]]) -> None:
        """Write the quotes of these articles, one record an article, each with the article
        metadata the store writes with its chunks (a record left by an interrupted write is
        overwritten; a replaced article's record went with its chunks)."""
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        for base, article, quotes in articles:
            if not quotes:
                continue
            rows = [_row(article, q) for q in quotes]
            ids.append(f"{article.article_id}#quotes")
            docs.append(json.dumps(rows, ensure_ascii=False))
            metas.append(_metadata(base, article, sorted({k for r in rows for k in r["keys"]})))
        for i in range(0, len(ids), PAGE):
            batch = slice(i, i + PAGE)
            self.collection.upsert(
                ids=ids[batch],
                documents=docs[batch],
                metadatas=metas[batch],  # type: ignore[arg-type]
                embeddings=np.repeat(_DUMMY, len(ids[batch]), axis=0),
            )

    def delete(self, article_ids: Sequence[str]) -> None:
        """Remove the quotes of these articles."""
        for i in range(0, len(article_ids), 500):
            where: Any = {"article_id": {"$in": list(article_ids[i : i + 500])}}
            self.collection.delete(where=where)

    def count(self) -> int:
        """Number of articles with quotes."""
        return int(self.collection.count())

    def find(
        self,
        speaker: str | None = None,
        *,
        article_id: str | None = None,
        since: date | None = None,
        until: date | None = None,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[StoredQuote]:
        """Quotes by a speaker (any of its keys) and/or from one article, in article order,
        newest articles first; the quotes of at most ``limit`` articles are read (in store
        order)."""
        clauses: list[dict[str, Any]] = []
        if speaker:
            clauses.append({"keys": {"$contains": key(speaker)}})
        if article_id:
            clauses.append({"article_id": article_id})
        if since:
            clauses.append({"published_int": {"$gte": _day(since)}})
        if until:
            clauses.append({"published_int": {"$lte": _day(until)}})
            clauses.append({"published_int": {"$gt": 0}})
        where: Any = None
        if clauses:
            where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        wanted = key(speaker) if speaker else None
        found = [
            q
            for q in self._get(where, limit)
            if (wanted is None or wanted in q.keys)
            and (not source or same_outlet(source, q.source))
        ]
        return sorted(
            found,
            key=lambda q: (q.published or "", q.quote.article_id, -q.quote.start),
            reverse=True,
        )

    def _get(self, where: Any, limit: int | None) -> Iterator[StoredQuote]:
        offset = 0
        page = min(PAGE, limit) if limit else PAGE
        while True:
            got = self.collection.get(
                where=where,
                include=["metadatas", "documents"],
                limit=page,
                offset=offset,
            )
            if not got["ids"]:
                return
            for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
                for row in json.loads(doc or "[]"):
                    yield stored_quote(row, dict(meta))
            offset += len(got["ids"])
            if len(got["ids"]) < page or (limit and offset >= limit):
                return


def _day(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _metadata(base: dict[str, Any], article: Article, keys: list[str]) -> dict[str, Any]:
    """An article's quote record: the article facts the store keeps (``base``) and the keys
    of every speaker quoted in it."""
    return {
        "article_id": article.article_id,
        "title": article.title,
        "source": article.source,
        "source_key": base.get("source_key", ""),
        "published": article.published or "",
        "published_int": base.get("published_int", 0),
        "url": article.url,
        "keys": keys,
    }


def _row(article: Article, q: Quote) -> dict[str, Any]:
    """One quote of an article's record: the quote, its speaker's keys and its sentence."""
    row = q.to_dict()
    row["keys"] = speaker_keys(q)
    row["context"] = article.text[q.context_start : q.context_end]
    return row


def stored_quote(row: dict[str, Any], meta: dict[str, Any]) -> StoredQuote:
    """A StoredQuote from one quote of an article's record and the record's metadata."""
    fields = {f: row[f] for f in Quote.__dataclass_fields__ if f in row}
    return StoredQuote(
        quote=Quote(**fields),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published") or "") or None,
        url=str(meta.get("url", "")),
        keys=list(row.get("keys") or []),
        context=str(row.get("context", "")),
    )
