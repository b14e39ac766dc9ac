"""The chunk store: a Chroma collection (embedded or server) with rag's own metadata.

Every chunk carries its article's facts, so Chroma is the single source of truth. All
chunks of an article are written in one ``add`` call, so an article is either complete
or absent. The collection's metadata records the embedding model that built it and a
revision token that changes on every write (the BM25 side index follows it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlparse

import numpy as np

from rag.articles import date_number, outlet_key
from rag.errors import EmbeddingMismatchError, StoreError
from rag.readonly import is_read_only_error, read_only_refusal, snapshot, writable
from rag.types import Article, Chunk, Passage

if TYPE_CHECKING:
    from pathlib import Path

    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from rag.quotes.index import QuoteIndex, QuoteRecord
    from rag.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

SCHEMA = 1
T = TypeVar("T")
PAGE = 2000
FIRST_CHUNK_PAGE = 20_000  # metadata only, one row an article


@dataclass
class ArticleInfo:
    """One stored article, as ``rag list`` shows it."""

    article_id: str
    title: str
    source: str
    published: str | None
    url: str
    path: str
    content_hash: str
    chunks: int
    section: str = ""  # the article's category or section, when its source gave one


SECTION_KEYS = ("x_category", "x_section", "x_categories")


@dataclass
class ShownArticle:
    """One stored article as it is searched: its metadata and its whole cleaned text."""

    article_id: str
    title: str
    source: str
    published: str | None
    url: str
    authors: list[str]
    path: str
    text: str
    chunks: int


@dataclass
class StoreStats:
    """What ``rag stats`` shows: counts, where the store is, and the model that built it."""

    collection: str
    store: str
    articles: int
    chunks: int
    embedding: str
    size_bytes: int | None  # the whole embedded store on disk; None for a Chroma server
    collections: int  # article collections sharing that store (the size is theirs together)


@dataclass
class StoredArticle:
    """An article's chunks with their embeddings, ready to write."""

    article: Article
    content_hash: str
    fingerprint: str
    chunks: list[Chunk]
    embeddings: np.ndarray
    tokens: list[list[str]] = field(default_factory=list)  # BM25 tokens per chunk
    quotes: QuoteRecord | None = None  # None: the article has no quotes


def _client(settings: Settings, *, write: bool = True) -> tuple[ClientAPI, bool]:
    """A Chroma client, and whether it reads a snapshot of a read-only store (only when
    not ``write``: see ``rag.readonly``)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    try:
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if url.scheme not in {"http", "https"} or not url.hostname:
                raise StoreError(f"bad Chroma URL {settings.chroma_url!r} (use http://host:port)")
            headers = (
                {"Authorization": f"Bearer {settings.chroma_token}"}
                if settings.chroma_token
                else None
            )
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=headers,
                settings=chroma_settings,
            )
            return client, False
        folder = settings.store_dir
        if write:
            folder.mkdir(parents=True, exist_ok=True)
        elif not writable(folder):
            folder = snapshot(folder)
        try:
            return chromadb.PersistentClient(path=str(folder), settings=chroma_settings), (
                folder != settings.store_dir
            )
        except Exception as exc:
            if write or folder != settings.store_dir or not is_read_only_error(exc):
                raise
            # os.access said yes, the file system said no (a mount made read-only later)
            snapped = snapshot(folder)
            return chromadb.PersistentClient(path=str(snapped), settings=chroma_settings), True
    except StoreError:
        raise
    except Exception as exc:
        if write and is_read_only_error(exc):
            raise read_only_refusal(settings.data_dir, exc) from exc
        raise StoreError(f"cannot open the Chroma store at {describe(settings)}: {exc}") from exc


def require_store(settings: Settings) -> None:
    """Refuse, without creating anything, an embedded store that does not exist (a typo)."""
    if not settings.server_mode and not settings.store_dir.is_dir():
        raise StoreError(
            f"no articles yet: nothing is stored at {settings.store_dir} (check --data-dir, "
            "or run 'rag ingest PATH' first)"
        )


def folder_size(folder: Path) -> int:
    """Bytes in the files under a folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _quote_index(
    client: ClientAPI, settings: Settings, chunks: Collection, create: bool
) -> QuoteIndex | None:
    """The quote collection beside the chunks: created with them, None when an older store
    has none (and is not being written)."""
    from rag.quotes.index import BACKFILL_FLAG, KEYS_FLAG, RULES_FLAG, QuoteIndex, collection_name
    from rag.quotes.model import RULES_VERSION

    name = collection_name(settings.collection)
    try:
        return QuoteIndex(client.get_collection(name, embedding_function=None))
    except Exception as exc:
        if "does not exist" not in str(exc).lower():
            raise StoreError(f"cannot open the quote index at {describe(settings)}: {exc}") from exc
        if not create:
            return None
    # a new collection keeps speaker key records; beside chunks written before quotes were
    # indexed it is marked for backfill (``rag.quotes.backfill``)
    metadata: dict[str, Any] = {"rag_schema": SCHEMA, KEYS_FLAG: 1, RULES_FLAG: RULES_VERSION}
    if chunks.count():
        metadata[BACKFILL_FLAG] = 1
    try:
        return QuoteIndex(
            client.get_or_create_collection(name, metadata=metadata, embedding_function=None)
        )
    except Exception as exc:
        raise StoreError(f"cannot open the quote index at {describe(settings)}: {exc}") from exc


def _joined(pieces: Iterable[tuple[int, str]]) -> str:
    """An article's text from its chunks' (start, text)."""
    out: list[str] = []
    length = 0
    for start, text in sorted(pieces):
        if start > length:
            # cleaned text never holds two spaces, so a two-character gap was a
            # paragraph break; a one-character gap is taken for a space
            out.append("\n\n" if start - length == 2 else " " * (start - length))
            length = start
        if start + len(text) > length:
            out.append(text[length - start :])
            length = start + len(text)
    return "".join(out)


def describe(settings: Settings) -> str:
    """Where the store is, for messages."""
    return settings.chroma_url or str(settings.store_dir)


class ChunkStore:
    """rag's view of one Chroma collection."""

    def __init__(
        self,
        settings: Settings,
        client: ClientAPI,
        collection: Collection,
        quotes: QuoteIndex | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        self.settings = settings
        self.client = client
        self.collection = collection
        self.quotes = quotes  # None for a store written before quotes were indexed
        self.read_only = read_only  # a snapshot of a store on a read-only mount

    @classmethod
    def open(
        cls,
        settings: Settings,
        embedding_name: str | None = None,
        *,
        create: bool = False,
        write: bool = False,
    ) -> ChunkStore:
        """Open the collection; create it when asked; refuse a different embedding model.

        Without ``create`` nothing is written: a data dir that does not exist (a typo) is
        reported, not made. Without ``create`` or ``write``, a store on a read-only mount is
        read from a snapshot (``rag.readonly``) and refuses writes."""
        if not create:
            require_store(settings)
        client, read_only = _client(settings, write=create or write)
        try:
            if create:
                collection = client.get_or_create_collection(
                    settings.collection,
                    metadata={
                        "rag_embedding": embedding_name or "",
                        "rag_schema": SCHEMA,
                        "rag_revision": uuid.uuid4().hex,
                    },
                    configuration={"hnsw": {"space": "cosine"}},
                    embedding_function=None,
                )
            else:
                collection = client.get_collection(settings.collection, embedding_function=None)
        except Exception as exc:
            if not create and "does not exist" in str(exc).lower():
                raise StoreError(
                    f"no articles yet in collection {settings.collection!r} at "
                    f"{describe(settings)}: run 'rag ingest PATH' first"
                ) from exc
            raise StoreError(f"cannot open collection at {describe(settings)}: {exc}") from exc
        quotes = _quote_index(client, settings, collection, create)
        store = cls(settings, client, collection, quotes, read_only=read_only)
        if embedding_name:
            store.check_embedding(embedding_name)
        return store

    def quote_index(self) -> QuoteIndex:
        """The quotes of this collection; an error when it has none yet."""
        if self.quotes is None:
            raise StoreError(
                f"collection {self.settings.collection!r} has no quote index yet: the next "
                "'rag ingest PATH' extracts the quotes of the articles it holds"
            )
        return self.quotes

    @property
    def embedding_name(self) -> str:
        """The embedding model that built this collection."""
        return str((self.collection.metadata or {}).get("rag_embedding", ""))

    def check_embedding(self, name: str) -> None:
        """Refuse to mix embedding models in one collection."""
        built = self.embedding_name
        if built and built != name:
            raise EmbeddingMismatchError(
                f"collection {self.settings.collection!r} was built with embedding {built!r}, "
                f"not {name!r}: use --embedding {built.split(':')[0]} or another --collection"
            )

    def _fresh_metadata(self) -> dict[str, Any]:
        fresh = self._call(
            lambda: self.client.get_collection(self.settings.collection, embedding_function=None)
        )
        return dict(fresh.metadata or {})

    def revision(self) -> str:
        """The token that changes on every write (read fresh from the store)."""
        return str(self._fresh_metadata().get("rag_revision", ""))

    def bump_revision(self) -> str:
        """Mark the collection as changed (before and after every write)."""
        self._writable()
        meta = self._fresh_metadata()
        meta["rag_revision"] = uuid.uuid4().hex
        self._call(lambda: self.collection.modify(metadata=meta))
        return str(meta["rag_revision"])

    def count(self) -> int:
        """Number of chunks."""
        return int(self._call(self.collection.count))

    def existing(self, article_ids: Sequence[str]) -> dict[str, str]:
        """article_id -> fingerprint for the given ids already stored."""
        return {
            str(meta["article_id"]): str(meta.get("fingerprint", ""))
            for meta in self._first_chunks("article_id", article_ids)
        }

    def by_hash(self, hashes: Sequence[str]) -> dict[str, str]:
        """content hash -> article_id for stored articles with these hashes."""
        return {
            str(meta["content_hash"]): str(meta["article_id"])
            for meta in self._first_chunks("content_hash", hashes)
        }

    def by_path(self, paths: Sequence[str]) -> list[tuple[str, str]]:
        """(path, article_id) of the stored articles read from these paths."""
        return [
            (str(meta["path"]), str(meta["article_id"]))
            for meta in self._first_chunks("path", paths)
        ]

    def _first_chunks(self, field: str, values: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        """Metadata of each stored article's first chunk whose ``field`` is one of ``values``,
        queried 500 values at a time."""
        for i in range(0, len(values), 500):
            where: Any = {"$and": [{field: {"$in": list(values[i : i + 500])}}, {"chunk_index": 0}]}
            got = self._call(lambda w=where: self.collection.get(where=w, include=["metadatas"]))
            yield from got["metadatas"] or []

    def write(self, items: Sequence[StoredArticle]) -> None:
        """Add articles; each ``add`` call holds whole articles only."""
        self._writable()
        ids: list[str] = []
        docs: list[str] = []
        metas: list[dict[str, Any]] = []
        vectors: list[np.ndarray] = []
        if self.quotes is not None:
            # quotes first: an interrupted write leaves extra quotes, never missing ones
            # (written again under the same ids when the article is); a replaced article's
            # old quotes went with its chunks (``delete``)
            quotes = self.quotes
            written = [i.quotes for i in items if i.quotes is not None]
            self._call(lambda: quotes.write_records(written))
        limit = min(self._max_batch(), 5000)
        for item in items:
            if ids and len(ids) + len(item.chunks) > limit:
                self._add(ids, docs, metas, vectors)
                ids, docs, metas, vectors = [], [], [], []
            base = article_metadata(item.article, item.content_hash, len(item.chunks))
            base["fingerprint"] = item.fingerprint
            for chunk in item.chunks:
                ids.append(chunk.chunk_id)
                docs.append(chunk.text)
                metas.append(
                    {**base, "chunk_index": chunk.index, "start": chunk.start, "end": chunk.end}
                )
            vectors.append(item.embeddings)
        if ids:
            self._add(ids, docs, metas, vectors)

    def _add(
        self,
        ids: list[str],
        docs: list[str],
        metas: list[dict[str, Any]],
        vectors: list[np.ndarray],
    ) -> None:
        embeddings = np.concatenate(vectors).astype(np.float32)
        self._call(
            lambda: self.collection.add(
                ids=ids,
                documents=docs,
                metadatas=metas,  # type: ignore[arg-type]
                embeddings=embeddings,
            )
        )

    def max_chunks_per_write(self) -> int:
        """The most chunks one write takes: the longest article that can be stored whole."""
        return self._max_batch()

    def _max_batch(self) -> int:
        try:
            return int(self.client.get_max_batch_size())
        except Exception:
            return 1000

    def delete(self, article_ids: Sequence[str]) -> None:
        """Remove all chunks of these articles, then their quotes."""
        self._writable()
        for i in range(0, len(article_ids), 500):
            batch = list(article_ids[i : i + 500])
            where: Any = {"article_id": {"$in": batch}}
            self._call(lambda w=where: self.collection.delete(where=w))
        if self.quotes is not None:
            quotes = self.quotes
            self._call(lambda: quotes.delete(list(article_ids)))

    def article_text(self, article_id: str) -> str:
        """An article's cleaned text, put back together from its chunks (chunk offsets are
        offsets into it; a gap the splitter dropped between chunks is whitespace, a paragraph
        break when it is two characters long)."""
        return _joined(
            (int(meta.get("start", 0)), text) for _, text, meta in self.iter_articles([article_id])
        )

    def article_texts(
        self, article_ids: Sequence[str]
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(article_id, text as ``article_text`` puts it together, first chunk's metadata)
        of these articles, 200 at a time."""
        for i in range(0, len(article_ids), 200):
            pieces: dict[str, list[tuple[int, str]]] = {}
            first: dict[str, dict[str, Any]] = {}
            for _, text, meta in self.iter_articles(article_ids[i : i + 200]):
                article_id = str(meta["article_id"])
                pieces.setdefault(article_id, []).append((int(meta.get("start", 0)), text))
                if int(meta.get("chunk_index", 0)) == 0:
                    first[article_id] = meta
            for article_id, parts in pieces.items():
                yield article_id, _joined(parts), first.get(article_id, {})

    def show(self, article_id: str) -> ShownArticle:
        """A stored article's metadata and cleaned text; StoreError when there is none."""
        rows = list(self.iter_articles([article_id]))
        if not rows:
            raise StoreError(f"no article with id {article_id} (see 'rag list')")
        meta = next((m for _, _, m in rows if int(m.get("chunk_index", 0)) == 0), rows[0][2])
        authors = str(meta.get("authors", ""))
        return ShownArticle(
            article_id=article_id,
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            published=str(meta.get("published") or "") or None,
            url=str(meta.get("url", "")),
            authors=[a for a in authors.split(", ") if a],
            path=str(meta.get("path", "")),
            text=self.article_text(article_id),
            chunks=len(rows),
        )

    def iter_chunks(self, include_text: bool = True) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every (chunk_id, text, metadata), page by page."""
        include: list[Any] = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            got = self._call(
                lambda o=offset: self.collection.get(include=include, limit=PAGE, offset=o)
            )
            ids = got["ids"]
            if not ids:
                return
            yield from _chunk_rows(got)
            offset += len(ids)

    def fingerprints(self) -> dict[str, str]:
        """article_id -> fingerprint of every stored article."""
        return {
            str(meta["article_id"]): str(meta.get("fingerprint", ""))
            for meta in self._iter_first_chunks()
        }

    def _iter_first_chunks(self) -> Iterator[Mapping[str, Any]]:
        """Metadata of every article's first chunk (one row an article), page by page.

        Pages are large: each one re-scans the rows before its offset.
        """
        where: Any = {"chunk_index": 0}
        offset = 0
        while True:
            got = self._call(
                lambda o=offset: self.collection.get(
                    where=where, include=["metadatas"], limit=FIRST_CHUNK_PAGE, offset=o
                )
            )
            if not got["ids"]:
                return
            yield from got["metadatas"] or []
            offset += len(got["ids"])

    def iter_articles(
        self, article_ids: Sequence[str]
    ) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(chunk_id, text, metadata) of every chunk of these articles, 200 articles a call."""
        for i in range(0, len(article_ids), 200):
            where: Any = {"article_id": {"$in": list(article_ids[i : i + 200])}}
            got = self._call(
                lambda w=where: self.collection.get(where=w, include=["metadatas", "documents"])
            )
            yield from _chunk_rows(got)

    def articles(self) -> list[ArticleInfo]:
        """Every stored article (from its first chunk's metadata), newest first.

        Articles are written whole, so the chunk count recorded with the article is the
        number stored; reading one row an article keeps ``rag list`` fast on a large store.
        """
        infos = [
            ArticleInfo(
                article_id=str(meta["article_id"]),
                title=str(meta.get("title", "")),
                source=str(meta.get("source", "")),
                published=str(meta.get("published") or "") or None,
                url=str(meta.get("url", "")),
                path=str(meta.get("path", "")),
                content_hash=str(meta.get("content_hash", "")),
                chunks=int(meta.get("n_chunks", 0)),
                section=next((str(meta[k]) for k in SECTION_KEYS if meta.get(k)), ""),
            )
            for meta in self._iter_first_chunks()
        ]
        return sorted(infos, key=lambda a: (a.published or "", a.article_id), reverse=True)

    def query(
        self, vector: np.ndarray, n: int, where: Mapping[str, Any] | None = None
    ) -> list[Passage]:
        """The dense search: the ``n`` chunks nearest to ``vector`` (best first) that match
        ``where`` (a Chroma filter), each scored by its cosine similarity (fewer when fewer
        match)."""
        if n <= 0:
            return []
        got = self._call(
            lambda: self.collection.query(
                query_embeddings=[vector],
                n_results=n,
                where=dict(where) if where else None,
                include=["metadatas", "documents", "distances"],
            )
        )
        passages = []
        for cid, doc, meta, distance in zip(
            got["ids"][0],
            (got["documents"] or [[]])[0],
            (got["metadatas"] or [[]])[0],
            (got["distances"] or [[]])[0],
            strict=False,
        ):
            passage = passage_from(cid, doc or "", dict(meta))
            passage.score = 1.0 - float(distance)
            passages.append(passage)
        return passages

    def stats(self) -> StoreStats:
        """Counts, location, embedding model, and the size on disk of an embedded store."""
        server = self.settings.server_mode
        return StoreStats(
            collection=self.settings.collection,
            store=("server " if server else "embedded ") + describe(self.settings),
            articles=len(self.articles()),
            chunks=self.count(),
            embedding=self.embedding_name,
            size_bytes=None if server else folder_size(self.settings.store_dir),
            collections=self._article_collections(),
        )

    def _article_collections(self) -> int:
        """Article collections in this store (each one's quote index counts with it)."""
        from rag.quotes.index import SUFFIX

        names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        return sum(1 for name in names if not name.endswith(SUFFIX))

    def get_chunks(self, chunk_ids: Sequence[str], near: np.ndarray | None = None) -> list[Passage]:
        """Passages for chunk ids, in the order asked (missing ids are dropped); with ``near``,
        each is scored by the cosine similarity of its embedding to that vector."""
        if not chunk_ids:
            return []
        include: list[Any] = ["metadatas", "documents"]
        if near is not None:
            include.append("embeddings")
        got = self._call(lambda: self.collection.get(ids=list(chunk_ids), include=include))
        by_id = {
            cid: passage_from(cid, doc or "", dict(meta))
            for cid, doc, meta in zip(
                got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False
            )
        }
        if near is not None and len(got["ids"]):
            vectors = np.asarray(got["embeddings"], dtype=np.float64)
            norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(near)
            sims = vectors @ near / np.where(norms > 0, norms, 1.0)
            for cid, sim in zip(got["ids"], sims, strict=True):
                by_id[cid].score = float(sim)
        return [by_id[c] for c in chunk_ids if c in by_id]

    def _writable(self) -> None:
        """Refuse to change a snapshot of a read-only store (the change would be lost)."""
        if self.read_only:
            raise read_only_refusal(self.settings.data_dir, OSError(30, "read-only"))

    def call(self, fn: Callable[[], T]) -> T:
        """Run a Chroma call; its failure becomes a StoreError naming the store."""
        return cast("T", self._call(fn))

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"Chroma store at {describe(self.settings)} failed: {exc}") from exc


def article_metadata(article: Article, content_hash: str, n_chunks: int) -> dict[str, Any]:
    """The article facts every chunk carries."""
    meta: dict[str, Any] = {
        "article_id": article.article_id,
        "title": article.title,
        "source": article.source,
        "source_key": outlet_key(article.source),
        "published": article.published or "",
        "published_int": date_number(article.published),
        "url": article.url,
        "authors": ", ".join(article.authors),
        "path": article.path,
        "content_hash": content_hash,
        "n_chunks": n_chunks,
    }
    for key, value in article.extra.items():
        meta[f"x_{key}"] = value
    return meta


def passage_from(chunk_id: str, text: str, meta: dict[str, Any]) -> Passage:
    """A Passage from a stored chunk."""
    return Passage(
        chunk_id=chunk_id,
        article_id=str(meta.get("article_id", "")),
        text=text,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published") or "") or None,
        url=str(meta.get("url", "")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
    )


def _chunk_rows(got: Any) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(chunk_id, text, metadata) of a Chroma ``get`` result ("" when text was not asked)."""
    documents = got.get("documents") or [""] * len(got["ids"])
    for cid, doc, meta in zip(got["ids"], documents, got["metadatas"] or [], strict=False):
        yield cid, doc or "", dict(meta)
