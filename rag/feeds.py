"""Feeds: the list of feeds to follow, what each has already given us, and ``update``.

The list lives in ``DATA_DIR/web/feeds.json`` (``add_feed``, ``remove_feed``, ``list_feeds``).
Each feed's state (``FeedState``: validators for conditional requests, ids of entries already
ingested, entries still to fetch) is a JSON file replaced atomically. ``update`` asks every feed
for news with a conditional request (several hosts at once), records new entries as pending
before fetching any page, then fetches the pages (``rag.pages.crawl``) while earlier ones are
embedded, and marks an entry seen only once its article is in the store. A run killed at any
moment therefore loses nothing (pending entries are fetched next time, even after a 304) and
duplicates nothing (a page fetched again is the same article, unchanged).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, FetchError
from rag.feedparsing import Document, Entry, parse_document
from rag.fetch import Fetcher, RobotsCache, fetch_policy, host_key, robots_path, strip_tracking
from rag.fetch import write_atomic as _write_atomic
from rag.files import ReadFailure
from rag.pages import CrawlStats, PageFailure, PageJob, crawl
from rag.settings import Settings, config_table
from rag.types import Article

if TYPE_CHECKING:  # the store and embedders load only when there are pages to ingest
    from rag.embeddings import Embedder
    from rag.ingest import IngestReport

MAX_TRIES = 3  # a page that fails for a passing reason is tried in this many updates
MAX_NEW = 500  # entries taken from one feed in one update (the rest wait for the next)
MAX_SITEMAPS = 20  # sitemaps read from one sitemap index
SEEN_KEPT = 10_000  # ids remembered per feed


@dataclass
class Feed:
    """A feed to follow."""

    name: str
    url: str
    title: str = ""
    configured: bool = False  # from the config file's [feeds] table


# --- the list --------------------------------------------------------------------------------


def web_dir(settings: Settings) -> Path:
    return settings.data_dir / "web"


def _list_path(settings: Settings) -> Path:
    return web_dir(settings) / "feeds.json"


def load_feeds(settings: Settings) -> list[Feed]:
    """The feeds followed: the config file's ``[feeds]`` (name = "URL"), then those added."""
    configured = [
        Feed(str(name), str(url), configured=True) for name, url in config_table("feeds").items()
    ]
    path = _list_path(settings)
    if not path.is_file():
        return configured
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        added = [Feed(str(f["name"]), str(f["url"]), str(f.get("title", ""))) for f in raw]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"cannot read the feed list {path}: {exc}") from exc
    names = {f.name for f in configured}
    return configured + [f for f in added if f.name not in names]


def _save_feeds(settings: Settings, feeds: list[Feed]) -> None:
    data = [{"name": f.name, "url": f.url, "title": f.title} for f in feeds if not f.configured]
    _write_atomic(_list_path(settings), json.dumps(data, indent=1))


def find_feed(feeds: list[Feed], key: str) -> Feed | None:
    """A feed by name or URL."""
    return next((f for f in feeds if key in (f.name, f.url)), None)


def add_feed(
    settings: Settings, url: str, name: str | None = None, fetcher: Fetcher | None = None
) -> Feed:
    """Follow a feed, a sitemap, or a site (whose advertised feed is found and followed)."""
    feeds = load_feeds(settings)
    with _client(settings, fetcher) as client:
        try:
            doc, found = _discover(client, url)
        except FetchError as exc:
            if str(exc).startswith("no feed found"):
                raise
            raise FetchError(f"{url}: {exc}", exc.status, exc.passing) from exc
    existing = find_feed(feeds, found)
    if existing:
        raise ConfigError(f"already following {found} as {existing.name!r}")
    name = name or _unique(_slug(doc.title or host_key(found)), {f.name for f in feeds})
    if find_feed(feeds, name):
        raise ConfigError(f"a feed is already named {name!r}")
    feed = Feed(name, found, doc.title)
    _save_feeds(settings, [*feeds, feed])
    return feed


def _discover(client: Fetcher, url: str) -> tuple[Document, str]:
    """The feed at url, or the first feed a page at url advertises."""
    page = client.get(url, "feed")
    doc = parse_document(page.content, page.final_url, page.content_type)
    if doc.kind != "html":
        return doc, url
    for link in doc.links:
        try:
            found = client.get(link, "feed")
            feed = parse_document(found.content, found.final_url, found.content_type)
        except FetchError:
            continue
        if feed.kind != "html":
            return feed, link
    raise FetchError(f"no feed found at {url} (the page advertises none that can be read)")


def remove_feed(settings: Settings, key: str) -> Feed:
    """Stop following a feed (by name or URL) and forget its state."""
    feeds = load_feeds(settings)
    feed = find_feed(feeds, key)
    if feed is None:
        raise ConfigError(f"no feed named {key!r} (see 'rag feeds list')")
    if feed.configured:
        raise ConfigError(f"feed {feed.name!r} is defined in the config file; remove it there")
    _save_feeds(settings, [f for f in feeds if f is not feed])
    _state_path(settings, feed).unlink(missing_ok=True)
    return feed


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "feed"


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    return candidate


# --- per-feed state --------------------------------------------------------------------------


@dataclass
class FeedState:
    """What one feed has given us: validators per URL, seen ids, entries still to fetch."""

    path: Path
    validators: dict[str, dict[str, str]] = field(default_factory=dict)
    seen: list[str] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)
    checked: float = 0.0
    _seen_set: set[str] = field(default_factory=set, repr=False)

    @classmethod
    def load(cls, path: Path) -> FeedState:
        if not path.is_file():
            return cls(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            state = cls(
                path,
                validators=dict(raw.get("validators", {})),
                seen=list(raw.get("seen", [])),
                pending=[Entry.from_dict(e) for e in raw.get("pending", [])],
                checked=float(raw.get("checked", 0.0)),
            )
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot read feed state {path}: {exc}") from exc
        state._seen_set = set(state.seen)
        return state

    def save(self) -> None:
        data = {
            "validators": self.validators,
            "seen": self.seen[-SEEN_KEPT:],
            "pending": [e.to_dict() for e in self.pending],
            "checked": self.checked,
        }
        _write_atomic(self.path, json.dumps(data))

    def add_new(self, entries: list[Entry], limit: int) -> int:
        """Queue the entries not seen or queued before (at most ``limit``); how many."""
        queued = {e.id for e in self.pending}
        new = 0
        for entry in entries:
            if new >= limit:
                break
            if entry.id not in self._seen_set and entry.id not in queued:
                self.pending.append(entry)
                queued.add(entry.id)
                new += 1
        return new

    def done(self, entry: Entry) -> None:
        """The entry's page is in the store (or given up on): never fetch it again."""
        self.pending = [e for e in self.pending if e.id != entry.id]
        if entry.id not in self._seen_set:
            self.seen.append(entry.id)
            self._seen_set.add(entry.id)


def _state_path(settings: Settings, feed: Feed) -> Path:
    digest = hashlib.sha1(feed.url.encode("utf-8")).hexdigest()[:16]
    return web_dir(settings) / "state" / f"{digest}.json"


# --- update ----------------------------------------------------------------------------------


@dataclass
class UpdateProgress:
    """Where an update is, for a progress display."""

    feeds_done: int = 0
    feeds: int = 0
    pages_done: int = 0
    pages: int = 0
    articles: int = 0  # in the store (added, updated, unchanged or duplicates)


@dataclass
class UpdateReport:
    """What ``update`` did; failures are one line each, prefixed by the feed or page URL."""

    feeds: int = 0
    not_modified: int = 0
    new_entries: int = 0
    pages: int = 0
    ingest: IngestReport | None = None
    failures: list[str] = field(default_factory=list)
    crawl: CrawlStats = field(default_factory=CrawlStats)
    requests: int = 0
    seconds: float = 0.0

    @property
    def added(self) -> int:
        return len(self.ingest.added) + len(self.ingest.updated) if self.ingest else 0

    @property
    def ok(self) -> bool:
        return not self.failures


Progress = Callable[[UpdateProgress], None]


def update(
    settings: Settings,
    names: list[str] | None = None,
    *,
    fetcher: Fetcher | None = None,
    embedder: Embedder | None = None,
    progress: Progress | None = None,
    hosts: int = 8,
) -> UpdateReport:
    """Check feeds for new entries and ingest their pages; see the module docstring."""
    started = time.perf_counter()
    feeds = _selected(settings, names)
    report = UpdateReport(feeds=len(feeds))
    shown = UpdateProgress(feeds=len(feeds))
    states = {f.name: FeedState.load(_state_path(settings, f)) for f in feeds}
    with _client(settings, fetcher) as client:
        _check_all(client, feeds, states, report, shown, progress, hosts)
        jobs = _jobs(feeds, states)
        shown.pages = len(jobs)
        if progress:
            progress(shown)
        if jobs:
            report.ingest = _ingest_pages(
                client, jobs, settings, embedder, report, shown, progress, hosts
            )
        report.requests = client.requests
    report.seconds = time.perf_counter() - started
    return report


def _selected(settings: Settings, names: list[str] | None) -> list[Feed]:
    feeds = load_feeds(settings)
    if not names:
        return feeds
    chosen = []
    for key in names:
        feed = find_feed(feeds, key)
        if feed is None:
            raise ConfigError(f"no feed named {key!r} (see 'rag feeds list')")
        chosen.append(feed)
    return chosen


def _client(settings: Settings, fetcher: Fetcher | None) -> AbstractContextManager[Fetcher]:
    if fetcher is not None:
        return nullcontext(fetcher)
    return Fetcher(fetch_policy(settings), RobotsCache(robots_path(settings)))


def _check_all(
    client: Fetcher,
    feeds: list[Feed],
    states: dict[str, FeedState],
    report: UpdateReport,
    shown: UpdateProgress,
    progress: Progress | None,
    hosts: int,
) -> None:
    """Ask every feed for news (one thread per host); new entries become pending."""
    by_host: dict[str, list[Feed]] = {}
    for feed in feeds:
        by_host.setdefault(host_key(feed.url), []).append(feed)
    lock = threading.Lock()

    def check_host(host_feeds: list[Feed]) -> None:
        for feed in host_feeds:
            state = states[feed.name]
            try:
                new, fresh = _check(client, feed, state)
                problem = None
            except FetchError as exc:
                new, fresh, problem = 0, True, f"{feed.url}: {exc}"
            state.checked = time.time()
            state.save()
            with lock:
                report.new_entries += new
                report.not_modified += not fresh
                if problem:
                    report.failures.append(problem)
                shown.feeds_done += 1
                if progress:
                    progress(shown)

    if not by_host:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(hosts, len(by_host)))) as pool:
        for future in [pool.submit(check_host, fs) for fs in by_host.values()]:
            future.result()


def _check(client: Fetcher, feed: Feed, state: FeedState) -> tuple[int, bool]:
    """(new entries, whether anything came back other than 304) for one feed."""
    doc = _conditional(client, feed.url, state)
    if doc is None:
        return 0, False
    entries = list(doc.entries)
    if doc.kind == "sitemapindex":
        for link in doc.links[:MAX_SITEMAPS]:
            child = _conditional(client, link, state)
            if child is not None:
                entries.extend(child.entries)
    elif doc.kind == "html":
        raise FetchError("no longer a feed (an HTML page came back)")
    return state.add_new(entries, MAX_NEW), True


def _conditional(client: Fetcher, url: str, state: FeedState) -> Document | None:
    """The document at url, or None when it has not changed since the last update."""
    known = state.validators.get(url, {})
    page = client.get(url, "feed", etag=known.get("etag"), last_modified=known.get("modified"))
    if page.not_modified:
        return None
    doc = parse_document(page.content, page.final_url, page.content_type)
    fresh = {"etag": page.etag or "", "modified": page.last_modified or ""}
    state.validators[url] = {k: v for k, v in fresh.items() if v}
    return doc


def _jobs(feeds: list[Feed], states: dict[str, FeedState]) -> list[PageJob]:
    """One job per page, however many feeds link it; tag = [(state, entry), ...]."""
    jobs: dict[str, PageJob] = {}
    for feed in feeds:
        state = states[feed.name]
        for entry in state.pending:
            key = strip_tracking(entry.link)
            job = jobs.get(key)
            if job is None:
                job = jobs[key] = PageJob(entry.link, entry.fallback(), [])
            job.tag.append((state, entry))
    return list(jobs.values())


def _ingest_pages(
    client: Fetcher,
    jobs: list[PageJob],
    settings: Settings,
    embedder: Embedder | None,
    report: UpdateReport,
    shown: UpdateProgress,
    progress: Progress | None,
    hosts: int,
) -> IngestReport:
    from rag.ingest import write_articles

    owners: dict[str, list[tuple[FeedState, Entry]]] = {}

    def items(run: Any) -> Iterator[Article | ReadFailure]:
        pages = crawl(client, jobs, hosts=hosts, stats=report.crawl, idle=run.flush)
        for job, result in pages:
            report.pages += 1
            shown.pages_done += 1
            if isinstance(result, Article):
                owners.setdefault(result.article_id, []).extend(job.tag)
            else:
                _failed(job, result)
            if progress:
                progress(shown)
            yield result

    def done(articles: list[Article]) -> None:
        touched: dict[int, FeedState] = {}
        for article in articles:
            for state, entry in owners.pop(article.article_id, []):
                state.done(entry)
                touched[id(state)] = state
        for state in touched.values():
            state.save()
        shown.articles += len(articles)

    ingest = write_articles(items, settings, embedder=embedder, on_done=done, batch=32)
    report.failures.extend(str(f) for f in ingest.failed)
    return ingest


def _failed(job: PageJob, failure: ReadFailure) -> None:
    """A page that failed for good is given up; a passing failure is tried next time."""
    passing = isinstance(failure, PageFailure) and failure.passing
    touched: dict[int, FeedState] = {}
    for state, entry in job.tag:
        entry.tries += 1
        if not passing or entry.tries >= MAX_TRIES:
            state.done(entry)
        touched[id(state)] = state
    for state in touched.values():
        state.save()


@dataclass
class FeedInfo:
    """A row of ``rag feeds list``."""

    name: str
    url: str
    title: str
    seen: int
    pending: int
    checked: str | None  # ISO time of the last update


def list_feeds(settings: Settings) -> list[FeedInfo]:
    """The feeds followed, with what each has given so far."""
    rows = []
    for feed in load_feeds(settings):
        state = FeedState.load(_state_path(settings, feed))
        checked = (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(state.checked))
            if state.checked
            else None
        )
        rows.append(
            FeedInfo(feed.name, feed.url, feed.title, len(state.seen), len(state.pending), checked)
        )
    return rows
