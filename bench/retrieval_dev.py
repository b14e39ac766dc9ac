"""Article-level Hit@k / MRR@10 of dense, BM25 and hybrid retrieval on newsqa dev.

Usage: python bench/retrieval_dev.py [--modes hybrid,dense,bm25] (with RAG_DATA_DIR
pointing at a store that holds ../shared/data/newsqa/corpus.jsonl).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from rag.eval.metrics import hit_at_k, mrr_at_k
from rag.retrieve import Searcher
from rag.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "newsqa"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--modes", default="hybrid,dense,bm25")
    parser.add_argument("--questions", default=str(SHARED / "questions-dev.jsonl"))
    args = parser.parse_args()
    path = Path(args.questions)
    if not path.exists():
        sys.exit(f"newsqa questions not found at {path}")
    questions = [json.loads(line) for line in path.open(encoding="utf-8")]
    answerable = [q for q in questions if q["answerable"]]
    searcher = Searcher(Settings.load()).open()
    for mode in args.modes.split(","):
        hits, mrrs, started = [], [], time.perf_counter()
        for q in answerable:
            result = searcher.search(
                q["query"], k=10, as_of=date.fromisoformat(q["question_date"]), mode=mode
            )
            ranked = [p.article_id for p in result.ranking]
            gold = {e["doc_id"] for e in q["evidence"]}
            hits.append(hit_at_k(ranked, gold, 5))
            mrrs.append(mrr_at_k(ranked, gold, 10))
        took = (time.perf_counter() - started) / len(answerable) * 1000
        print(
            f"{mode:7} Hit@5 {sum(hits) / len(hits):.3f}  MRR@10 {sum(mrrs) / len(mrrs):.3f}"
            f"  ({len(answerable)} questions, {took:.0f} ms/question)"
        )


if __name__ == "__main__":
    main()
