"""The benchmark in one command: ingest, query latency, memory and scaling, embedded and server.

For each corpus size (built from newsqa + BBC, then re-identified copies) it ingests into a
fresh store with rag and with a plain LlamaIndex pipeline (bench/ingest_bench.py), then times
retrieval and extractive `ask` over the newsqa dev questions, warm (library API, one process)
and cold (`rag ask` as a process), against the embedded store and through a real `chroma run`
on loopback. Through the server it also times what one client pays to catch up after
another client has added articles. Every measurement is its own child process, so peak RSS
is its own (summed over its process tree). The query baseline is a plain LlamaIndex vector
retriever over the same Chroma collection.

Usage: python bench/run.py [--sizes 1000,5000,10000,50000] [--out bench/out]
                           [--baseline-from OLD/results.json]
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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import ingest_bench
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ingest_bench.SHARED / "data"
QUESTIONS = DATA / "newsqa" / "questions-dev.jsonl"
RAG = Path(sys.executable).parent / "rag"


def machine() -> str:
    """Cores, CPU model and Python version, to label absolute figures."""
    model = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}"


def build_corpus(size: int, out: Path) -> None:
    """`size` articles: newsqa, then BBC, then copies with new ids and a copy number appended."""
    base: list[dict[str, Any]] = []
    for name in ("newsqa", "bbc"):
        if ingest_bench.CORPORA[name].exists():
            with ingest_bench.CORPORA[name].open(encoding="utf-8") as f:
                base += [json.loads(line) for line in f if line.strip()]
    with out.open("w", encoding="utf-8") as f:
        for i in range(size):
            record, copy = dict(base[i % len(base)]), i // len(base)
            if copy:
                field = "text" if "text" in record else "body"
                record["id"] = f"{record['id']}-copy{copy}"
                record[field] = f"{record[field]}\n\n(copy {copy})"
            f.write(json.dumps(record) + "\n")


def questions(limit: int) -> list[tuple[str, date]]:
    with QUESTIONS.open(encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [(q["query"], date.fromisoformat(q["question_date"])) for q in rows[:limit]]


def pct(times: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    p50, p95 = np.percentile(np.array(times) * 1000, [50, 95])
    return {"p50_ms": float(p50), "p95_ms": float(p95)}


def peak_rss_mb() -> float:
    """This process's (or its largest child's) peak RSS."""
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max(self_kb, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _settings(data_dir: str, url: str) -> Any:
    from rag.settings import Settings

    flags = {"data_dir": Path(data_dir), "llm": "extractive"}
    return Settings.load(flags={**flags, "chroma_url": url} if url else flags)


def child_ingest(corpus: str, data_dir: str) -> dict[str, Any]:
    started = time.perf_counter()
    counts = ingest_bench.run_rag(Path(corpus), Path(data_dir))
    return {**counts, "seconds": time.perf_counter() - started}


def child_query(data_dir: str, url: str, limit: str) -> dict[str, Any]:
    """Warm retrieval and extractive ask latency over the dev questions, library API."""
    from rag.engine import Asker

    asker = Asker(_settings(data_dir, url))
    assert asker.searcher is not None
    qs = questions(int(limit))
    asker.ask(qs[0][0], as_of=qs[0][1])  # warm-up: loads the BM25 side index
    search, ask = [], []
    for question, as_of in qs:
        started = time.perf_counter()
        asker.searcher.search(question, k=5, as_of=as_of)
        search.append(time.perf_counter() - started)
    for question, as_of in qs:
        started = time.perf_counter()
        asker.ask(question, as_of=as_of)
        ask.append(time.perf_counter() - started)
    return {"retrieval": pct(search), "ask": pct(ask)}


def child_baseline_query(data_dir: str, url: str, limit: str) -> dict[str, Any]:
    """A plain LlamaIndex vector retriever over the same collection, same embedding, k=5."""
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from rag.store import _client

    settings = _settings(data_dir, url)
    collection = _client(settings)[0].get_collection(settings.collection)
    index = VectorStoreIndex.from_vector_store(
        ChromaVectorStore(chroma_collection=collection),
        embed_model=ingest_bench.wordllama_embedding(),
    )
    retriever = index.as_retriever(similarity_top_k=5)
    times = []
    for question, _ in questions(int(limit)):
        started = time.perf_counter()
        retriever.retrieve(question)
        times.append(time.perf_counter() - started)
    return {"retrieval": pct(times)}


CHILDREN = {"ingest": child_ingest, "query": child_query, "baseline-query": child_baseline_query}


def in_child(kind: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh process; its result plus wall time and peak RSS (the
    larger of the child's own peak and its process tree's sampled summed peak)."""
    stdout, wall, tree_peak = ingest_bench.run_sampled(
        [sys.executable, __file__, "--child", kind, *args]
    )
    result: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = max(result["peak_rss_mb"], tree_peak)
    return {**result, "wall_s": wall}


def cold(data_dir: Path, url: str, runs: int) -> dict[str, Any]:
    """`rag ask` as a new process: time to first byte of output and total, p50/p95."""
    first, total = [], []
    for question, as_of in questions(runs):
        command = [str(RAG), "ask", question, "--as-of", as_of.isoformat(), "--llm", "extractive"]
        command += ["--data-dir", str(data_dir)] + (["--chroma-url", url] if url else [])
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        proc.stdout.read(1)
        first.append(time.perf_counter() - started)
        proc.stdout.read()
        if proc.wait():
            sys.exit(f"rag ask failed (exit {proc.returncode}): {' '.join(command)}")
        total.append(time.perf_counter() - started)
    baseline = [in_child("baseline-query", str(data_dir), url, "1")["wall_s"] for _ in range(runs)]
    return {"first_byte": pct(first), "total": pct(total), "baseline_total": pct(baseline)}


def queries(data_dir: Path, url: str, limit: int, runs: int) -> dict[str, Any]:
    """Warm and cold latency, ours and the baseline's, against one store."""
    warm = in_child("query", str(data_dir), url, str(limit))
    base = in_child("baseline-query", str(data_dir), url, str(limit))
    return {
        **warm,
        "baseline_retrieval": base["retrieval"],
        "retrieval_vs_baseline": warm["retrieval"]["p50_ms"] / base["retrieval"]["p50_ms"],
        "cold": cold(data_dir, url, runs),
    }


@contextmanager
def chroma_serving(path: Path) -> Iterator[str]:
    """`chroma run` over an existing store on a free loopback port (tests/servers.py)."""
    sys.path.insert(0, str(ROOT))
    from tests.servers import BIN, HOST, free_port, serve

    port = free_port()
    url = f"http://{HOST}:{port}"
    command = [str(BIN / "chroma"), "run", "--path", str(path), "--host", HOST, "--port", str(port)]
    with serve(command, f"{url}/api/v2/heartbeat"):
        yield url


def dir_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def child_catchup(data_dir: str, url: str, extra: str) -> dict[str, Any]:
    """Client A searches, client B adds a few articles, A catches up (see README, Scaling)."""
    from rag.bm25 import BM25Index, ensure_index
    from rag.ingest import ingest
    from rag.store import ChunkStore

    a = _settings(data_dir, url)
    b = a.replace(data_dir=Path(data_dir) / "client-b")
    store = ChunkStore.open(a)
    before = ensure_index(a, store)  # A's side index, in step
    report = ingest([extra], b)
    started = time.perf_counter()
    after = ensure_index(a, store)
    catchup = time.perf_counter() - started
    assert len(after.chunk_ids) == len(before.chunk_ids) + report.chunks
    store.bump_revision()
    started = time.perf_counter()
    ensure_index(a, store)
    unchanged = time.perf_counter() - started
    started = time.perf_counter()
    BM25Index.build(store, store.revision())
    rebuild = time.perf_counter() - started
    return {"added_articles": len(report.added), "catchup_s": catchup,
            "unchanged_s": unchanged, "rebuild_s": rebuild}  # fmt: skip


CHILDREN["catchup"] = child_catchup
ADDED = 10  # articles client B adds in the catch-up measurement


def measure(
    size: int, limit: int, runs: int, baseline: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything for one corpus size, in a temp dir that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"rag-bench-{size}-") as tmp:
        corpus, data_dir = Path(tmp) / "corpus.jsonl", Path(tmp) / "data"
        build_corpus(size + ADDED, corpus)
        lines = corpus.read_text(encoding="utf-8").splitlines(keepends=True)
        corpus.write_text("".join(lines[:size]), encoding="utf-8")
        extra = Path(tmp) / "added.jsonl"
        extra.write_text("".join(lines[size:]), encoding="utf-8")
        baseline = baseline or ingest_bench.measure("baseline", corpus)
        ours = in_child("ingest", str(corpus), str(data_dir))
        ingest = {
            **ours,
            "store_mb": dir_mb(data_dir),
            "articles_per_s": ours["articles"] / ours["wall_s"],
            "speedup_vs_baseline": baseline["wall_s"] / ours["wall_s"],
        }
        embedded = queries(data_dir, "", limit, runs)
        with chroma_serving(data_dir / "chroma") as url:
            server = queries(data_dir, url, limit, runs)
            server["catchup"] = in_child("catchup", str(data_dir), url, str(extra))
    return {"size": size, "ingest": ingest, "baseline_ingest": baseline, "embedded": embedded,
            "server": server}  # fmt: skip


def print_table(label: str, rows: list[dict[str, Any]]) -> None:
    print(f"\nmachine: {label}")
    print(
        f"{'size':>6} {'articles':>8} {'chunks':>7} {'ingest s':>8} {'base s':>7} {'speedup':>7} "
        f"{'art/s':>6} {'peak MB':>7} {'store MB':>8}"
    )
    for r in rows:
        i, b = r["ingest"], r["baseline_ingest"]
        print(
            f"{r['size']:>6} {i['articles']:>8} {i['chunks']:>7} {i['wall_s']:>8.1f} "
            f"{b['wall_s']:>7.1f} {i['speedup_vs_baseline']:>6.2f}x {i['articles_per_s']:>6.1f} "
            f"{i['peak_rss_mb']:>7.0f} {i['store_mb']:>8.0f}"
        )
    print(
        f"\n{'size':>6} {'mode':8} {'retr p50/p95 ms':>15} {'base p50':>8} {'ratio':>6} "
        f"{'ask p50/p95 ms':>15} {'peak MB':>7} {'cold 1st/total s':>16} {'base cold':>9}"
    )
    for r in rows:
        for mode in ("embedded", "server"):
            q, c = r[mode], r[mode]["cold"]
            retrieval, ask = q["retrieval"], q["ask"]
            print(
                f"{r['size']:>6} {mode:8} {retrieval['p50_ms']:>7.1f}/{retrieval['p95_ms']:<7.1f}"
                f" {q['baseline_retrieval']['p50_ms']:>8.1f} {q['retrieval_vs_baseline']:>5.2f}x"
                f" {ask['p50_ms']:>7.1f}/{ask['p95_ms']:<7.1f} {q['peak_rss_mb']:>7.0f}"
                f" {c['first_byte']['p50_ms'] / 1000:>7.2f}/{c['total']['p50_ms'] / 1000:<8.2f}"
                f" {c['baseline_total']['p50_ms'] / 1000:>8.2f}s"
            )


def print_catchup(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'size':>6} {'client catch-up s':>17} {'no change s':>11} {'full rebuild s':>14}")
    for r in rows:
        c = r["server"].get("catchup")
        if c:
            print(f"{r['size']:>6} {c['catchup_s']:>17.2f} {c['unchanged_s']:>11.2f} "
                  f"{c['rebuild_s']:>14.1f}")  # fmt: skip


def plot(label: str, rows: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["size"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    series = {
        "ingest time (s)": [
            ("rag", "ingest", "wall_s"),
            ("LlamaIndex", "baseline_ingest", "wall_s"),
        ],
        "query p50 (ms)": [
            ("retrieval", "embedded", "retrieval"),
            ("ask (extractive)", "embedded", "ask"),
            ("retrieval, server", "server", "retrieval"),
            ("LlamaIndex retrieval", "embedded", "baseline_retrieval"),
        ],
        "peak RSS (MB)": [
            ("rag ingest", "ingest", "peak_rss_mb"),
            ("rag query", "embedded", "peak_rss_mb"),
            ("LlamaIndex ingest", "baseline_ingest", "peak_rss_mb"),
        ],
    }
    for ax, (title, lines) in zip(axes, series.items(), strict=True):
        for name, section, key in lines:
            values = [r[section][key] for r in rows]
            values = [v["p50_ms"] if isinstance(v, dict) else v for v in values]
            ax.plot(sizes, values, marker="o", label=name)
        ax.set(xscale="log", title=title, xlabel="articles")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"rag benchmark — {label}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000,50000")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--questions", type=int, default=100, help="dev questions timed warm")
    parser.add_argument("--cold-runs", type=int, default=10, help="`rag ask` processes per store")
    parser.add_argument(
        "--baseline-from",
        type=Path,
        help="reuse the LlamaIndex ingest figures of an earlier results.json (same sizes)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = CHILDREN[args.child[0]](*args.child[1:])
        print(json.dumps({**result, "peak_rss_mb": peak_rss_mb()}))
        return
    if not (QUESTIONS.exists() and ingest_bench.CORPORA["newsqa"].exists()):
        print(f"skip: newsqa corpus and questions not found under {DATA} (set RAG_SHARED_DIR)")
        return
    label, rows = machine(), []
    print(f"machine: {label}")
    args.out.mkdir(parents=True, exist_ok=True)
    reused: dict[int, dict[str, Any]] = {}
    if args.baseline_from:
        earlier = json.loads(args.baseline_from.read_text(encoding="utf-8"))["rows"]
        reused = {r["size"]: {**r["baseline_ingest"], "reused_from": str(args.baseline_from)}
                  for r in earlier}  # fmt: skip
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        rows.append(measure(size, args.questions, args.cold_runs, reused.get(size)))
        print(f"{size} articles measured in {time.perf_counter() - started:.0f} s", flush=True)
        # written after every size, so a long run that is stopped keeps what it measured
        (args.out / "results.json").write_text(
            json.dumps({"machine": label, "rows": rows}, indent=2)
        )
        plot(label, rows, args.out / "scaling.png")
    print_table(label, rows)
    print_catchup(rows)
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'scaling.png'}")


if __name__ == "__main__":
    main()
