"""Pages: web pages in, ``Article``s out, several hosts at once and one request per host.

``fetch_article`` fetches one page and reads it with the same HTML reader as files; the
article's URL (and so its id) is the page's canonical URL without tracking parameters, and a
feed entry's fields fill what the page lacks. ``crawl`` runs many ``PageJob``s on a thread per
host (at most ``hosts`` at a time) and yields results as they come, so a caller can embed one
batch while the next pages download.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from rag.errors import FetchError
from rag.fetch import Fetcher, Page, host_key, page_url
from rag.files import ReadFailure, Unreadable
from rag.readers import html_article
from rag.types import Article

HOSTS_AT_ONCE = 8


@dataclass
class PageJob:
    """One page to fetch; ``fallback`` holds a feed entry's title, published, source, authors."""

    url: str
    fallback: dict[str, Any] = field(default_factory=dict)
    tag: Any = None  # the caller's own reference (e.g. feed entries)


def fetch_article(fetcher: Fetcher, url: str, fallback: Mapping[str, Any] | None = None) -> Article:
    """Fetch one page and read its article; ``FetchError`` or ``Unreadable`` says why not."""
    return read_page(fetcher.get(url, "html"), fallback)


def read_page(page: Page, fallback: Mapping[str, Any] | None = None) -> Article:
    """The article of a fetched page, under its canonical URL."""
    html = page.text()
    canonical = page_url(html, page.final_url)
    article = html_article(html, path=canonical, url=canonical, fallback=fallback)
    own_id = _query_id(canonical)
    if own_id:
        article.article_id = own_id
    return article


def _query_id(url: str) -> str | None:
    """Pages told apart only by their query (``story.php?id=7``) get an id that keeps it.

    Other pages get the usual id from the URL without its query, as files with a URL do.
    """
    if not urlsplit(url).query:
        return None
    return "url-" + hashlib.sha1(url.encode("utf-8")).hexdigest()[:16]


@dataclass
class PageFailure(ReadFailure):
    """A page that could not be fetched or read; ``passing`` when a later try may succeed."""

    passing: bool = False


@dataclass
class CrawlStats:
    """Where a crawl's time went, for reports and the bench."""

    pages: int = 0
    network_seconds: float = 0.0  # summed over hosts (they overlap)
    read_seconds: float = 0.0  # extracting articles from HTML, summed over hosts
    waited_seconds: float = 0.0  # the consumer waiting for the next page


def crawl(
    fetcher: Fetcher,
    jobs: list[PageJob],
    *,
    hosts: int = HOSTS_AT_ONCE,
    stats: CrawlStats | None = None,
    idle: Callable[[], None] | None = None,
) -> Iterator[tuple[PageJob, Article | ReadFailure]]:
    """Fetch and read every job's page; one thread per host, results in completion order.

    ``idle`` is called whenever no page is ready yet (a good moment to embed the last ones).
    """
    stats = stats if stats is not None else CrawlStats()
    by_host: dict[str, list[PageJob]] = {}
    for job in jobs:
        by_host.setdefault(host_key(job.url), []).append(job)
    if not by_host:
        return
    results: queue.Queue[tuple[PageJob, Article | ReadFailure] | None] = queue.Queue(maxsize=64)
    stop = threading.Event()
    lock = threading.Lock()

    def put(item: tuple[PageJob, Article | ReadFailure] | None) -> None:
        while not stop.is_set():
            try:
                results.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def work(host_jobs: list[PageJob]) -> None:
        try:
            for job in host_jobs:
                if stop.is_set():
                    return
                put((job, _one(fetcher, job, stats, lock)))
        finally:
            put(None)

    executor = ThreadPoolExecutor(max_workers=max(1, min(hosts, len(by_host))))
    try:
        for host_jobs in by_host.values():
            executor.submit(work, host_jobs)
        remaining = len(by_host)
        while remaining:
            if idle and results.empty():
                idle()
            started = time.perf_counter()
            item = results.get()
            stats.waited_seconds += time.perf_counter() - started
            if item is None:
                remaining -= 1
                continue
            stats.pages += 1
            yield item
    finally:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)


def _one(
    fetcher: Fetcher, job: PageJob, stats: CrawlStats, lock: threading.Lock
) -> Article | ReadFailure:
    started = time.perf_counter()
    fetched = None
    try:
        page = fetcher.get(job.url, "html")
        fetched = time.perf_counter()
        return read_page(page, job.fallback)
    except FetchError as exc:
        return PageFailure(job.url, str(exc), passing=exc.passing)
    except Unreadable as exc:
        return PageFailure(job.url, exc.reason)
    except Exception as exc:  # one bad page must not stop the crawl
        return PageFailure(job.url, f"unexpected error: {type(exc).__name__}: {exc}")
    finally:
        ended = time.perf_counter()
        with lock:
            stats.network_seconds += (fetched or ended) - started
            stats.read_seconds += ended - fetched if fetched else 0.0
