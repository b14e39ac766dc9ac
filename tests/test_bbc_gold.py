"""The BBC gold sets (eval/bbc-gold.jsonl, eval/bbc-heldout.jsonl) checked against the corpus.

The corpus is read from ../shared/data/bbc/bbc_news.jsonl the way ``rag ingest`` reads it, so
evidence ids are the ids a store holds and answers are looked for in the cleaned text.
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from conftest import ROOT, require_shared

from rag.eval.dataset import GoldQuestion, load_dataset
from rag.eval.metrics import contains
from rag.ingest import content_hash
from rag.readers import read_path
from rag.types import Article

DEV = ROOT / "eval" / "bbc-gold.jsonl"
HELDOUT = ROOT / "eval" / "bbc-heldout.jsonl"
ANSWER_TYPES = {"who", "when", "where", "what", "why", "number", "quote"}
CATEGORIES = {"business", "entertainment", "politics", "sport", "tech"}
MAX_ANSWER_CHARS = 60  # short answers only: the BBC README forbids copying article text

pytestmark = pytest.mark.shared


@cache
def stored_articles() -> dict[str, Article]:
    """The articles an ingest of the corpus keeps: the first of each duplicate text."""
    corpus = require_shared("data", "bbc", "bbc_news.jsonl")
    kept: dict[str, Article] = {}
    seen: set[str] = set()
    for item in read_path(corpus):
        assert isinstance(item, Article), f"corpus line not read: {item}"
        digest = content_hash(item)
        if digest not in seen:
            seen.add(digest)
            kept[item.article_id] = item
    return kept


@cache
def corpus_texts() -> dict[str, str]:
    """Headline and cleaned text of every stored article."""
    return {aid: f"{a.title}\n{a.text}" for aid, a in stored_articles().items()}


def questions(path: Path) -> list[GoldQuestion]:
    return load_dataset(path).questions


@pytest.mark.parametrize(
    ("path", "at_least", "unanswerable_at_least"), [(DEV, 100, 30), (HELDOUT, 40, 12)]
)
def test_sizes(path: Path, at_least: int, unanswerable_at_least: int) -> None:
    qs = questions(path)
    assert len(qs) >= at_least
    assert sum(not q.answerable for q in qs) >= unanswerable_at_least
    sections = {t for q in qs if q.answerable for t in q.tags if t in CATEGORIES}
    assert sections == CATEGORIES


def test_ids_and_queries_unique_across_both_sets() -> None:
    qs = questions(DEV) + questions(HELDOUT)
    assert [i for i, n in Counter(q.id for q in qs).items() if n > 1] == []
    assert [s for s, n in Counter(q.query.lower() for q in qs).items() if n > 1] == []


def test_heldout_uses_articles_the_dev_set_does_not() -> None:
    dev = {d for q in questions(DEV) for d in q.gold_ids}
    heldout = {d for q in questions(HELDOUT) for d in q.gold_ids}
    assert dev & heldout == set()


@pytest.mark.parametrize("path", [DEV, HELDOUT])
def test_tags_and_short_answers(path: Path) -> None:
    for q in questions(path):
        kinds = set(q.tags) & (ANSWER_TYPES | {"unanswerable"})
        assert len(kinds) == 1, f"{q.id}: one answer type or 'unanswerable' in {q.tags}"
        assert ("unanswerable" in kinds) is (not q.answerable), q.id
        assert len(set(q.tags) & CATEGORIES) == 1, f"{q.id}: one category in {q.tags}"
        assert q.question_date is None, q.id
        assert all(len(a) <= MAX_ANSWER_CHARS for a in q.golds), q.id
        assert q.gold_texts == [], f"{q.id}: evidence is doc ids only, no article text"


@pytest.mark.parametrize("path", [DEV, HELDOUT])
def test_answers_are_in_every_evidence_article(path: Path) -> None:
    """The reference answer is in the first evidence article; each other one holds it or an
    alias (a story that spells the name another way)."""
    texts = corpus_texts()
    for q in (q for q in questions(path) if q.answerable):
        assert q.reference_answer and q.gold_ids, q.id
        assert all(d in texts for d in q.gold_ids), f"{q.id}: not stored: {q.gold_ids}"
        first, *others = q.gold_ids
        found = contains(texts[first], [q.reference_answer])
        assert found == 1.0, f"{q.id}: {q.reference_answer!r} not in {first}"
        for doc_id in others:
            assert contains(texts[doc_id], q.golds) == 1.0, f"{q.id}: no answer in {doc_id}"
        assert first.split("/")[0] in q.tags, f"{q.id}: {first} but tags {q.tags}"


@pytest.mark.parametrize("path", [DEV, HELDOUT])
def test_unanswerable_questions_have_no_evidence_and_no_answer_anywhere(path: Path) -> None:
    texts = corpus_texts()
    for q in (q for q in questions(path) if not q.answerable):
        assert q.evidence == [], q.id
        for gold in q.golds:
            holders = [aid for aid, text in texts.items() if contains(text, [gold]) == 1.0]
            assert holders == [], f"{q.id}: {gold!r} appears in {holders[:5]}"
