"""Ingestion: read, clean, deduplicate, chunk, embed and store articles, incrementally.

Unchanged articles (same fingerprint) are skipped, changed ones have their old chunks
replaced (an edited text, Markdown or HTML file known only by its text replaces what was
stored from its path), exact duplicates under another id are reported and skipped. Only
one ingest writes to a collection at a time (a lock file), and each Chroma write holds
whole articles, so an interrupted run leaves every article complete or absent.
"""

from __future__ import annotations

import fcntl
import hashlib
import math
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, NamedTuple

from rag.articles import TEXT_ID, date_number, outlet_key
from rag.bm25 import BM25Index, Row, Vocab, chunk_text, index_dir, tokenize_words
from rag.chunking import chunk_article, count_tokens, embedding_text, splitter
from rag.embeddings import Embedder, get_embedder
from rag.errors import ModelError, RagError, StoreError
from rag.fetch import Fetcher, RobotsCache, fetch_policy, is_url, robots_path
from rag.files import ONE_ARTICLE_FORMATS, ReadFailure, expand_paths, format_for
from rag.processes import follow_parent
from rag.quotes.backfill import catch_up as catch_up_quotes
from rag.quotes.worker import Found, QuoteWorker, quotes_of
from rag.readers import read_path
from rag.readonly import is_read_only_error, read_only_refusal
from rag.settings import Settings
from rag.store import ChunkStore, StoredArticle, require_store
from rag.types import Article

BATCH = 256
Progress = Callable[[int, int, int], None]  # (articles seen, files done, files total)


class Duplicate(NamedTuple):
    """An article skipped because one with the same text is stored or was read before it: under
    another id, or the same id read from another file (``path`` beside ``same_as_path``)."""

    article_id: str
    same_as: str
    path: str = ""
    same_as_path: str = ""


@dataclass
class IngestReport:
    """What an ingest run did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    failed: list[ReadFailure] = field(default_factory=list)
    skipped: list[ReadFailure] = field(default_factory=list)  # pages that are not articles
    unquoted: dict[str, str] = field(default_factory=dict)  # stored without quotes: id -> why
    requoted: int = 0  # stored articles whose quotes the catch-up extracted (again)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape: each outcome as a list, and the count of each."""
        outcomes: dict[str, list[Any]] = {
            "added": list(self.added),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "duplicates": [_duplicate_dict(d) for d in self.duplicates],
            "failed": [{"path": f.path, "line": f.line, "reason": f.reason} for f in self.failed],
            "skipped": [{"path": f.path, "reason": f.reason} for f in self.skipped],
            "unquoted": [{"id": k, "reason": why} for k, why in self.unquoted.items()],
        }
        return {
            **outcomes,
            "counts": {name: len(items) for name, items in outcomes.items()},
            "requoted": self.requoted,
            "chunks": self.chunks,
            "seconds": round(self.seconds, 3),
        }


def _duplicate_dict(duplicate: Duplicate) -> dict[str, str]:
    out = {"id": duplicate.article_id, "same_as": duplicate.same_as}
    if duplicate.article_id == duplicate.same_as:
        out |= {"path": duplicate.path, "same_as_path": duplicate.same_as_path}
    return out


def content_hash(article: Article) -> str:
    """Identity of an article's content: headline and cleaned text."""
    return hashlib.sha256(f"{article.title}\n{article.text}".encode()).hexdigest()[:32]


def fingerprint(article: Article, settings: Settings) -> str:
    """Changes whenever anything stored for the article would change."""
    parts = [
        article.title,
        article.text,
        article.source,
        article.published or "",
        article.url,
        "|".join(article.authors),
        article.path,
        repr(sorted(article.extra.items())),
        f"{settings.chunk_size}/{settings.chunk_overlap}",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Exclusive lock on the collection for writers; fails fast when held."""
    folder = index_dir(settings)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle: IO[str] = open(folder.parent / f"{folder.name}.lock", "w")  # noqa: SIM115
    except OSError as exc:
        if is_read_only_error(exc):
            raise read_only_refusal(settings.data_dir, exc) from exc
        raise StoreError(f"cannot write to the data dir {settings.data_dir}: {exc}") from exc
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise StoreError(
                f"another ingest is running on collection {settings.collection!r}; "
                "wait for it to finish"
            ) from exc
        yield
    finally:
        handle.close()


def ingest(
    paths: list[str],
    settings: Settings,
    *,
    fmt: str | None = None,
    force: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    fetcher: Fetcher | None = None,
) -> IngestReport:
    """Ingest files, folders, globs and web pages (http(s) URLs) into the collection."""
    urls = [p for p in paths if is_url(p)]
    files, failures = expand_paths([p for p in paths if not is_url(p)], fmt=fmt)
    big = not urls and sum(_size(f) for f in files) >= PARALLEL_BYTES
    total = len(files) + len(urls)

    def items(run: _Run) -> Iterator[Article | ReadFailure]:
        yield from failures
        yield from _read_files(files, fmt, run, total, progress)
        if urls:
            yield from _fetch_pages(urls, settings, fetcher, run, len(files), total, progress)

    return write_articles(
        items, settings, force=force, embedder=embedder, parallel=big and embedder is None
    )


def write_articles(
    items: Callable[[_Run], Iterable[Article | ReadFailure]],
    settings: Settings,
    *,
    force: bool = False,
    embedder: Embedder | None = None,
    parallel: bool = False,
    on_done: Callable[[list[Article]], None] | None = None,
    batch: int = BATCH,
) -> IngestReport:
    """Write the articles ``items(run)`` yields (failures are reported) under the write lock.

    ``on_done`` is called with each batch of articles once they are in the store (added,
    updated, unchanged or skipped as duplicates), so a caller can record its progress.
    """
    started = time.perf_counter()
    report = IngestReport()
    pool = _pool(settings) if parallel else None
    quoting = QuoteWorker() if pool else None  # forked before the pool starts threads
    try:
        embedder = embedder or (None if pool else get_embedder(settings))
        name = embedder.name if embedder else _embedder_name(settings, pool)
        with write_lock(settings):
            store = ChunkStore.open(settings, name, create=True)
            # a store from before the quote index, or from before today's quote rules, gets
            # its quotes
            caught = catch_up_quotes(store)
            report.unquoted.update(caught.failed)
            report.requoted = caught.extracted
            base = _index_in_step(settings, store)
            run = _Run(settings, store, embedder, pool, report, force, batch, on_done)
            run.quoting = quoting
            if pool is None:  # load the splitter now: the first batch must not wait for it
                splitter(settings.chunk_size, settings.chunk_overlap)
            started_at = store.bump_revision()
            completed = False
            try:
                for item in items(run):
                    if isinstance(item, ReadFailure):
                        report.failed.append(item)
                    elif not force and (reason := item.extra.get("not_article")):
                        report.skipped.append(ReadFailure(item.path, str(reason)))
                    else:
                        run.add(item)
                run.flush()
                run.drain()
                completed = True
            finally:
                rows = (run.removed, run.rows, run.vocab)
                _save_index(settings, store, base, started_at, completed, *rows)
    finally:
        if quoting:
            quoting.close()
        if pool:
            pool.shutdown(cancel_futures=True)
    report.seconds = time.perf_counter() - started
    return report


def _index_in_step(settings: Settings, store: ChunkStore) -> BM25Index | None:
    """The side index brought in step with the store (so it can be updated in place), or
    None when there is none yet."""
    revision = store.revision()
    if store.count() == 0:
        return BM25Index.empty(revision)
    index = BM25Index.load(index_dir(settings))
    if index is None or index.revision == revision:
        return index
    return index.synced(store, revision)


def _save_index(
    settings: Settings,
    store: ChunkStore,
    base: BM25Index | None,
    started_at: str,
    completed: bool,
    removed: set[str],
    added: list[Row],
    vocab: Vocab,
) -> None:
    """Mark the write finished and bring the side index in step with it.

    This write's own changes are applied in place. If the write did not complete, or
    another client (another machine on the same Chroma server) wrote since it began, the
    result is then synced with the store by article fingerprints.
    """
    clean = completed and store.revision() == started_at
    revision = store.bump_revision()
    if base is None:
        index = BM25Index.build(store, revision)
    else:
        index = base.with_changes(revision, removed, added, vocab)
        if not clean:
            index = index.synced(store, revision)
    index.save(index_dir(settings))


def _read_files(
    files: list[Path], fmt: str | None, run: _Run, total: int, progress: Progress | None
) -> Iterator[Article | ReadFailure]:
    for done, path in enumerate(files, 1):
        if (fmt or format_for(path)) in ONE_ARTICLE_FORMATS:
            run.whole_files.add(str(path))
        for item in read_path(path, fmt):
            yield item
            if progress and run.seen % 64 == 0:
                progress(run.seen, done - 1, total)
        if progress:
            progress(run.seen, done, total)


def _fetch_pages(
    urls: list[str],
    settings: Settings,
    fetcher: Fetcher | None,
    run: _Run,
    done: int,
    total: int,
    progress: Progress | None,
) -> Iterator[Article | ReadFailure]:
    """Web pages, several hosts at once, read as they arrive."""
    from rag.pages import PageJob, crawl

    own = fetcher is None
    client = fetcher or Fetcher(fetch_policy(settings), RobotsCache(robots_path(settings)))
    try:
        jobs = [PageJob(url) for url in dict.fromkeys(urls)]
        for _, item in crawl(client, jobs, idle=run.flush):
            done += 1
            yield item
            if progress:
                progress(run.seen, done, total)
    finally:
        if own:
            client.close()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# Chunking and embedding run in a second process on large inputs, while this one
# writes the previous batch to Chroma (whose writes hold the GIL).
PARALLEL_BYTES = 2_000_000
_worker_embedder: Embedder | None = None
_worker_settings: Settings | None = None


def _pool(settings: Settings) -> ProcessPoolExecutor | None:
    """A forked worker, only while this process has no other threads (fork is safe then).

    Fork, not spawn: spawn re-imports the caller's main module, which breaks scripts
    without a main guard. A library caller with threads running gets the in-process path.
    """
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_worker_init,
        initargs=(settings, os.getpid()),
    )


def _worker_init(settings: Settings, parent: int) -> None:
    global _worker_embedder, _worker_settings
    follow_parent(parent)
    _worker_settings = settings
    _worker_embedder = get_embedder(settings)


def _worker_name() -> str:
    assert _worker_embedder is not None
    return _worker_embedder.name


def _worker_prepare(articles: list[Article], prints: dict[str, str]) -> list[StoredArticle]:
    assert _worker_embedder is not None and _worker_settings is not None
    return prepare(articles, prints, _worker_settings, _worker_embedder)


def _embedder_name(settings: Settings, pool: ProcessPoolExecutor | None) -> str:
    assert pool is not None
    try:
        return pool.submit(_worker_name).result()
    except RagError:
        raise
    except Exception as exc:
        raise ModelError(f"cannot start the embedding worker: {exc}") from exc


def prepare(
    articles: list[Article], prints: dict[str, str], settings: Settings, embedder: Embedder
) -> list[StoredArticle]:
    """Chunk and embed articles (their quotes are found apart: ``rag.quotes.worker``)."""
    chunked = [(a, chunk_article(a, settings.chunk_size, settings.chunk_overlap)) for a in articles]
    chunked = [(a, cs) for a, cs in chunked if cs]
    texts = [embedding_text(a, c) for a, cs in chunked for c in cs]
    vectors = embedder.embed(texts)
    tokens = tokenize_words([chunk_text(a.title, c.text) for a, cs in chunked for c in cs])
    items, row = [], 0
    for article, chunks in chunked:
        n = len(chunks)
        digest = content_hash(article)
        items.append(
            StoredArticle(
                article,
                digest,
                prints[article.article_id],
                chunks,
                vectors[row : row + n],
                tokens[row : row + n],
            )
        )
        row += n
    return items


class _Run:
    """Batches articles, skips unchanged and duplicate ones, and writes the rest."""

    def __init__(
        self,
        settings: Settings,
        store: ChunkStore,
        embedder: Embedder | None,
        pool: ProcessPoolExecutor | None,
        report: IngestReport,
        force: bool,
        batch_size: int = BATCH,
        on_done: Callable[[list[Article]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.batch_size = batch_size
        self.on_done = on_done
        self.store = store
        self.embedder = embedder
        self.pool = pool
        self.report = report
        self.force = force
        self.batch: dict[str, Article] = {}
        self.seen_hashes: dict[str, str] = {}
        self.read: dict[str, tuple[str, str]] = {}  # id -> (content hash, path) read this run
        self.limit: int | None = None  # the most chunks one store write takes
        self.seen = 0
        self.pending: _Pending | None = None
        self.quoting: QuoteWorker | None = None  # finds the quotes beside the pool's worker
        self.removed: set[str] = set()
        self.whole_files: set[str] = set()  # paths of files that are one article each
        self.rows: list[Row] = []
        self.vocab = Vocab()  # the rows' token ids: the strings are not kept (memory)

    def add(self, article: Article) -> None:
        self.seen += 1
        aid, digest = article.article_id, content_hash(article)
        first = self.read.get(aid)
        if first is not None and first[0] == digest:  # the same file under another path
            self.report.duplicates.append(Duplicate(aid, aid, article.path, first[1]))
            return
        self.read[aid] = (digest, article.path)
        if reason := self._too_long(article):
            self.report.failed.append(ReadFailure(article.path, reason))
            return
        if aid in self.batch:
            self.flush()
        self.batch[article.article_id] = article
        if len(self.batch) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        articles = list(self.batch.values())
        self.batch = {}
        if self.pending is not None and {a.article_id for a in self.pending.articles} & {
            a.article_id for a in articles
        }:
            self.drain()  # an id the worker is preparing: it must be stored before it is looked up
        stored = self.store.existing([a.article_id for a in articles])
        prints = {a.article_id: fingerprint(a, self.settings) for a in articles}
        todo = [
            a for a in articles if self.force or stored.get(a.article_id) != prints[a.article_id]
        ]
        todo_ids = {a.article_id for a in todo}
        self.report.unchanged.extend(a.article_id for a in articles if a.article_id not in todo_ids)
        todo = self._drop_duplicates(todo)
        earlier = self._earlier_versions(todo)
        if self.pool is None or self.quoting is None:
            assert self.embedder is not None
            items = prepare(todo, prints, self.settings, self.embedder)
            self._write(items, stored, quotes_of(todo), earlier)
            self._done(articles)
            return
        if self.pending is not None:  # its quotes first: the worker takes a batch at a time
            self.pending = self.pending._replace(quotes=self.quoting.receive())
        self.quoting.send(todo)
        future = self.pool.submit(_worker_prepare, todo, prints)
        self.drain()
        self.pending = _Pending(future, stored, articles, earlier)

    def drain(self) -> None:
        """Write the batch the worker has been preparing."""
        if self.pending is None:
            return
        future, stored, articles, earlier, quotes = self.pending
        self.pending = None
        if quotes is None:
            assert self.quoting is not None
            quotes = self.quoting.receive()
        try:
            items = future.result()
        except RagError:
            raise
        except Exception as exc:
            raise ModelError(f"the embedding worker failed: {exc}") from exc
        self._write(items, stored, quotes, earlier)
        self._done(articles)

    def _done(self, articles: list[Article]) -> None:
        if self.on_done:
            self.on_done(articles)

    def _write(
        self,
        items: list[StoredArticle],
        stored: dict[str, str],
        quotes: Found,
        earlier: dict[str, list[str]],
    ) -> None:
        items = self._drop_too_long(items)
        for item in items:
            aid = item.article.article_id
            item.quotes = quotes.records.get(aid)
            if aid in quotes.failed:
                self.report.unquoted[aid] = quotes.failed[aid]
        replaced = [i.article.article_id for i in items if i.article.article_id in stored]
        replaced += [old for i in items for old in earlier.get(i.article.article_id, [])]
        self.removed.update(replaced)
        self.store.delete(replaced)
        self.store.write(items)
        self.rows.extend(_rows(items, self.vocab))
        for item in items:
            aid = item.article.article_id
            updated = aid in stored or aid in earlier
            (self.report.updated if updated else self.report.added).append(aid)
            self.report.chunks += len(item.chunks)

    def _earlier_versions(self, articles: list[Article]) -> dict[str, list[str]]:
        """new id -> the ids of the earlier versions of an edited file, to be replaced: a
        one-article file (text, Markdown, HTML) with neither an id of its own nor a URL has
        an id derived from its text, so an edit gives it a new one; what was stored from the
        same path under such an id is the file before the edit."""
        by_path = {
            a.path: a.article_id
            for a in articles
            if a.path in self.whole_files and a.article_id.startswith(TEXT_ID)
        }
        earlier: dict[str, list[str]] = {}
        if not by_path:
            return earlier
        for path, old in self.store.by_path(list(by_path)):
            new = by_path[path]
            if old != new and old.startswith(TEXT_ID) and old not in self.read:
                earlier.setdefault(new, []).append(old)
        return earlier

    def _too_long(self, article: Article) -> str | None:
        """Why an article certainly has more chunks than one store write takes, found before
        it is chunked or embedded: n chunks of at most ``size`` tokens overlapping by at most
        ``overlap`` hold at most size + (n - 1)(size - overlap) tokens."""
        size, overlap = self.settings.chunk_size, self.settings.chunk_overlap
        if self.limit is None:
            self.limit = self.store.max_chunks_per_write()
        fits = size + (self.limit - 1) * (size - overlap)  # tokens in the most chunks stored
        if len(article.text) <= fits:  # a token is at least a character
            return None
        tokens = len(count_tokens(article.text))
        if tokens <= fits:
            return None
        least = math.ceil((tokens - overlap) / (size - overlap))
        return (
            f"article {article.article_id!r} is too long to store (at least {least:,} chunks "
            f"of {size} tokens; the limit is {self.limit:,} chunks): split it into several"
        )

    def _drop_too_long(self, items: list[StoredArticle]) -> list[StoredArticle]:
        """Articles longer than one store write fail: they could not be stored whole."""
        if not items:
            return items
        limit = self.store.max_chunks_per_write()
        for item in items:
            if len(item.chunks) > limit:
                reason = (
                    f"article {item.article.article_id!r} is too long to store "
                    f"({len(item.chunks)} chunks; the limit is {limit})"
                )
                self.report.failed.append(ReadFailure(item.article.path, reason))
        return [item for item in items if len(item.chunks) <= limit]

    def _drop_duplicates(self, articles: list[Article]) -> list[Article]:
        hashes = {a.article_id: content_hash(a) for a in articles}
        in_store = self.store.by_hash(list(set(hashes.values())))
        kept = []
        for article in articles:
            digest = hashes[article.article_id]
            owner = self.seen_hashes.get(digest) or in_store.get(digest)
            if owner and owner != article.article_id:
                self.report.duplicates.append(Duplicate(article.article_id, owner))
                continue
            self.seen_hashes[digest] = article.article_id
            kept.append(article)
        return kept


class _Pending(NamedTuple):
    """A batch the pool's worker is preparing, and its quotes once received."""

    future: Future[list[StoredArticle]]
    stored: dict[str, str]  # stored fingerprints of its articles
    articles: list[Article]
    earlier: dict[str, list[str]]  # new id -> earlier versions it replaces
    quotes: Found | None = None


def _rows(items: list[StoredArticle], vocab: Vocab) -> list[Row]:
    rows = []
    for item in items:
        a = item.article
        day = date_number(a.published)
        for chunk, tokens in zip(item.chunks, item.tokens, strict=True):
            ids = vocab.encode(tokens)
            rows.append(
                Row(chunk.chunk_id, a.article_id, day, outlet_key(a.source), ids, item.fingerprint)
            )
        item.tokens = []
    return rows


def remove(article_ids: list[str], settings: Settings) -> tuple[list[str], list[str]]:
    """Remove articles by id; returns (removed, not found)."""
    require_store(settings)  # before the lock file, which would create the data dir
    with write_lock(settings):
        store = ChunkStore.open(settings, write=True)
        present = store.existing(article_ids)
        missing = [a for a in article_ids if a not in present]
        base = _index_in_step(settings, store)
        started_at = store.bump_revision()
        completed = False
        try:
            store.delete(list(present))
            completed = True
        finally:
            _save_index(settings, store, base, started_at, completed, set(present), [], Vocab())
    return list(present), missing
