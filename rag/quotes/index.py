"""The quote index: every extracted quote in a Chroma collection of its own beside the
chunks (``<collection>-quotes``), embedded or on a server alike.

One record an article (a record a quote made ingest 1.5x slower: Chroma writes are the
cost): its quotes as JSON, the article's facts, and ``keys``, the lowercase names a reader
may ask each speaker by (full name, surname, descriptors, organisation), so a lookup by
speaker is one metadata filter and a filter of the article's quotes. The store writes an
article's quotes with its chunks and deletes them with it (``rag.store``).

The JSON is a metadata value (``ROWS``; ``LINES`` in a key record), not the record's
document: Chroma indexes documents for full-text search, which cost more than the rest of
the quote writes together (BBC ingest, ``bench/quote_ingest.py``). Records written before
(JSON as the document) are read as well.

Beside the article records, key records say where each speaker's quotes are (article,
date, outlet, offsets, the quote's topic words), filed by speaker key in 64 shards: each
write adds the records of what it wrote (``key:<write>:<shard>``), a delete takes its
articles out of the records they were filed in. A question about a prolific speaker reads
its key's shard, ranks the entries and reads only the articles of the quotes it keeps
(reading the 300 articles of one speaker took 370 ms at 10,000 articles; see
``bench/quote_lookup.py``). Chroma charges a write per record more than per byte: one
record a speaker rewritten on every write, or 256 shards, made the quote writes of BBC
ingest cost twice what 64 shards do. A collection made before key records says so in its metadata
(``KEYS_FLAG``) and is read the slow way until ``build_keys`` (run by ``rag ingest``)
files them.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from rag.articles import date_number, outlet_key, same_outlet
from rag.quotes.model import RULES_VERSION, Quote
from rag.text import STOPWORDS

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from rag.types import Article

SUFFIX = "-quotes"
PAGE = 5000
KEY_PREFIX = "key:"  # ids of the speaker key records
SHARDS = 64  # speaker keys are filed in this many shards (records a write adds)
KEYS_FLAG = "rag_quote_keys"  # collection metadata: the key records are kept
BACKFILL_FLAG = "rag_quote_backfill"  # collection metadata: stored articles lack quotes
RULES_FLAG = "rag_quote_rules"  # collection metadata: the RULES_VERSION its quotes are of
ROWS = "quotes"  # metadata of an article record: its quotes as JSON
LINES = "lines"  # metadata of a key record: its lines
_STEM = 5
_DUMMY = np.zeros((1, 1), dtype=np.float32)  # quotes are found by speaker, not by vector
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.I)
_TERM = re.compile(r"[\w'’-]+")


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


def terms(text: str) -> set[str]:
    """The topic words of a text as quote answers compare them: content words, cut to their
    first five letters."""
    return {w[:_STEM] for w in _TERM.findall(text.lower()) if w not in STOPWORDS and len(w) > 2}


class QuoteRef(NamedTuple):
    """Where one of a speaker's quotes is, from the speaker's key record (a tuple: a
    prolific speaker has thousands)."""

    article_id: str
    published: int
    source: str
    start: int
    end: int
    words: str  # the quote's topic words (``terms``), space-separated

    def overlap(self, wanted: set[str]) -> int:
        """How many of these topic words the quote has."""
        padded = f" {self.words} "
        return sum(f" {w} " in padded for w in wanted)


def shard(speaker_key: str) -> int:
    """The shard of key records a speaker key is filed in."""
    return zlib.crc32(speaker_key.encode("utf-8")) % SHARDS


@lru_cache(maxsize=16384)
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


@dataclass
class QuoteRecord:
    """An article's record as the index writes it (its quotes as JSON in the metadata) and
    the entries its speakers' keys file (speaker key -> [published, source, refs])."""

    article_id: str
    metadata: dict[str, Any]
    entry: dict[str, list[Any]]


def quote_record(article: Article, quotes: list[Quote]) -> QuoteRecord | None:
    """The record of an article's quotes (None without quotes)."""
    if not quotes:
        return None
    rows = [_row(article, q) for q in quotes]
    meta = _metadata(article, sorted({k for r in rows for k in r["keys"]}))
    entry = _entry_of_rows(meta, rows)
    meta[ROWS] = json.dumps(rows, ensure_ascii=False)
    return QuoteRecord(article.article_id, meta, entry)


def collection_name(chunks: str) -> str:
    """The quote collection that goes with a chunk collection."""
    return f"{chunks}{SUFFIX}"


class QuoteIndex:
    """rag's view of a quote collection."""

    def __init__(self, collection: Collection) -> None:
        self.collection = collection

    def write(self, articles: Sequence[tuple[Article, list[Quote]]]) -> None:
        """Write the quotes of these articles (``write_records``)."""
        found = (quote_record(article, quotes) for article, quotes in articles)
        self.write_records([r for r in found if r is not None])

    def write_records(self, records: Sequence[QuoteRecord]) -> None:
        """Write these article records, one an article with quotes (a record left by an
        interrupted write is overwritten; a replaced article's record went with its
        chunks), and file their quotes under their speakers' keys."""
        batch = uuid.uuid4().hex[:12]
        self._upsert(
            [f"{r.article_id}#quotes" for r in records],
            [{**r.metadata, "key_batch": batch} for r in records],
        )
        if self.has_keys:
            self._file_keys(batch, {r.article_id: r.entry for r in records})

    def _upsert(self, ids: list[str], metas: list[dict[str, Any]]) -> None:
        for i in range(0, len(ids), PAGE):
            batch = slice(i, i + PAGE)
            self.collection.upsert(
                ids=ids[batch],
                metadatas=metas[batch],  # type: ignore[arg-type]
                embeddings=np.repeat(_DUMMY, len(ids[batch]), axis=0),
            )

    def delete(self, article_ids: Sequence[str]) -> None:
        """Remove the quotes of these articles (from the key records first)."""
        if self.has_keys:
            self._unfile_keys(article_ids)
        for i in range(0, len(article_ids), 500):
            where: Any = {"article_id": {"$in": list(article_ids[i : i + 500])}}
            self.collection.delete(where=where)

    # -- speaker key records ---------------------------------------------------------------

    @property
    def has_keys(self) -> bool:
        """Whether this collection keeps speaker key records (made or filled in by a
        version that writes them)."""
        return bool((self.collection.metadata or {}).get(KEYS_FLAG))

    def _file_keys(self, batch: str, entries: dict[str, dict[str, list[Any]]]) -> None:
        """File one write's entries (article -> speaker key -> refs) as records of their
        own, one a shard of keys (``key:<batch>:<shard>``): a write adds records the size of
        what it wrote instead of rewriting the records of every speaker it touches."""
        shards: dict[int, dict[str, dict[str, list[Any]]]] = {}
        for article_id, entry in entries.items():
            for k, refs in entry.items():
                shards.setdefault(shard(k), {}).setdefault(k, {})[article_id] = refs
        order = sorted(shards)
        self._upsert(
            [f"{KEY_PREFIX}{batch}:{n}" for n in order],
            [{"key_shard": n, "key_batch": batch, LINES: _key_lines(shards[n])} for n in order],
        )

    def _unfile_keys(self, article_ids: Sequence[str]) -> None:
        """Take these articles out of the key records their writes filed them in."""
        touched: dict[str, set[str]] = {}  # key record id -> articles to take out
        ids = [f"{a}#quotes" for a in article_ids]
        for i in range(0, len(ids), PAGE):
            got = self.collection.get(ids=ids[i : i + PAGE], include=["metadatas"])
            for meta in got["metadatas"] or []:
                batch = str(meta.get("key_batch") or "")
                for k in meta.get("keys") or []:  # type: ignore[union-attr]
                    record = f"{KEY_PREFIX}{batch}:{shard(str(k))}"
                    touched.setdefault(record, set()).add(str(meta["article_id"]))
        if not touched:
            return
        records = sorted(touched)
        kept_ids: list[str] = []
        kept_metas: list[dict[str, Any]] = []
        empty: list[str] = []
        for i in range(0, len(records), PAGE):
            got = self.collection.get(ids=records[i : i + PAGE], include=["documents", "metadatas"])
            for rid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            ):
                filed = _parse_key_lines(_stored(meta, LINES, doc))
                for k in list(filed):
                    for article_id in touched[rid]:
                        filed[k].pop(article_id, None)
                    if not filed[k]:
                        del filed[k]
                if filed:
                    kept_ids.append(rid)
                    kept_metas.append({**meta, LINES: _key_lines(filed)})
                else:
                    empty.append(rid)
        self._upsert(kept_ids, kept_metas)
        for i in range(0, len(empty), PAGE):
            self.collection.delete(ids=empty[i : i + PAGE])

    @property
    def needs_backfill(self) -> bool:
        """Whether articles stored before this collection was made still lack quotes."""
        return bool((self.collection.metadata or {}).get(BACKFILL_FLAG))

    @property
    def rules_current(self) -> bool:
        """Whether its quotes were extracted under today's rules (``RULES_VERSION``)."""
        return (self.collection.metadata or {}).get(RULES_FLAG) == RULES_VERSION

    def backfilled(self) -> None:
        """Record that every stored article has had its quotes extracted, under today's
        rules."""
        metadata = dict(self.collection.metadata or {})
        metadata.pop(BACKFILL_FLAG, None)
        metadata[RULES_FLAG] = RULES_VERSION
        metadata.pop("hnsw:space", None)
        self.collection.modify(metadata=metadata)

    def article_ids(self) -> set[str]:
        """Ids of the articles that have quotes here."""
        return {str(meta["article_id"]) for _, meta in self._records(None)}

    def build_keys(self) -> int:
        """Fill in the key records of a collection made before they were kept, from its
        article records; returns the number of articles read."""
        batch = uuid.uuid4().hex[:12]
        entries: dict[str, dict[str, list[Any]]] = {}
        ids: list[str] = []
        metas: list[dict[str, Any]] = []
        for doc, meta in self._records(None):
            rows = json.loads(doc)
            article_id = str(meta["article_id"])
            entries[article_id] = _entry_of_rows(meta, rows)
            ids.append(f"{article_id}#quotes")
            metas.append({**meta, "key_batch": batch})
        for i in range(0, len(ids), PAGE):
            self.collection.update(ids=ids[i : i + PAGE], metadatas=metas[i : i + PAGE])  # type: ignore[arg-type]
        self._file_keys(batch, entries)
        metadata = dict(self.collection.metadata or {})
        metadata[KEYS_FLAG] = 1
        self.collection.modify(metadata=metadata)
        return len(entries)

    def refs(
        self,
        speaker: str,
        *,
        since: date | None = None,
        until: date | None = None,
        source: str | None = None,
    ) -> list[QuoteRef] | None:
        """Where the speaker's quotes are, within the filters, newest first (as ``find``
        orders them); None when this collection keeps no key records."""
        if not self.has_keys:
            return None
        wanted = key(speaker)
        where: Any = {"key_shard": shard(wanted)}
        got = self.collection.get(where=where, include=["metadatas", "documents"])
        record: dict[str, list[Any]] = {}
        for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
            record.update(_key_line(_stored(meta, LINES, doc), wanted))
        low = _day(since) if since else None
        high = _day(until) if until else None
        refs = [
            QuoteRef(article_id, published, src, start, end, words)
            for article_id, (published, src, quotes) in record.items()
            if (low is None or published >= low)
            and (high is None or 0 < published <= high)
            and (not source or same_outlet(source, src))
            for start, end, words in quotes
        ]
        return sorted(refs, key=lambda r: (r.published, r.article_id, -r.start), reverse=True)

    def quotes_at(self, refs: Sequence[QuoteRef]) -> list[StoredQuote]:
        """The stored quotes these refs point at, in their order (refs whose article is gone
        or changed are dropped)."""
        wanted = {(r.article_id, r.start, r.end) for r in refs}
        ids = sorted({f"{r.article_id}#quotes" for r in refs})
        found: dict[tuple[str, int, int], StoredQuote] = {}
        for i in range(0, len(ids), PAGE):
            got = self.collection.get(ids=ids[i : i + PAGE], include=["metadatas", "documents"])
            for doc, meta in zip(got["documents"] or [], got["metadatas"] or [], strict=False):
                for row in json.loads(_stored(meta, ROWS, doc, "[]")):
                    where = (row["article_id"], row["start"], row["end"])
                    if where in wanted:
                        found[where] = stored_quote(row, dict(meta))
        return [
            found[(r.article_id, r.start, r.end)]
            for r in refs
            if (r.article_id, r.start, r.end) in found
        ]

    def count(self) -> int:
        """Number of articles with quotes (every article record has a ``published_int``, 0
        when undated; the key records have none)."""
        where: Any = {"published_int": {"$gte": 0}}
        return len(self.collection.get(where=where, include=[])["ids"])

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
        for doc, meta in self._records(where, limit):
            for row in json.loads(doc):
                yield stored_quote(row, dict(meta))

    def _records(
        self, where: Any, limit: int | None = None
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        """(quotes as JSON, metadata) of the article records (not the key records) matching
        ``where``, at most ``limit``."""
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
            for rid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            ):
                if not rid.startswith(KEY_PREFIX):
                    yield _stored(meta, ROWS, doc, "[]"), meta
            offset += len(got["ids"])
            if len(got["ids"]) < page or (limit and offset >= limit):
                return


def _stored(meta: Mapping[str, Any] | None, field: str, doc: str | None, empty: str = "") -> str:
    """A record's JSON or lines: in its metadata, or as its document when written by a
    version that kept them there."""
    value = (meta or {}).get(field)
    return str(value) if value is not None else (doc or empty)


def _day(d: date) -> int:
    return d.year * 10000 + d.month * 100 + d.day


def _metadata(article: Article, keys: list[str]) -> dict[str, Any]:
    """An article's quote record: the article facts the store keeps with its chunks and the
    keys of every speaker quoted in it."""
    return {
        "article_id": article.article_id,
        "title": article.title,
        "source": article.source,
        "source_key": outlet_key(article.source),
        "published": article.published or "",
        "published_int": date_number(article.published),
        "url": article.url,
        "keys": keys,
    }


def _row(article: Article, q: Quote) -> dict[str, Any]:
    """One quote of an article's record: the quote, its speaker's keys and its sentence."""
    row = q.to_dict()
    row["keys"] = speaker_keys(q)
    row["context"] = article.text[q.context_start : q.context_end]
    return row


def _key_lines(filed: dict[str, dict[str, Any]]) -> str:
    """A key record's document: a line a speaker key, the key, a tab, and its entries as JSON
    (a lookup parses only its key's line)."""
    return "\n".join(f"{k}\t{json.dumps(v, ensure_ascii=False)}" for k, v in sorted(filed.items()))


def _parse_key_lines(doc: str) -> dict[str, dict[str, Any]]:
    filed: dict[str, dict[str, Any]] = {}
    for line in doc.splitlines():
        k, _, entries = line.partition("\t")
        if entries:
            filed[k] = json.loads(entries)
    return filed


def _key_line(doc: str, wanted: str) -> dict[str, Any]:
    """The entries of one key in a key record's document ({} when it has none)."""
    needle = f"\n{wanted}\t"
    doc = f"\n{doc}"
    at = doc.find(needle)
    if at < 0:
        return {}
    end = doc.find("\n", at + len(needle))
    found: dict[str, Any] = json.loads(doc[at + len(needle) : end if end >= 0 else None])
    return found


def _entry_of_rows(meta: Mapping[str, Any], rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Speaker key -> [published_int, source, [[start, end, topic words], ...]] of one
    article's quote rows."""
    entry: dict[str, list[Any]] = {}
    published = int(meta.get("published_int") or 0)
    source = str(meta.get("source") or "")
    for row in rows:
        words = " ".join(sorted(terms(f"{row['text']} {row.get('context', '')}")))
        for k in row.get("keys") or []:
            entry.setdefault(k, [published, source, []])[2].append(
                [row["start"], row["end"], words]
            )
    return entry


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
