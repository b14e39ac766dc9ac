"""Ingest throughput, peak memory and store size: rag vs a plain LlamaIndex pipeline.

Both sides read the same cleaned articles, chunk with SentenceSplitter at the same size,
embed with the same WordLlama model and write to an embedded Chroma store. Each run is a
separate process so peak RSS is its own.

Usage: python bench/ingest_bench.py [bbc|newsqa ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SHARED = Path(os.environ.get("RAG_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
CORPORA = {
    "bbc": SHARED / "data" / "bbc" / "bbc_news.jsonl",
    "newsqa": SHARED / "data" / "newsqa" / "corpus.jsonl",
}


def run_rag(corpus: Path, data_dir: Path) -> dict[str, float]:
    """rag's own ingest (library API, as `rag ingest` runs it)."""
    from rag.ingest import ingest
    from rag.settings import Settings

    settings = Settings.load(flags={"data_dir": data_dir})
    report = ingest([str(corpus)], settings)
    return {"articles": len(report.added), "chunks": report.chunks}


def wordllama_embedding() -> Any:
    """rag's WordLlama embedder as a LlamaIndex embedding model."""
    from llama_index.core.embeddings import BaseEmbedding

    from rag.embeddings import WordLlamaEmbedder

    wordllama = WordLlamaEmbedder()

    class WordLlamaEmbedding(BaseEmbedding):
        def _get_text_embedding(self, text: str) -> list[float]:
            return wordllama.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return wordllama.embed(texts).tolist()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_text_embedding(query)

    return WordLlamaEmbedding(embed_batch_size=64)


def run_baseline(corpus: Path, data_dir: Path) -> dict[str, float]:
    """SentenceSplitter + VectorStoreIndex over ChromaVectorStore, same embedding."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.chunking import count_tokens
    from rag.files import ReadFailure
    from rag.readers import read_path

    docs = [
        Document(text=a.text, metadata={"title": a.title, "source": a.source}, id_=a.article_id)
        for a in read_path(corpus)
        if not isinstance(a, ReadFailure)
    ]
    client = chromadb.PersistentClient(
        path=str(data_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("baseline"))
    index = VectorStoreIndex.from_documents(
        docs,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=wordllama_embedding(),
        transformations=[
            SentenceSplitter(chunk_size=200, chunk_overlap=40, tokenizer=count_tokens)
        ],
    )
    del index
    return {"articles": len(docs), "chunks": store._collection.count()}


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue  # it ended while we looked
    return total


def run_sampled(command: list[str]) -> tuple[str, float, float]:
    """Run a command; its stdout, wall seconds, and the peak summed RSS (MB) of its process
    tree, sampled every 50 ms: the forked embedding worker counts with the main process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.05)
        wall = time.perf_counter() - started
        if proc.returncode:
            err.seek(0)
            sys.exit(f"failed (exit {proc.returncode}): {' '.join(command)}\n{err.read()[-3000:]}")
        out.seek(0)
        return out.read(), wall, peak / 1024


def _child(kind: str, corpus: str, data_dir: str) -> None:
    started = time.perf_counter()
    runner = run_rag if kind == "rag" else run_baseline
    counts = runner(Path(corpus), Path(data_dir))
    seconds = time.perf_counter() - started
    usage = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({**counts, "seconds": seconds, "peak_rss_mb": usage / 1024}))


def measure(kind: str, corpus: Path) -> dict[str, float]:
    """One run in a fresh process and a fresh store; wall time includes imports."""
    with tempfile.TemporaryDirectory() as tmp:
        stdout, wall, tree_peak = run_sampled(
            [sys.executable, __file__, "--child", kind, str(corpus), tmp]
        )
        result = json.loads(stdout.strip().splitlines()[-1])
        result["peak_rss_mb"] = max(result["peak_rss_mb"], tree_peak)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
    result.update(
        wall_s=wall,
        articles_per_s=result["articles"] / wall,
        chunks_per_s=result["chunks"] / wall,
        store_mb=size / 2**20,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpora", nargs="*", default=["bbc", "newsqa"])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"machine: {machine}")
    rows = []
    for name in args.corpora:
        corpus = CORPORA[name]
        if not corpus.exists():
            print(f"skip {name}: {corpus} not found (set RAG_SHARED_DIR)")
            continue
        for kind in ("baseline", "rag"):
            r = measure(kind, corpus)
            rows.append({"corpus": name, "pipeline": kind, **r})
            print(
                f"{name:7} {kind:8} {r['articles']:6.0f} articles {r['chunks']:7.0f} chunks "
                f"{r['wall_s']:7.1f} s  {r['articles_per_s']:6.1f} art/s "
                f"{r['chunks_per_s']:7.1f} chunks/s  peak {r['peak_rss_mb']:6.0f} MB  "
                f"store {r['store_mb']:5.0f} MB",
                flush=True,
            )
        base, ours = rows[-2], rows[-1]
        print(f"{name:7} speed-up {base['wall_s'] / ours['wall_s']:.2f}x (articles/s vs baseline)")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
