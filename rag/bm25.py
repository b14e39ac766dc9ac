"""The BM25 side index: a bm25s index over the same chunks as the Chroma collection.

It lives next to the store (under ``data_dir/bm25/<collection key>``) and is stamped with
the collection's revision token. Whenever the token differs (another client wrote to a
Chroma server, an ingest was interrupted), the index is brought back in step from Chroma,
which stays the single source of truth: it compares each article's fingerprint with the
stored one and reads back only the articles added or changed since. Versions are written
into fresh folders and switched by an atomic rename of the ``CURRENT`` pointer, so a reader
never sees a half-written index.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import itertools
import json
import logging
import math
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.text import TERMS_VERSION, index_terms

if TYPE_CHECKING:
    import bm25s

    from rag.settings import Settings
    from rag.store import ChunkStore


def _bm25s() -> Any:
    """The bm25s module, quietened (it sets its own logger to DEBUG on import)."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize_words(texts: list[str]) -> list[list[str]]:
    """The index terms of each text (``rag.text.index_terms``)."""
    return [index_terms(text) for text in texts]


def chunk_text(title: str, text: str) -> str:
    """What BM25 indexes for a chunk: its article's headline and its text."""
    return f"{title}\n{text}"


class Vocab:
    """Token strings to ids, numbered in order of first sight."""

    def __init__(self, tokens: Iterable[str] = ()) -> None:
        self.ids: dict[str, int] = {t: i for i, t in enumerate(tokens)}

    def encode(self, tokens: list[str]) -> np.ndarray:
        """The tokens as int32 ids, adding new ones."""
        ids = self.ids
        return np.fromiter(
            (ids.setdefault(t, len(ids)) for t in tokens), dtype=np.int32, count=len(tokens)
        )

    @property
    def tokens(self) -> list[str]:
        """Every token, by id."""
        return list(self.ids)


@dataclass
class Row:
    """One chunk as the side index sees it: its token ids are in a ``Vocab`` kept beside."""

    chunk_id: str
    article_id: str
    published: int
    source: str
    ids: np.ndarray  # int32
    fingerprint: str = ""


@dataclass
class TermScores:
    """Query tokens with their idf, and each token's BM25 score in some rows (token x row)."""

    tokens: list[str]
    idf: np.ndarray
    scores: np.ndarray


def index_dir(settings: Settings) -> Path:
    """Folder of the side index for this collection (embedded store or server)."""
    if settings.chroma_url:
        key = hashlib.sha1(f"{settings.chroma_url}|{settings.collection}".encode()).hexdigest()
        return settings.data_dir / "bm25" / f"server-{key[:16]}"
    return settings.data_dir / "bm25" / settings.collection


@dataclass
class BM25Index:
    """Chunk ids, filterable fields and per-chunk token ids beside a bm25s model."""

    revision: str
    chunk_ids: list[str]
    article_ids: list[str]
    published: np.ndarray  # YYYYMMDD ints, 0 = unknown

    def dated_counts(self) -> tuple[int, int]:
        """(articles, undated articles) in the index."""
        dated: dict[str, bool] = {}
        for article_id, day in zip(self.article_ids, self.published.tolist(), strict=True):
            dated[article_id] = day > 0
        return len(dated), sum(1 for d in dated.values() if not d)

    sources: list[str]  # lowercase outlet names
    model: bm25s.BM25 | None
    vocab: list[str] = field(default_factory=list)
    token_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    offsets: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    fingerprints: dict[str, str] = field(default_factory=dict)  # article_id -> fingerprint

    @classmethod
    def build(cls, store: ChunkStore, revision: str) -> BM25Index:
        """Index every chunk in the store, read back from Chroma."""
        vocab = Vocab()
        return cls.from_rows(revision, _rows(store.iter_chunks(), vocab), vocab)

    @classmethod
    def from_rows(cls, revision: str, rows: list[Row], vocab: Vocab) -> BM25Index:
        """Index rows whose token ids are in ``vocab``."""
        return cls.empty(revision).with_changes(revision, set(), rows, vocab)

    @classmethod
    def empty(cls, revision: str) -> BM25Index:
        """An index of nothing."""
        return cls(revision, [], [], np.zeros(0, dtype=np.int64), [], None)

    def synced(self, store: ChunkStore, revision: str) -> BM25Index:
        """This index in step with the store, reading back only what changed.

        Articles whose stored fingerprint differs from ours (added, replaced, or indexed
        before fingerprints were kept) are read from Chroma; articles no longer stored are
        dropped. Without changes only the revision stamp moves.
        """
        stored = store.fingerprints()
        gone = {a for a in self.fingerprints.keys() | set(self.article_ids) if a not in stored}
        fetch = [a for a, fp in stored.items() if self.fingerprints.get(a) != fp]
        if not gone and not fetch:
            return dataclasses.replace(self, revision=revision)
        vocab = Vocab()
        rows = _rows(store.iter_articles(fetch), vocab)
        return self.with_changes(revision, gone | set(fetch), rows, vocab)

    def with_changes(
        self, revision: str, removed: set[str], added: list[Row], vocab: Vocab
    ) -> BM25Index:
        """This index without the removed articles' chunks, plus new rows (token ids in
        ``vocab``): no Chroma reads, and token ids stay in numpy arrays throughout."""
        added_ids = {row.chunk_id for row in added}
        keep = np.fromiter(
            (
                i
                for i, (cid, aid) in enumerate(zip(self.chunk_ids, self.article_ids, strict=True))
                if aid not in removed and cid not in added_ids
            ),
            dtype=np.int64,
        )
        merged = Vocab(self.vocab)
        to_merged = merged.encode(vocab.tokens)  # the added rows' ids, renumbered
        starts, ends = self.offsets[keep], self.offsets[keep + 1]
        lengths = np.concatenate([ends - starts, [len(r.ids) for r in added]]).astype(np.int64)
        flat = np.concatenate(
            [self.token_ids[_ranges(starts, ends)], *(to_merged[r.ids] for r in added)]
        ).astype(np.int32)
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        prints = {a: fp for a, fp in self.fingerprints.items() if a not in removed}
        prints.update((row.article_id, row.fingerprint) for row in added)
        tokens = merged.tokens
        return BM25Index(
            revision,
            [self.chunk_ids[i] for i in keep] + [r.chunk_id for r in added],
            [self.article_ids[i] for i in keep] + [r.article_id for r in added],
            np.concatenate([self.published[keep], [r.published for r in added]]).astype(np.int64),
            [self.sources[i] for i in keep] + [r.source for r in added],
            _model(flat, offsets, tokens) if tokens else None,  # no words, nothing to score
            tokens,
            flat,
            offsets,
            prints,
        )

    def save(self, folder: Path) -> None:
        """Write a new version folder, then switch ``CURRENT`` to it atomically.

        Saves hold a lock: readers of a Chroma server rebuild the index when another client
        writes, and one process's clean-up must not delete a version another is writing.
        """
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".save.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._save(folder)

    def _save(self, folder: Path) -> None:
        version = folder / f"v-{self.revision}-{os.getpid()}"
        if version.exists():
            shutil.rmtree(version)
        version.mkdir()
        if self.model is not None:
            self.model.save(str(version / "model"), show_progress=False)
        meta = {
            "revision": self.revision,
            "terms": TERMS_VERSION,
            "chunk_ids": self.chunk_ids,
            "article_ids": self.article_ids,
            "sources": self.sources,
            "fingerprints": self.fingerprints,
        }
        (version / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        (version / "vocab.json").write_text(json.dumps(self.vocab), encoding="utf-8")
        np.save(version / "published.npy", self.published)
        np.save(version / "token_ids.npy", self.token_ids)
        np.save(version / "offsets.npy", self.offsets)
        pointer = folder / f"CURRENT.tmp-{os.getpid()}"
        pointer.write_text(version.name, encoding="utf-8")
        os.replace(pointer, folder / "CURRENT")
        for old in folder.glob("v-*"):
            if old.name != version.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The current version, or None when absent, unreadable or of other terms."""
        bm25s = _bm25s()

        try:
            version = folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()
            meta = json.loads((version / "meta.json").read_text(encoding="utf-8"))
            if meta.get("terms") != TERMS_VERSION:
                return None  # indexed with other terms: rebuilt from the store
            published = np.load(version / "published.npy")
            vocab = json.loads((version / "vocab.json").read_text(encoding="utf-8"))
            token_ids = np.load(version / "token_ids.npy", mmap_mode="r")  # for updates only
            offsets = np.load(version / "offsets.npy")
            model = None
            if (version / "model").is_dir():
                model = bm25s.BM25.load(str(version / "model"), show_progress=False)
        except (OSError, ValueError, KeyError):
            return None
        return cls(
            meta["revision"],
            meta["chunk_ids"],
            meta["article_ids"],
            published,
            meta["sources"],
            model,
            vocab,
            token_ids,
            offsets,
            meta.get("fingerprints", {}),  # absent in older indexes: every article re-read
        )

    def term_scores(self, query: str, rows: np.ndarray) -> TermScores:
        """Each distinct query token the index knows: its idf and its BM25 score in ``rows``."""
        known: list[str] = []
        ids: list[int] = []
        if self.model is not None:
            for token in dict.fromkeys(tokenize_words([query])[0]):
                found = self.model.get_tokens_ids([token])
                if found and found[0] < len(self.vocab):
                    known.append(token)
                    ids.append(found[0])
        n_docs = len(self.chunk_ids)
        idf = np.zeros(len(ids))
        scores = np.zeros((len(ids), len(rows)))
        for i, token_id in enumerate(ids):
            assert self.model is not None
            every = self.model.get_scores_from_ids([token_id])
            df = int(np.count_nonzero(every))
            idf[i] = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
            scores[i] = every[rows]
        return TermScores(known, idf, scores)

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the best chunks; ``mask`` (bool per row) filters."""
        if self.model is None or not self.chunk_ids:
            return []
        ids = self.model.get_tokens_ids(index_terms(query))
        if not ids:
            return []
        n = min(n, len(self.chunk_ids))
        weight = None if mask is None else mask.astype(np.float32)
        docs, scores = self.model.retrieve(
            [ids], k=n, show_progress=False, n_threads=1, weight_mask=weight
        )
        return [
            (int(row), float(score))
            for row, score in zip(docs[0], scores[0], strict=False)
            if score > 0
        ]

    def idf(self, term: str) -> float:
        """Lucene idf of an index term (``rag.text.key_terms``/``index_terms``); a term the
        index has never seen gets the highest weight."""
        n_docs = max(len(self.chunk_ids), 1)
        df = self.document_frequency(term)
        return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))

    def mean_length(self) -> float:
        """Index terms in a chunk, on average."""
        return float(self.offsets[-1]) / max(len(self.chunk_ids), 1)

    def document_frequency(self, term: str) -> int:
        """How many chunks hold the index term."""
        if self.model is None:
            return 0
        tid = self.model.vocab_dict.get(term)
        indptr = self.model.scores["indptr"]
        if tid is None or tid + 1 >= len(indptr):
            return 0
        return int(indptr[tid + 1] - indptr[tid])


def _rows(chunks: Iterable[tuple[str, str, dict[str, Any]]], vocab: Vocab) -> list[Row]:
    """Side-index rows for chunks read back from Chroma: (chunk_id, text, metadata).

    Read and tokenized a page at a time: only the token ids of every chunk are kept.
    """
    rows: list[Row] = []
    iterator = iter(chunks)
    while batch := list(itertools.islice(iterator, 2000)):
        texts = [chunk_text(str(meta.get("title", "")), text) for _, text, meta in batch]
        rows.extend(
            Row(
                cid,
                str(meta.get("article_id", "")),
                int(meta.get("published_int", 0) or 0),
                str(meta.get("source_key", "")),
                vocab.encode(tokens),
                str(meta.get("fingerprint", "")),
            )
            for (cid, _, meta), tokens in zip(batch, tokenize_words(texts), strict=True)
        )
    return rows


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The concatenated index ranges [start, end) as one array."""
    lengths = ends - starts
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


K1, B = 1.5, 0.75  # bm25s's defaults (Lucene's BM25)


BLOCK_TOKENS = 2_000_000  # tokens per block while building the model (bounds temporary memory)


def _model(flat: np.ndarray, offsets: np.ndarray, vocab: list[str]) -> bm25s.BM25:
    """The bm25s model of documents given as token ids, computed with numpy.

    It equals ``bm25s.BM25().index(...)`` (Lucene idf and term-frequency scoring, the same
    float rounding) without that method's Python loops over every token, which at 50,000
    articles cost minutes and gigabytes. Two passes over blocks of documents: the first
    counts document frequencies, the second scores each block's (term, document) pairs and
    places them straight into the term-major arrays, so temporary memory stays per block.
    """
    bm25s = _bm25s()
    n_docs, n_vocab = len(offsets) - 1, len(vocab)
    lengths = np.diff(offsets)
    blocks = _blocks(offsets)
    df = np.zeros(n_vocab, dtype=np.int64)
    for first, last in blocks:
        _, terms, _ = _pairs(flat, offsets, first, last, n_vocab)
        df += np.bincount(terms, minlength=n_vocab)
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32).astype(np.float64)
    avg = float(lengths.mean()) if n_docs else 0.0
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    data = np.empty(int(indptr[-1]), dtype=np.float32)
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    fill = indptr[:-1].copy()  # next free slot of each term's column
    for first, last in blocks:
        docs, terms, tf = _pairs(flat, offsets, first, last, n_vocab)
        order = np.argsort(terms, kind="stable")  # by term, then document
        docs, terms, tf = docs[order], terms[order], tf[order]
        norm = K1 * ((1 - B) + B * lengths[docs] / avg) if avg else np.full(len(docs), K1)
        tf64 = tf.astype(np.float32).astype(np.float64)
        scores = (idf[terms] * (tf64 / (norm + tf64))).astype(np.float32)
        uniq, start, count = np.unique(terms, return_index=True, return_counts=True)
        slots = fill[terms] + (np.arange(len(terms)) - np.repeat(start, count))
        data[slots], indices[slots] = scores, docs
        fill[uniq] += count
    model = bm25s.BM25(k1=K1, b=B)
    model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
    vocab_dict = {t: i for i, t in enumerate(vocab)}
    vocab_dict.setdefault("", n_vocab)  # bm25s's empty token, for queries with no known word
    model.vocab_dict = vocab_dict
    model.unique_token_ids_set = set(vocab_dict.values())
    model.nonoccurrence_array = None  # Lucene scoring needs none
    return model


def _blocks(offsets: np.ndarray) -> list[tuple[int, int]]:
    """Document ranges [first, last) of about ``BLOCK_TOKENS`` tokens each."""
    n_docs = len(offsets) - 1
    cuts = np.searchsorted(offsets, np.arange(0, int(offsets[-1]), BLOCK_TOKENS), side="right")
    bounds = sorted({0, n_docs, *(int(c) - 1 for c in cuts if 0 < c - 1 < n_docs)})
    return list(itertools.pairwise(bounds))


def _pairs(
    flat: np.ndarray, offsets: np.ndarray, first: int, last: int, n_vocab: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document, term, count) of every distinct term in documents [first, last)."""
    lo, hi = int(offsets[first]), int(offsets[last])
    doc_of = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(offsets[first : last + 1]))
    keys, tf = np.unique(doc_of * n_vocab + flat[lo:hi].astype(np.int64), return_counts=True)
    return (keys // n_vocab).astype(np.int32), (keys % n_vocab).astype(np.int32), tf


def ensure_index(settings: Settings, store: ChunkStore) -> BM25Index:
    """The side index in step with the store's revision, rebuilt when it is not."""
    folder = index_dir(settings)
    revision = store.revision()
    index = _cached_load(folder)
    if index is not None and index.revision == revision:
        return index
    index = index.synced(store, revision) if index else BM25Index.build(store, revision)
    if store.read_only:  # a store on a read-only mount: the index is not saved
        return index
    index.save(folder)
    _cache.clear()
    return index


_cache: dict[str, tuple[float, BM25Index | None]] = {}


def _cached_load(folder: Path) -> BM25Index | None:
    """Load once per process while CURRENT is unchanged."""
    pointer = folder / "CURRENT"
    try:
        stamp = pointer.stat().st_mtime_ns
    except OSError:
        return None
    hit = _cache.get(str(folder))
    if hit and hit[0] == stamp:
        return hit[1]
    index = BM25Index.load(folder)
    _cache[str(folder)] = (stamp, index)
    return index
