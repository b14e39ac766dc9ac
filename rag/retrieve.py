"""Hybrid retrieval: dense (Chroma) + BM25 candidates, scored on weighted features.

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

from rag.articles import date_number, outlet_key, same_outlet
from rag.bm25 import BM25Index, ensure_index, tokenize_words
from rag.dates import DateWindow, relative_window
from rag.embeddings import Embedder, get_embedder
from rag.store import ChunkStore
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


FEATURES = (
    "bm25", "dense", "rrf", "rare", "rarest", "title", "date", "bm25_lead", "dense_lead", "article",
)  # fmt: skip


@dataclass
class Tuning:
    """Every tuned value of retrieval: candidates, the date prior's shape, and the weight of
    each feature a candidate chunk is scored on (``FEATURES``).

    The weights were fitted on newsqa dev only (``../shared/data/newsqa/questions-dev.jsonl``)
    by ``python bench/retrieval_dev.py --fit``, which records its run in
    ``bench/fusion-fit.json``; a test checks that these values are the recorded ones.
    """

    bm25: float = 1
    dense: float = 0.75
    rrf: float = 0.05
    rare: float = 0.0
    rarest: float = 0.2
    title: float = 0.75
    date: float = 1
    bm25_lead: float = 0.5
    dense_lead: float = 2.0
    article: float = 2.0
    date_scale_days: float = 30.0
    window_bonus: float = 0.3  # in units of the prior of an article published today
    future_penalty: float = 3.0
    candidates: int = 60

    def weights(self) -> np.ndarray:
        """The feature weights, in the order of ``FEATURES``."""
        return np.array([getattr(self, name) for name in FEATURES], dtype=np.float64)


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
    _row_index: BM25Index | None = None
    _row_of: dict[str, int] = field(default_factory=dict)

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
        window = relative_window(question, as_of)
        pool = self.candidates(question, as_of=as_of, filters=filters, mode=mode, window=window)
        for passage, score in zip(
            pool.passages, fuse(pool.features, self._weights(mode)), strict=True
        ):
            passage.score = float(score)
        ranking = sorted(pool.passages, key=lambda p: (-p.score, p.chunk_id))
        return SearchResult(ranking, diversify(ranking, k), window, as_of)

    def candidates(
        self,
        question: str,
        *,
        as_of: date,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        window: DateWindow | None = None,
    ) -> Candidates:
        """The chunks either retriever ranks in its top ``candidates``, with their features."""
        self.open()
        assert self.embedder is not None and self.store is not None
        filters = filters or Filters()
        index = self.bm25()
        sources = _sources(index, filters)
        n = self.tuning.candidates
        vector = self.embedder.embed([question])[0] if mode != "bm25" else None
        dense = [] if vector is None else self.store.query(vector, n, _where(filters, sources))
        lexical: list[int] = []
        if mode != "dense":
            lexical = [row for row, _ in index.search(question, n, _mask(index, filters, sources))]
        found = {p.chunk_id: p for p in dense}
        missing = [index.chunk_ids[r] for r in lexical if index.chunk_ids[r] not in found]
        found.update((p.chunk_id, p) for p in self.store.get_chunks(missing, near=vector))
        passages = list(found.values())
        rows = self._rows(index)
        dense_rank = {p.chunk_id: i for i, p in enumerate(dense)}
        lexical_rank = {index.chunk_ids[r]: i for i, r in enumerate(lexical)}
        columns = {
            "dense": _spread(np.array([p.score if vector is not None else 0.0 for p in passages])),
            "rrf": np.array(
                [
                    _rrf(dense_rank.get(p.chunk_id)) + _rrf(lexical_rank.get(p.chunk_id))
                    for p in passages
                ]
            ),
            "date": np.array([self._date_prior(p, as_of, window) for p in passages]),
            **_lexical_features(
                index,
                question,
                np.array([rows.get(p.chunk_id, -1) for p in passages], dtype=np.int64),
                passages,
            ),
        }
        articles = [p.article_id for p in passages]
        columns["bm25_lead"] = _lead(columns["bm25"], articles)
        columns["dense_lead"] = _lead(columns["dense"], articles)
        features = np.zeros((len(passages), len(FEATURES)))
        for j, name in enumerate(FEATURES):
            features[:, j] = columns[name]
        return Candidates(passages, features)

    def _weights(self, mode: Mode) -> np.ndarray:
        weights = self.tuning.weights()
        if mode == "hybrid":
            return weights
        keep = {"dense": "dense", "bm25": "bm25"}[mode]
        return np.array(
            [
                w if name in (keep, "date") else 0.0
                for name, w in zip(FEATURES, weights, strict=True)
            ]
        )

    def _rows(self, index: BM25Index) -> dict[str, int]:
        """chunk_id -> row of the side index (kept while the index is the same)."""
        if self._row_index is not index:
            self._row_of = {cid: i for i, cid in enumerate(index.chunk_ids)}
            self._row_index = index
        return self._row_of

    def _date_prior(self, passage: Passage, as_of: date, window: DateWindow | None) -> float:
        """1 for an article published on ``as_of``, falling with age; a bonus inside the
        question's own window ("last week"); 0 when undated."""
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
        prior = 1.0 / (1.0 + age / t.date_scale_days)
        if window and window.contains(published):
            prior += t.window_bonus
        return prior


@dataclass
class Candidates:
    """The chunks either retriever found, each with one row of ``FEATURES``."""

    passages: list[Passage]
    features: np.ndarray  # len(passages) x len(FEATURES)


def fuse(features: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Each candidate's score: the weighted sum of its features."""
    if not len(features):
        return np.zeros(0)
    return features @ weights


def _rrf(rank: int | None) -> float:
    """Reciprocal rank, scaled so that first place in one list is 0.5."""
    return 0.0 if rank is None else (RRF_K + 1) / (2 * (RRF_K + rank + 1))


def _lead(values: np.ndarray, articles: list[str]) -> np.ndarray:
    """How far each chunk is ahead of every other article's best chunk (0 unless its
    article leads): a retriever that is sure of one article says so here."""
    lead = np.zeros(len(articles))
    if not articles:
        return lead
    best: dict[str, float] = {}
    for article, value in zip(articles, values, strict=True):
        best[article] = max(best.get(article, value), value)
    ranked = sorted(best.values(), reverse=True)
    runner_up = ranked[1] if len(ranked) > 1 else 0.0
    top = max(best, key=lambda a: best[a])
    for i, (article, value) in enumerate(zip(articles, values, strict=True)):
        if article == top:
            lead[i] = max(0.0, value - runner_up)
    return lead


def _spread(values: np.ndarray) -> np.ndarray:
    """Values rescaled to [0, 1] over the candidates (all 1 when they are equal)."""
    if not len(values):
        return values
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.ones_like(values)
    return (values - low) / (high - low)


_LEXICAL = ("bm25", "rare", "rarest", "title", "article")


def _lexical_features(
    index: BM25Index, question: str, rows: np.ndarray, passages: list[Passage]
) -> dict[str, np.ndarray]:
    """BM25 (relative to the best candidate), the idf-weighted share of the question's terms
    a chunk holds, whether it holds the rarest one, the share its headline holds, and the
    share its whole article holds over its candidate chunks and headline."""
    n = len(passages)
    if not n:
        return {name: np.zeros(0) for name in _LEXICAL}
    known = rows >= 0
    terms = index.term_scores(question, np.where(known, rows, 0))
    scores = terms.scores * known  # rows the index lacks score nothing
    if not terms.tokens:
        return {name: np.zeros(n) for name in _LEXICAL}
    total = scores.sum(axis=0)
    best = float(total.max())
    present = scores > 0
    share = terms.idf / terms.idf.sum()
    heads = list(dict.fromkeys(p.title for p in passages))
    title_tokens = {h: set(t) for h, t in zip(heads, tokenize_words(heads), strict=True)}
    in_title = np.array(
        [[token in title_tokens[p.title] for p in passages] for token in terms.tokens]
    )
    # the question's terms the whole article holds, in any of its candidate chunks or its
    # headline: a question whose terms the article spreads over several passages
    articles = [p.article_id for p in passages]
    held: dict[str, np.ndarray] = {}
    for j, article in enumerate(articles):
        column = present[:, j] | in_title[:, j]
        held[article] = held[article] | column if article in held else column
    return {
        "bm25": total / best if best > 0 else np.zeros(n),
        "rare": share @ present,
        "article": np.array([share @ held[a] for a in articles]),
        "rarest": present[int(np.argmax(terms.idf))].astype(float),
        "title": share @ in_title,
    }


def diversify(ranking: list[Passage], k: int) -> list[Passage]:
    """Top k, one chunk per article first, then second chunks, and so on; but chunks of the
    leading article that outscore every other article's best come first."""
    chosen: list[Passage] = []
    chosen_ids: set[str] = set()
    taken: dict[str, int] = {}
    leader = ranking[0].article_id if ranking else ""
    runner_up = max((p.score for p in ranking if p.article_id != leader), default=0.0)
    cap = 1
    while len(chosen) < min(k, len(ranking)):
        for passage in ranking:
            if len(chosen) >= k:
                break
            if passage.chunk_id in chosen_ids:
                continue
            leads = passage.article_id == leader and passage.score > runner_up
            if not leads and taken.get(passage.article_id, 0) >= cap:
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
