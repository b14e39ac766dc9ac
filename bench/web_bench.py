"""News from the web: 10 feeds of 50 pages each on 10 loopback servers, ingested by one
``rag.feeds.update``; then an update with nothing new.

Each server plays one outlet (its own host:port, so pages of different outlets are fetched at
the same time and pages of one outlet one after another). Pages are newspaper4k's CNN test page
(tests/fixtures/web) with a headline, canonical URL and first paragraph of their own, served
after ``--latency`` seconds (a stand-in for the network). Reports pages/s and where the time
went: the consumer waiting for pages (network) against chunking, embedding and writing.

Usage: python bench/web_bench.py [--feeds 10] [--pages 50] [--latency 0.1] [--host-delay 0]
       [--embedding wordllama] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the tests' loopback web server, as the tests import it

from webserver import Route, WebServer, serve_web  # noqa: E402
from websites import rss  # noqa: E402

from rag.feeds import add_feed, update  # noqa: E402
from rag.fetch import Fetcher, FetchPolicy, RobotsCache, robots_path  # noqa: E402
from rag.settings import Settings  # noqa: E402

PAGE = (ROOT / "tests" / "fixtures" / "web" / "cnn_article.html").read_text(encoding="utf-8")
CANONICAL = "http://www.cnn.com/2013/11/27/travel/weather-thanksgiving/index.html"
TITLE = "After storm, forecasters see smooth sailing for Thanksgiving"
LEAD = "Now that the storm has passed"


def page(outlet: int, i: int) -> str:
    """The CNN page made into story i of outlet n: its own headline, URL and lead."""
    url = f"http://outlet{outlet}.example/{i}.html"
    title = f"Outlet {outlet} story {i}: {TITLE}"
    lead = f"Outlet {outlet} reports in story {i} that {LEAD.lower()}"
    return PAGE.replace(CANONICAL, url).replace(TITLE, title).replace(LEAD, lead)


def publish(server: WebServer, outlet: int, pages: int, latency: float) -> str:
    items = []
    for i in range(pages):
        path = f"/news/{i}.html"
        server.add(path, Route(body=page(outlet, i), delay=latency))
        items.append((f"o{outlet}-{i}", server.url + path, f"Story {i}"))
    feed = rss(f"Outlet {outlet}", items)
    server.add("/feed.xml", Route(body=feed, content_type="application/rss+xml", etag='"v1"'))
    return server.url + "/feed.xml"


class TimedEmbedder:
    """The configured embedder, timing its calls."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.seconds = 0.0

    def embed(self, texts: list[str]) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - started


def warm_up(settings: Settings) -> None:
    """Import what an update needs first (chromadb, llama-index, trafilatura, the embedder),
    so the timings are of fetching and ingesting, not of Python imports."""
    import chromadb  # noqa: F401
    import trafilatura  # noqa: F401

    from rag.chunking import splitter
    from rag.embeddings import get_embedder

    splitter(settings.chunk_size, settings.chunk_overlap)
    get_embedder(settings).embed(["warm up"])


def nothing_new_from_the_terminal(data: Path, embedding: str) -> dict[str, Any]:
    """``rag feeds update`` as a cron job runs it: a new process, imports included."""
    env = {**os.environ, "RAG_DATA_DIR": str(data), "RAG_EMBEDDING": embedding,
           "RAG_ALLOW_PRIVATE_URLS": "1", "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
    rag = Path(sys.executable).parent / "rag"
    started = time.perf_counter()
    done = subprocess.run([str(rag), "feeds", "update", "--json"], env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip
    seconds = time.perf_counter() - started
    report = json.loads(done.stdout) if done.returncode == 0 else {}
    return {"seconds": round(seconds, 3), "exit": done.returncode,
            "update_s": report.get("seconds"), "pages": report.get("pages")}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="rag-web-bench-"))
    settings = Settings.load(flags={"data_dir": data, "embedding": args.embedding})
    policy = replace(FetchPolicy(), allow_private=True, host_delay=args.host_delay)
    warm_up(settings)
    from rag.embeddings import get_embedder

    embedder = TimedEmbedder(get_embedder(settings))
    with ExitStack() as stack:
        servers = [stack.enter_context(serve_web()) for _ in range(args.feeds)]
        with Fetcher(policy, RobotsCache(robots_path(settings))) as fetcher:
            for n, server in enumerate(servers):
                add_feed(settings, publish(server, n, args.pages, args.latency), fetcher=fetcher)
        with Fetcher(policy, RobotsCache(robots_path(settings))) as fetcher:
            first = update(settings, fetcher=fetcher, embedder=embedder)
        with Fetcher(policy, RobotsCache(robots_path(settings))) as fetcher:
            started = time.perf_counter()
            second = update(settings, fetcher=fetcher)
            nothing_new = time.perf_counter() - started
        cli = nothing_new_from_the_terminal(data, args.embedding)
    assert first.ingest is not None
    wall = first.seconds
    waited = first.crawl.waited_seconds
    return {
        "feeds": args.feeds,
        "pages": first.pages,
        "added": len(first.ingest.added),
        "failures": first.failures[:10],
        "latency_s": args.latency,
        "host_delay_s": args.host_delay,
        "embedding": args.embedding,
        "seconds": round(wall, 2),
        "pages_per_s": round(first.pages / wall, 1),
        # the ingesting thread's wall time: waiting for the next page vs. embedding vs. the
        # rest (chunking, BM25 tokens, Chroma writes, state files, and waiting for the GIL
        # that the fetch threads hold while trafilatura extracts pages)
        "consumer_waiting_for_pages_share": round(waited / wall, 3),
        "consumer_embedding_share": round(embedder.seconds / wall, 3),
        "consumer_other_share": round(1 - (waited + embedder.seconds) / wall, 3),
        # the fetch threads, summed over hosts (they run at once)
        "fetch_threads_network_s": round(first.crawl.network_seconds, 1),
        "fetch_threads_extract_s": round(first.crawl.read_seconds, 1),
        "network_s_per_wall_s": round(first.crawl.network_seconds / wall, 2),
        "nothing_new_update_s": round(nothing_new, 3),
        "nothing_new_requests": second.requests,
        "nothing_new_not_modified": second.not_modified,
        "nothing_new_cli": cli,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f} at the end",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=10)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--host-delay", type=float, default=0.0)
    parser.add_argument("--embedding", default="wordllama")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = run(args)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
