"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, with a date prior.

``Searcher`` does the work and returns Passages; ``HybridRetriever`` wraps it as a
LlamaIndex retriever so it composes with LlamaIndex query and chat engines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from rag.articles import outlet_key, same_outlet
from rag.bm25 import BM25Index, ensure_index
from rag.dates import DateWindow, relative_window
from rag.embeddings import Embedder, get_embedder
from rag.store import ChunkStore, date_number
from rag.types import Passage

if TYPE_CHECKING:
    from rag.settings import Settings

Mode = Literal["hybrid", "dense", "bm25"]
RRF_K = 60
MIN_RETRIEVED_ARTICLES = 10


@dataclass
class Filters:
    """Hard filters on what may be retrieved."""

    since: date | None = None
    until: date | None = None
    source: str | None = None

    def describe(self) -> str:
        """One line for the terminal."""
        parts = []
        if self.since:
            parts.append(f"since {self.since}")
        if self.until:
            parts.append(f"until {self.until}")
        if self.source:
            parts.append(f"source {self.source}")
        return ", ".join(parts) or "none"


@dataclass
class Tuning:
    """Fusion weights and the date prior (tuned on newsqa dev only)."""

    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    date_weight: float = 0.02
    date_scale_days: float = 30.0
    window_bonus: float = 0.006
    future_penalty: float = 3.0
    candidates: int = 60


@dataclass
class SearchResult:
    """The fused ranking (best first), the window used, and the diversified top k."""

    ranking: list[Passage]
    top: list[Passage]
    window: DateWindow | None
    as_of: date


@dataclass
class Searcher:
    """Everything retrieval needs, opened once and reused across questions."""

    settings: Settings
    embedder: Embedder | None = None
    store: ChunkStore | None = None
    tuning: Tuning = field(default_factory=Tuning)
    _bm25: BM25Index | None = None
    _bm25_revision: str = ""

    def open(self) -> Searcher:
        """Open the store and embedder (refusing a mismatched embedding model)."""
        if self.embedder is None:
            self.embedder = get_embedder(self.settings)
        if self.store is None:
            self.store = ChunkStore.open(self.settings, self.embedder.name)
        else:
            self.store.check_embedding(self.embedder.name)
        return self

    def bm25(self) -> BM25Index:
        """The side index, in step with the store."""
        assert self.store is not None
        self._bm25 = ensure_index(self.settings, self.store)
        return self._bm25

    def search(
        self,
        question: str,
        *,
        k: int,
        as_of: date | None = None,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
    ) -> SearchResult:
        """Fused, date-aware, diversified retrieval."""
        self.open()
        as_of = as_of or date.today()
        filters = filters or Filters()
        window = relative_window(question, as_of)
        index = self.bm25()
        lists: list[tuple[float, list[tuple[str, str]]]] = []
        found: dict[str, Passage] = {}
        if mode in ("hybrid", "dense"):
            dense = self._dense(question, filters, index)
            found.update((p.chunk_id, p) for p in dense)
            lists.append((self.tuning.dense_weight, [(p.chunk_id, p.article_id) for p in dense]))
        if mode in ("hybrid", "bm25"):
            mask = _mask(index, filters, _sources(index, filters))
            rows = [row for row, _ in index.search(question, self.tuning.candidates, mask)]
            ranked = [(index.chunk_ids[row], index.article_ids[row]) for row in rows]
            lists.append((self.tuning.bm25_weight, ranked))
        scores = fuse(lists)
        missing = [cid for cid in scores if cid not in found]
        if missing:
            assert self.store is not None
            found.update((p.chunk_id, p) for p in self.store.get_chunks(missing))
        for cid, passage in found.items():
            passage.score = scores.get(cid, 0.0) + self._date_prior(passage, as_of, window)
        ranking = sorted(found.values(), key=lambda p: (-p.score, p.chunk_id))
        return SearchResult(ranking, diversify(ranking, k), window, as_of)

    def _dense(self, question: str, filters: Filters, index: BM25Index) -> list[Passage]:
        assert self.embedder is not None and self.store is not None
        vector = self.embedder.embed([question])[0]
        where = _where(filters, _sources(index, filters))
        return self.store.query(vector, self.tuning.candidates, where)

    def _date_prior(self, passage: Passage, as_of: date, window: DateWindow | None) -> float:
        if not passage.published:
            return 0.0
        try:
            published = date.fromisoformat(passage.published)
        except ValueError:
            return 0.0
        t = self.tuning
        age = (as_of - published).days
        if age < 0:
            age = int(-age * t.future_penalty)
        prior = t.date_weight / (1.0 + age / t.date_scale_days)
        if window and window.contains(published):
            prior += t.window_bonus
        return prior


def fuse(lists: list[tuple[float, list[tuple[str, str]]]]) -> dict[str, float]:
    """Weighted reciprocal rank fusion of (chunk_id, article_id) rankings."""
    scores: dict[str, float] = {}
    for weight, ranked in lists:
        for rank, (chunk_id, _) in enumerate(ranked):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank + 1)
    return scores


def diversify(ranking: list[Passage], k: int) -> list[Passage]:
    """Top k, one chunk per article first, then second chunks, and so on."""
    chosen: list[Passage] = []
    chosen_ids: set[str] = set()
    taken: dict[str, int] = {}
    cap = 1
    while len(chosen) < min(k, len(ranking)):
        for passage in ranking:
            if len(chosen) >= k:
                break
            if passage.chunk_id in chosen_ids or taken.get(passage.article_id, 0) >= cap:
                continue
            chosen.append(passage)
            chosen_ids.add(passage.chunk_id)
            taken[passage.article_id] = taken.get(passage.article_id, 0) + 1
        cap += 1
    return sorted(chosen, key=lambda p: -p.score)


def retrieved_view(ranking: list[Passage], limit: int = 50) -> list[Passage]:
    """The fused ranking cut for output, keeping the best chunk of the top 10 articles."""
    head = ranking[:limit]
    articles = {p.article_id for p in head}
    if len(articles) >= MIN_RETRIEVED_ARTICLES:
        return head
    extra = []
    for passage in ranking[limit:]:
        if passage.article_id not in articles:
            extra.append(passage)
            articles.add(passage.article_id)
            if len(articles) >= MIN_RETRIEVED_ARTICLES:
                break
    return head + extra


def _sources(index: BM25Index, filters: Filters) -> list[str] | None:
    """The stored outlet keys ``--source`` means (names and hosts alike)."""
    if not filters.source:
        return None
    wanted = filters.source
    return sorted(s for s in set(index.sources) if same_outlet(wanted, s)) or [outlet_key(wanted)]


def _where(filters: Filters, sources: list[str] | None) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if filters.since:
        clauses.append({"published_int": {"$gte": date_number(filters.since.isoformat())}})
    if filters.until:
        clauses.append({"published_int": {"$lte": date_number(filters.until.isoformat())}})
        clauses.append({"published_int": {"$gt": 0}})
    if sources:
        clauses.append({"source_key": {"$in": sources}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _mask(index: BM25Index, filters: Filters, sources: list[str] | None) -> np.ndarray | None:
    if not (filters.since or filters.until or sources):
        return None
    mask = np.ones(len(index.chunk_ids), dtype=bool)
    if filters.since:
        mask &= index.published >= date_number(filters.since.isoformat())
    if filters.until:
        mask &= index.published <= date_number(filters.until.isoformat())
        mask &= index.published > 0
    if sources:
        allowed = set(sources)
        mask &= np.array([s in allowed for s in index.sources], dtype=bool)
    return mask


@dataclass
class NewsQuery(QueryBundle):
    """A LlamaIndex query with rag's per-question settings (None means the retriever's own)."""

    as_of: date | None = None
    filters: Filters | None = None
    k: int | None = None
    mode: Mode = "hybrid"


class HybridRetriever(BaseRetriever):
    """LlamaIndex retriever over rag's hybrid search: the whole fused ranking, best first.

    A plain string or QueryBundle is searched with the retriever's own k; a ``NewsQuery``
    brings its own date, filters, k and mode. The answer shows the top k of this ranking,
    one chunk per article first (``diversify``).
    """

    def __init__(self, searcher: Searcher, *, k: int = 5) -> None:
        super().__init__()
        self.searcher = searcher
        self.k = k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        query = query_bundle
        if not isinstance(query, NewsQuery):
            query = NewsQuery(query.query_str)
        result = self.searcher.search(
            query.query_str,
            k=query.k or self.k,
            as_of=query.as_of,
            filters=query.filters,
            mode=query.mode,
        )
        return [to_node(p) for p in result.ranking]


def to_node(passage: Passage) -> NodeWithScore:
    """A LlamaIndex node for a passage (``from_node`` reads it back)."""
    node = TextNode(
        id_=passage.chunk_id,
        text=passage.text,
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        metadata={
            "article_id": passage.article_id,
            "title": passage.title,
            "source": passage.source,
            "published": passage.published or "",
            "url": passage.url,
        },
    )
    return NodeWithScore(node=node, score=passage.score)


def from_node(scored: NodeWithScore) -> Passage:
    """The passage a node stands for."""
    node, meta = scored.node, scored.node.metadata
    return Passage(
        chunk_id=node.node_id,
        article_id=str(meta.get("article_id", "")),
        text=node.get_content(),
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        published=str(meta.get("published") or "") or None,
        url=str(meta.get("url", "")),
        start=getattr(node, "start_char_idx", None) or 0,
        end=getattr(node, "end_char_idx", None) or 0,
        score=scored.score or 0.0,
    )
