"""What the quote index costs ingest: the BBC corpus ingested into a fresh store with quotes
(as ``rag ingest`` does) and without (no extraction, no quote worker, no quote collection),
each in a process of its own, alternated ``--rounds`` times; the medians are compared, wall
time and CPU seconds (the ingest process and its workers).

    python bench/quote_ingest.py --rounds 2 --json bench/results/quote_ingest.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rag.quotes.worker import Found

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc" / "bbc_news.jsonl"


def run(data_dir: Path, quotes: bool) -> dict[str, float]:
    """One ingest of the BBC corpus into ``data_dir``."""
    import rag.ingest as ingesting
    import rag.store as storing
    from rag.settings import Settings

    if not quotes:
        ingesting.quotes_of = lambda articles: Found({}, {})
        ingesting.QuoteWorker = _NoQuotes  # type: ignore[misc,assignment]
        storing._quote_index = lambda *args, **kwargs: None
    settings = Settings.load(flags={"data_dir": data_dir})
    started = time.perf_counter()
    report = ingesting.ingest([str(BBC)], settings)
    seconds = time.perf_counter() - started
    cpu = sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )
    return {"seconds": seconds, "cpu_seconds": cpu, "articles": len(report.added)}


class _NoQuotes:
    """Ingest's quote worker as it was before quotes: no process, no quotes."""

    def send(self, articles: object) -> None:
        pass

    def receive(self) -> Found:
        return Found({}, {})

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the timings here")
    parser.add_argument(
        "--rounds", type=int, default=1, help="ingests of each kind, alternated (medians kept)"
    )
    parser.add_argument("--child", choices=["quotes", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.data_dir, args.child == "quotes")))
        return 0
    if not BBC.exists():
        print(f"BBC corpus not found at {BBC}", file=sys.stderr)
        return 1
    result: dict[str, Any] = {"corpus": BBC.name, "load_before": os.getloadavg()[0]}
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "quotes": []}
    for _ in range(args.rounds):
        for kind in ("plain", "quotes"):
            with tempfile.TemporaryDirectory() as tmp:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", kind, "--data-dir", tmp],
                    capture_output=True,
                    text=True,
                    check=True,
                )
            runs[kind].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"{kind:6} {runs[kind][-1]}  (load {os.getloadavg()[0]:.1f})")
    for kind, done in runs.items():
        result[kind] = {
            "seconds": round(statistics.median(r["seconds"] for r in done), 2),
            "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in done), 2),
            "articles": done[0]["articles"],
            "runs": [round(r["seconds"], 2) for r in done],
        }
    result["ratio"] = round(result["quotes"]["seconds"] / result["plain"]["seconds"], 2)
    result["cpu_ratio"] = round(result["quotes"]["cpu_seconds"] / result["plain"]["cpu_seconds"], 2)
    result["load_after"] = os.getloadavg()[0]
    print(f"with quotes / without: {result['ratio']}x (CPU {result['cpu_ratio']}x)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
