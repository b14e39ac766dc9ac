"""What the quote lookup adds to ``rag ask`` at a given number of articles.

Fills a quote collection with the quotes the extractor finds in the BBC corpus, repeated
under new article ids until it holds as many articles as asked (10,000 by default), then
times, per question, what ``rag ask`` does before retrieval: recognising a question about
a speaker, and for one, the speaker's quotes ranked by topic.

    python bench/quote_lookup.py --articles 10000 --out /tmp/quote-lookup \
        --json bench/results/quote_lookup.json

The collection keeps speaker key records (``rag.quotes.index``), as one made by ``rag
ingest`` does; the fill time includes writing them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import chromadb
from chromadb.config import Settings as ChromaSettings

from rag.clean import clean_article_text
from rag.quotes.answer import find_speaker_quotes, speaker_question
from rag.quotes.extract import extract_quotes
from rag.quotes.index import KEYS_FLAG, QuoteIndex
from rag.types import Article

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc" / "bbc_news.jsonl"
QUESTIONS = [
    "What did the Kremlin say?",
    "What did Tony Blair say about the election?",
    "How did Microsoft respond?",
    "What was Arsene Wenger's reaction?",
    "What did Nobody Atall say?",
    "Who won the race?",  # not about a speaker: only the question check
]


def fill(index: QuoteIndex, articles: int) -> int:
    """Quotes of the BBC corpus, repeated under new ids up to ``articles`` articles."""
    records = [json.loads(line) for line in BBC.open(encoding="utf-8")]
    base = []
    for r in records:
        text = clean_article_text(r["body"])
        base.append((Article(r["id"], r["title"], text), extract_quotes(r["id"], text)))
    written = 0
    copy = 0
    while written < articles:
        batch = []
        for article, quotes in base[: articles - written]:
            aid = f"{article.article_id}~{copy}"
            clone = Article(aid, article.title, article.text)
            batch.append((clone, [_renamed(q, aid) for q in quotes]))
        index.write(batch)
        written += len(batch)
        copy += 1
    return index.count()


def _renamed(quote: object, article_id: str) -> object:
    from dataclasses import replace

    return replace(quote, article_id=article_id)  # type: ignore[type-var]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/quote-lookup"))
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args()
    if not BBC.exists():
        print(f"BBC corpus not found at {BBC}", file=sys.stderr)
        return 1
    client = chromadb.PersistentClient(
        path=str(args.out), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection(
        "news-quotes", metadata={KEYS_FLAG: 1}, embedding_function=None
    )
    index = QuoteIndex(collection)
    started = time.perf_counter()
    records = index.count() or fill(index, args.articles)
    filled = time.perf_counter() - started
    print(
        f"{records} of {args.articles} articles have quotes ({args.out}), filled in {filled:.0f} s"
    )
    rows = []
    for question in QUESTIONS:
        times = []
        found = 0
        for _ in range(args.repeat):
            started = time.perf_counter()
            asked = speaker_question(question)
            found = len(find_speaker_quotes(index, asked)) if asked else 0
            times.append((time.perf_counter() - started) * 1000)
        median = statistics.median(times)
        print(f"{question:45} {found:3} quotes  median {median:6.1f} ms  max {max(times):6.1f} ms")
        rows.append(
            {
                "question": question,
                "quotes": found,
                "median_ms": round(median, 1),
                "max_ms": round(max(times), 1),
            }
        )
    if args.json:
        result = {
            "articles": args.articles,
            "articles_with_quotes": records,
            "fill_seconds": round(filled),
            "repeat": args.repeat,
            "load_before": os.getloadavg()[0],
            "questions": rows,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
