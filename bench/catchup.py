"""Several clients on one Chroma server: what a client pays when another one has written.

Each `rag` client keeps its own BM25 side index. When another client writes, the next
search brings the index back in step. This times, against a real `chroma run` on loopback:

- full: building the side index from Chroma (a new client, or a lost index);
- catch-up: client B has added a few articles; client A's next search syncs by article
  fingerprints and reads back only B's articles;
- no change: the revision moved but nothing changed (fingerprints only);
- rebuild: what the catch-up costs when done as a full rebuild instead.

Usage: python bench/catchup.py [--sizes 10000,50000] [--added 10]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import run as bench

ADDED = "catchup-added.jsonl"


def timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def measure(size: int, added: int) -> dict[str, Any]:
    from rag.bm25 import BM25Index, ensure_index
    from rag.ingest import ingest
    from rag.settings import Settings
    from rag.store import ChunkStore

    with tempfile.TemporaryDirectory(prefix=f"rag-catchup-{size}-") as tmp:
        root = Path(tmp)
        bench.build_corpus(size + added, root / "all.jsonl")
        lines = (root / "all.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (root / "corpus.jsonl").write_text("".join(lines[:size]), encoding="utf-8")
        (root / ADDED).write_text("".join(lines[size:]), encoding="utf-8")
        ingested = bench.in_child("ingest", str(root / "corpus.jsonl"), str(root / "data"))
        with bench.chroma_serving(root / "data" / "chroma") as url:
            a = Settings.load(flags={"chroma_url": url, "data_dir": root / "client-a"})
            b = a.replace(data_dir=root / "client-b")
            store = ChunkStore.open(a)
            full_index, full = timed(lambda: ensure_index(a, store))
            report = ingest([str(root / ADDED)], b)
            synced, catchup = timed(lambda: ensure_index(a, store))
            assert len(synced.chunk_ids) == len(full_index.chunk_ids) + report.chunks
            store.bump_revision()
            _, unchanged = timed(lambda: ensure_index(a, store))
            _, rebuild = timed(lambda: BM25Index.build(store, store.revision()))
    return {
        "size": size,
        "chunks": ingested["chunks"],
        "added_articles": len(report.added),
        "full_s": full,
        "catchup_s": catchup,
        "unchanged_s": unchanged,
        "rebuild_s": rebuild,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--added", type=int, default=10, help="articles client B adds")
    parser.add_argument("--out", type=Path, default=bench.ROOT / "bench" / "out")
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Chroma request
    if not bench.ingest_bench.CORPORA["newsqa"].exists():
        print(f"skip: newsqa corpus not found under {bench.DATA} (set RAG_SHARED_DIR)")
        return
    label, rows = bench.machine(), []
    print(f"machine: {label}")
    print(f"{'size':>6} {'chunks':>7} {'full s':>7} {'catch-up s':>10} {'no change s':>11} "
          f"{'rebuild s':>9}")  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        r = measure(size, args.added)
        rows.append(r)
        print(
            f"{r['size']:>6} {r['chunks']:>7} {r['full_s']:>7.1f} {r['catchup_s']:>10.2f} "
            f"{r['unchanged_s']:>11.2f} {r['rebuild_s']:>9.1f}",
            flush=True,
        )
        (args.out / "catchup.json").write_text(
            json.dumps({"machine": label, "rows": rows}, indent=2)
        )
    print(f"\nwrote {args.out / 'catchup.json'}")


if __name__ == "__main__":
    sys.exit(main())
