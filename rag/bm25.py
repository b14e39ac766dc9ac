"""The BM25 side index: a bm25s index over the same chunks as the Chroma collection.

It lives next to the store (under ``data_dir/bm25/<collection key>``) and is stamped with
the collection's revision token. Whenever the token differs (another client wrote to a
Chroma server, an ingest was interrupted), the index is rebuilt from Chroma, which stays
the single source of truth. Versions are written into fresh folders and switched by an
atomic rename of the ``CURRENT`` pointer, so a reader never sees a half-written index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import bm25s

    from rag.settings import Settings
    from rag.store import ChunkStore


logging.getLogger("bm25s").setLevel(logging.WARNING)


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        import Stemmer

        return Stemmer.Stemmer("english").stemWords
    except ImportError:  # stemming is a refinement, not a requirement
        return None


def tokenize(texts: list[str]) -> Any:
    """bm25s tokens: lowercase words of 2+ chars, English stopwords out, stemmed."""
    import bm25s

    return bm25s.tokenize(
        texts, stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=True
    )


def index_dir(settings: Settings) -> Path:
    """Folder of the side index for this collection (embedded store or server)."""
    if settings.chroma_url:
        key = hashlib.sha1(f"{settings.chroma_url}|{settings.collection}".encode()).hexdigest()
        return settings.data_dir / "bm25" / f"server-{key[:16]}"
    return settings.data_dir / "bm25" / settings.collection


@dataclass
class BM25Index:
    """Chunk ids and filterable fields beside a bm25s model."""

    revision: str
    chunk_ids: list[str]
    article_ids: list[str]
    published: np.ndarray  # YYYYMMDD ints, 0 = unknown
    sources: list[str]  # lowercase outlet names
    model: bm25s.BM25 | None

    @classmethod
    def build(cls, store: ChunkStore, revision: str) -> BM25Index:
        """Index every chunk in the store (headline + chunk text)."""
        import bm25s

        ids: list[str] = []
        texts: list[str] = []
        articles: list[str] = []
        dates: list[int] = []
        sources: list[str] = []
        for cid, text, meta in store.iter_chunks():
            ids.append(cid)
            texts.append(f"{meta.get('title', '')}\n{text}")
            articles.append(str(meta.get("article_id", "")))
            dates.append(int(meta.get("published_int", 0) or 0))
            sources.append(str(meta.get("source_key", "")))
        model = None
        if ids:
            model = bm25s.BM25()
            model.index(tokenize(texts), show_progress=False)
        return cls(revision, ids, articles, np.array(dates, dtype=np.int64), sources, model)

    def save(self, folder: Path) -> None:
        """Write a new version folder, then switch ``CURRENT`` to it atomically."""
        folder.mkdir(parents=True, exist_ok=True)
        version = folder / f"v-{self.revision}-{os.getpid()}"
        if version.exists():
            shutil.rmtree(version)
        version.mkdir()
        if self.model is not None:
            self.model.save(str(version / "model"), show_progress=False)
        meta = {
            "revision": self.revision,
            "chunk_ids": self.chunk_ids,
            "article_ids": self.article_ids,
            "sources": self.sources,
        }
        (version / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        np.save(version / "published.npy", self.published)
        pointer = folder / f"CURRENT.tmp-{os.getpid()}"
        pointer.write_text(version.name, encoding="utf-8")
        os.replace(pointer, folder / "CURRENT")
        for old in folder.glob("v-*"):
            if old.name != version.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> BM25Index | None:
        """The current version, or None when absent or unreadable."""
        import bm25s

        try:
            version = folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()
            meta = json.loads((version / "meta.json").read_text(encoding="utf-8"))
            published = np.load(version / "published.npy")
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
        )

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the best chunks; ``mask`` (bool per row) filters."""
        if self.model is None or not self.chunk_ids:
            return []
        tokens = tokenize([query])
        if not tokens.vocab:
            return []
        n = min(n, len(self.chunk_ids))
        weight = None if mask is None else mask.astype(np.float32)
        docs, scores = self.model.retrieve(
            tokens, k=n, show_progress=False, n_threads=1, weight_mask=weight
        )
        return [
            (int(row), float(score))
            for row, score in zip(docs[0], scores[0], strict=False)
            if score > 0
        ]


def ensure_index(settings: Settings, store: ChunkStore) -> BM25Index:
    """The side index in step with the store's revision, rebuilt when it is not."""
    folder = index_dir(settings)
    revision = store.revision()
    index = _cached_load(folder)
    if index is not None and index.revision == revision:
        return index
    index = BM25Index.build(store, revision)
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
