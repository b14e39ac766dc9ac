"""Soak: many questions through the library API in one process, with RSS sampled as it goes.

Builds a store from invented articles (tests/corpus.py), opens one ``Asker`` and asks N
distinct questions about them (default 1,000, extractive answerer; with --fake-llm, answers
stream from tests/fake_openai.py on loopback through the OpenAI client), recording the
resident set size every 50. Prints the curve and writes it as JSON. Stable
memory means the curve flattens after warm-up: compare the first sample after it with the last.

Usage: python bench/soak.py [--questions 1000] [--every 50] [--articles 300] [--fake-llm]
                            [--out bench/out/soak.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from corpus import TOPICS, article, write_jsonl  # noqa: E402

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logging.basicConfig(level=logging.WARNING)  # before wordllama sets INFO


def rss_mb() -> float:
    """Resident set size of this process, in MB (Linux /proc, else psutil)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        import psutil

        return float(psutil.Process().memory_info().rss) / 1e6


def question(n: int, articles: int) -> str:
    """Distinct questions, each about one invented article, in five forms."""
    art = article(n % articles)
    town, topic = art["title"].split()[:2]
    person = art["text"].split(", ")[1].split(" said")[0]
    forms = [
        f"What did the {town} {topic} office do, according to {person}?",
        f"What figure did {person} cite in case number {n % articles}?",
        f"Who said the {town} {topic} office {dict(TOPICS)[topic]}?",
        f"When did {person} speak about the {town} {topic} office?",
        f"What did residents ask about at the public meeting in {town}?",
    ]
    return forms[n % len(forms)]


def soak(
    data: Path,
    questions: int,
    every: int,
    llm_url: str | None,
    sampled: Any = None,
    articles: int = 300,
) -> dict[str, Any]:
    from rag.engine import Asker
    from rag.settings import Settings

    flags = {"data_dir": data, "llm": "openai:fake", "openai_base_url": llm_url}
    settings = Settings.load(flags=flags if llm_url else {"data_dir": data, "llm": "extractive"})
    asker = Asker(settings)
    samples: list[dict[str, float]] = [{"questions": 0, "rss_mb": rss_mb(), "seconds": 0.0}]
    refused = 0
    started = time.perf_counter()
    for n in range(1, questions + 1):
        answer = asker.ask(question(n, articles), as_of=date(2024, 12, 31))
        refused += answer.refused
        if n % every == 0:
            if sampled:
                sampled()
            gc.collect()
            samples.append(
                {"questions": n, "rss_mb": rss_mb(), "seconds": time.perf_counter() - started}
            )
            print(f"{n:5d} questions  rss {samples[-1]['rss_mb']:7.1f} MB", flush=True)
    warm = samples[1]["rss_mb"]
    last = samples[-1]["rss_mb"]
    return {
        "llm": asker.answerer.name if asker.answerer else "",
        "questions": questions,
        "refused": refused,
        "seconds": round(time.perf_counter() - started, 1),
        "rss_first_mb": round(samples[0]["rss_mb"], 1),
        "rss_after_first_batch_mb": round(warm, 1),
        "rss_last_mb": round(last, 1),
        "rss_max_mb": round(max(s["rss_mb"] for s in samples), 1),
        "growth_after_first_batch_mb": round(last - warm, 1),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--fake-llm", action="store_true", help="answer with the fake server")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "soak.json")
    args = parser.parse_args()

    from rag.ingest import ingest
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        corpus = write_jsonl(Path(tmp) / "corpus.jsonl", args.articles)
        report = ingest([str(corpus)], Settings.load(flags={"data_dir": data}))
        print(f"ingested {len(report.added)} articles ({report.chunks} chunks)", flush=True)
        if args.fake_llm:
            from fake_openai import serve_fake_openai

            with serve_fake_openai() as server:
                # the fake server runs in this process: drop its request log at each sample
                result = soak(data, args.questions, args.every, server.url, server.requests.clear)
        else:
            result = soak(data, args.questions, args.every, None)
    result["corpus"] = f"{args.articles} invented articles"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        f"rss: start {result['rss_first_mb']} MB, after {args.every} questions "
        f"{result['rss_after_first_batch_mb']} MB, end {result['rss_last_mb']} MB, "
        f"max {result['rss_max_mb']} MB; {result['questions']} questions in "
        f"{result['seconds']} s; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
