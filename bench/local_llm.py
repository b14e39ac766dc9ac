"""A cold ``rag ask`` with a local model, as a user runs it: time to the first word of the
answer, total time and peak RSS of the process, for each thread count asked for.

Each run is a fresh process (``rag ask QUESTION --llm local:MODEL``) over a store holding
``seeds/`` (ingested once into a temporary data dir), so the figures include start-up, loading
the model, reading the sources and generating. The first word is the first byte the answer
streams to stdout. The load average before each run is recorded: llama.cpp's threads spin, and
a figure taken on a busy machine says little about a quiet one.

Usage: python bench/local_llm.py [--model qwen2.5-coder-1.5b] [--threads 1 2] [--repeat 1]
       [--question "What did the Kremlin say?"] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def cold_ask(question: str, model: str, data_dir: Path, threads: int) -> dict[str, Any]:
    env = {**os.environ, "RAG_LLM_THREADS": str(threads), "ANONYMIZED_TELEMETRY": "False"}
    command = ["rag", "ask", question, "--llm", f"local:{model}", "--data-dir", str(data_dir)]
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    first = proc.stdout.read(1)
    first_word = time.perf_counter() - started
    out = first + proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    total = time.perf_counter() - started
    err = proc.stderr.read() if proc.stderr else b""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"rag ask failed ({proc.returncode}): {err.decode(errors='replace')}")
    return {
        "threads": threads,
        "load_before": round(load, 2),
        "first_word_s": round(first_word, 2),
        "total_s": round(total, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux reports KiB
        "answer": out.decode(errors="replace").strip().splitlines()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--question", default="What did the Kremlin say?")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="rag-local-bench-") as tmp:
        data_dir = Path(tmp)
        subprocess.run(
            ["rag", "ingest", str(ROOT / "seeds"), "--data-dir", str(data_dir)],
            check=True,
            capture_output=True,
        )
        runs = [
            cold_ask(args.question, args.model, data_dir, threads)
            for _ in range(args.repeat)
            for threads in args.threads
        ]
    result = {
        "question": args.question,
        "model": args.model,
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "runs": runs,
    }
    for run in runs:
        print(
            f"threads {run['threads']}: first word {run['first_word_s']:.1f} s, "
            f"total {run['total_s']:.1f} s, peak RSS {run['peak_rss_mb']} MB "
            f"(load {run['load_before']:.1f} before)"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
