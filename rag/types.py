"""The data that flows through rag: articles, chunks, passages, citations and answers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Scalar = str | int | float | bool


@dataclass
class Article:
    """One cleaned news article, ready to be chunked."""

    article_id: str
    title: str
    text: str
    source: str = ""
    published: str | None = None  # ISO date, YYYY-MM-DD
    url: str = ""
    authors: list[str] = field(default_factory=list)
    path: str = ""
    extra: dict[str, Scalar] = field(default_factory=dict)


@dataclass
class Chunk:
    """A span of an article's cleaned text; start/end are offsets into ``Article.text``."""

    chunk_id: str
    article_id: str
    text: str
    start: int
    end: int
    index: int


@dataclass
class Passage:
    """A retrieved chunk with the article facts a reader needs to judge it."""

    chunk_id: str
    article_id: str
    text: str
    title: str = ""
    source: str = ""
    published: str | None = None
    url: str = ""
    start: int = 0
    end: int = 0
    score: float = 0.0
    quotes: list[dict[str, str]] = field(default_factory=list)  # who speaks, when it is a quote


@dataclass(frozen=True)
class Reply:
    """An answerer's raw reply: text with [n] markers for the numbered passages, and notes
    for the reader on how it came about (a local model that was not asked)."""

    text: str
    notes: tuple[str, ...] = ()


@dataclass
class Citation:
    """A numbered reference from an answer to a passage; span is within ``passage.text``."""

    n: int
    passage: Passage
    span_start: int = 0
    span_end: int = 0
    spans: list[tuple[int, int]] = field(default_factory=list)  # every supporting span, in order

    def supporting_spans(self) -> list[tuple[int, int]]:
        """Every span of the passage that supports the answer (one per citing sentence)."""
        return self.spans or [(self.span_start, self.span_end)]

    def source_line(self) -> str:
        """[n] outlet · date · headline"""
        p = self.passage
        parts = [p.source or "unknown outlet", p.published or "undated", p.title or p.article_id]
        return f"[{self.n}] " + " · ".join(parts)


@dataclass
class Answer:
    """What ``rag.ask`` returns."""

    question: str
    answer: str
    refused: bool
    llm: str
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    as_of: str | None = None
    warnings: list[str] = field(default_factory=list)
    search_query: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of the answer."""
        return {
            "question": self.question,
            "answer": self.answer,
            "refused": self.refused,
            "llm": self.llm,
            "citations": [
                {
                    "n": c.n,
                    "article_id": c.passage.article_id,
                    "chunk_id": c.passage.chunk_id,
                    "title": c.passage.title,
                    "source": c.passage.source,
                    "published": c.passage.published,
                    "url": c.passage.url,
                    "passage": c.passage.text,
                    "start": c.passage.start,
                    "end": c.passage.end,
                    "span": [c.span_start, c.span_end],
                    "spans": [list(span) for span in c.supporting_spans()],
                    **({"quotes": c.passage.quotes} if c.passage.quotes else {}),
                }
                for c in self.citations
            ],
            "retrieved": [
                {
                    "article_id": p.article_id,
                    "chunk_id": p.chunk_id,
                    "score": p.score,
                    "title": p.title,
                    "source": p.source,
                    "published": p.published,
                    "text": p.text,
                }
                for p in self.retrieved
            ],
            "as_of": self.as_of,
            "warnings": list(self.warnings),
            "search_query": self.search_query,
        }


def article_dict(article: Article) -> dict[str, Any]:
    """A plain dict of an article (for JSON output)."""
    return asdict(article)
