"""Consistency checks on a store that another process wrote (or was killed while writing)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rag.bm25 import BM25Index, index_dir
from rag.settings import Settings
from rag.store import ChunkStore


def fresh_store(settings: Settings) -> ChunkStore | None:
    """The collection as a new process would see it (no cached Chroma client), or None."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    if not settings.server_mode and not settings.store_dir.exists():
        return None
    try:
        return ChunkStore.open(settings)
    except Exception as exc:
        if "no articles yet" in str(exc):
            return None
        raise


@dataclass
class Snapshot:
    """What the store holds: chunk ids, and chunk count per article."""

    chunk_ids: list[str]
    chunks_per_article: dict[str, int]
    revision: str

    @property
    def articles(self) -> int:
        return len(self.chunks_per_article)


def check_articles_whole(store: ChunkStore) -> Snapshot:
    """Every article has exactly its ``n_chunks`` chunks, indexed 0..n-1, stored once."""
    ids: list[str] = []
    indexes: dict[str, list[int]] = {}
    declared: dict[str, set[int]] = {}
    for cid, _, meta in store.iter_chunks(include_text=False):
        aid = str(meta["article_id"])
        ids.append(cid)
        indexes.setdefault(aid, []).append(int(meta["chunk_index"]))
        declared.setdefault(aid, set()).add(int(meta["n_chunks"]))
    duplicated = [cid for cid, n in Counter(ids).items() if n > 1]
    assert not duplicated, f"chunk ids stored twice: {duplicated[:5]}"
    for aid, found in indexes.items():
        assert len(declared[aid]) == 1, f"{aid}: chunks disagree on n_chunks {declared[aid]}"
        [n] = declared[aid]
        assert sorted(found) == list(range(n)), f"{aid}: chunks {sorted(found)} of {n}"
    return Snapshot(ids, {a: len(i) for a, i in indexes.items()}, store.revision())


def check_side_index_in_step(settings: Settings, snapshot: Snapshot) -> None:
    """The BM25 side index holds exactly the store's chunks, at the store's revision."""
    index = BM25Index.load(index_dir(settings))
    assert index is not None, "no BM25 side index"
    assert index.revision == snapshot.revision, "side index revision differs from the store's"
    assert sorted(index.chunk_ids) == sorted(snapshot.chunk_ids), "side index chunks differ"


def lock_path(settings: Settings) -> Path:
    """The ingest lock file of the collection."""
    folder = index_dir(settings)
    return folder.parent / f"{folder.name}.lock"
