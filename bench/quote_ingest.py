"""What the quote index costs ingest: the BBC corpus ingested into a fresh store with quotes
(as ``rag ingest`` does) and without (no extraction, no quote collection), each in a
process of its own, one after the other.

    python bench/quote_ingest.py --json bench/results/quote_ingest.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BBC = Path(__file__).resolve().parents[2] / "shared" / "data" / "bbc" / "bbc_news.jsonl"


def run(data_dir: Path, quotes: bool) -> dict[str, float]:
    """One ingest of the BBC corpus into ``data_dir``."""
    from rag.ingest import ingest
    from rag.settings import Settings

    if not quotes:
        import rag.ingest
        import rag.store

        rag.ingest.quotes_of = lambda articles: {}
        rag.ingest.QuoteWorker = _NoQuotes  # type: ignore[misc,assignment]
        rag.store._quote_index = lambda *args, **kwargs: None
    settings = Settings.load(flags={"data_dir": data_dir})
    started = time.perf_counter()
    report = ingest([str(BBC)], settings)
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

    def receive(self) -> dict[str, list[object]]:
        return {}

    def close(self) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the timings here")
    parser.add_argument("--child", choices=["quotes", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run(args.data_dir, args.child == "quotes")))
        return 0
    if not BBC.exists():
        print(f"BBC corpus not found at {BBC}", file=sys.stderr)
        return 1
    result: dict[str, object] = {"corpus": BBC.name, "load_before": os.getloadavg()[0]}
    for kind in ("plain", "quotes"):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--data-dir", tmp],
                capture_output=True,
                text=True,
                check=True,
            )
            result[kind] = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{kind:6} {result[kind]}")
    plain = result["plain"]["seconds"]  # type: ignore[index]
    quotes = result["quotes"]["seconds"]  # type: ignore[index]
    result["ratio"] = round(quotes / plain, 2)
    result["load_after"] = os.getloadavg()[0]
    print(f"with quotes / without: {result['ratio']}x")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
