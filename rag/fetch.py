"""Fetching: web pages and feeds over HTTP, the way a careful crawler does it.

``Fetcher.get`` fetches one URL and returns a ``Page`` or raises ``FetchError`` with a one-line
reason. On the way it refuses non-http(s) URLs and private, loopback, link-local and metadata
addresses (checked for every redirect hop, before connecting and again on the connected socket)
unless ``FetchPolicy.allow_private``; obeys robots.txt (``RobotsCache``, persisted) and a delay
between requests to one host (one request at a time per host); follows at most
``max_redirects`` redirects and names a loop; retries 429 and 5xx a bounded number of times,
honouring ``Retry-After``; gives up on a silent server after ``read_timeout`` and on a slow drip
after ``deadline``; stops reading at ``max_bytes`` (after gzip/brotli decoding); and checks the
content type before reading the body. ``page_url`` gives a page's canonical URL without
tracking parameters.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

from rag.errors import FetchError
from rag.settings import Settings
from rag.version import __version__

if TYPE_CHECKING:  # httpx loads on first fetch: importing it also imports its CLI (rich)
    import httpx

MB = 1024 * 1024
USER_AGENT = f"rag-news/{__version__} (+https://pypi.org/project/rag-news/)"
ROBOTS_AGENT = "rag-news"
RETRY_STATUSES = {429, 500, 502, 503, 504}
Kind = Literal["html", "feed", "text"]

_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
    "application/json",
    "application/feed+json",
    "application/x-gzip",
    "application/gzip",
    "application/octet-stream",  # sitemap.xml.gz as some servers label it
}
ACCEPT: dict[Kind, set[str]] = {
    "html": _HTML_TYPES,
    "feed": _FEED_TYPES | _HTML_TYPES,  # a site's front page, to discover its feeds
    "text": {"text/plain"},
}


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and defensively to fetch; the defaults suit a cron job."""

    user_agent: str = USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0  # silence from the server
    deadline: float = 60.0  # one response, first byte to last (a slow drip ends here)
    max_retries: int = 2  # after a 429, a 5xx or a refused connection
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    max_retry_after: float = 60.0  # a longer Retry-After is a failure, not a wait
    max_redirects: int = 5
    max_bytes: int = 10 * MB
    host_delay: float = 1.0  # between requests to one host (robots.txt Crawl-delay may raise it)
    max_host_delay: float = 30.0
    robots: bool = True
    allow_private: bool = False
    allow_hosts: frozenset[str] = frozenset()  # host[:port]s fetched even on private addresses


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The policy the settings ask for (the defaults, and whether private URLs are allowed)."""
    return FetchPolicy(allow_private=settings.allow_private_urls)


def robots_path(settings: Settings) -> Path:
    """Where robots.txt files are cached between runs."""
    return settings.data_dir / "web" / "robots.json"


@dataclass
class Page:
    """A fetched response: body, final URL after redirects, validators for the next request."""

    url: str
    final_url: str
    status: int
    content: bytes = b""
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    seconds: float = 0.0  # spent on the network, waits included

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional request."""
        return self.status == 304

    def text(self) -> str:
        """The body as text: the declared charset, else a <meta> one, else UTF-8."""
        return decode_body(self.content, self.charset)


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def decode_body(data: bytes, charset: str | None = None) -> str:
    """Bytes of a page as text; undecodable bytes become U+FFFD rather than failing."""
    candidates = [charset] if charset else []
    if match := _META_CHARSET.search(data[:4096]):
        candidates.append(match.group(1).decode("ascii"))
    for name in [*candidates, "utf-8"]:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


# --- URLs ------------------------------------------------------------------------------------

TRACKING_PARAMS = {
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "smid",
    "ncid",
    "s_cid",
    "at_medium",
    "at_campaign",
    "wt.mc_id",
    "sr_share",
}


def is_url(text: str) -> bool:
    """True for something that looks like an http(s) URL rather than a path."""
    return bool(re.match(r"(?i)https?://", text.strip()))


def strip_tracking(url: str) -> str:
    """The URL without fragment and tracking parameters (utm_*, fbclid, ...), host lowercased."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    netloc = parts.netloc.lower()
    if parts.port in (80, 443) and parts.port == {"http": 80, "https": 443}.get(parts.scheme):
        netloc = netloc.rsplit(":", 1)[0]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def page_url(html: str, final_url: str) -> str:
    """A page's canonical URL: ``<link rel=canonical>``, else ``og:url``, else the final URL;
    tracking parameters removed."""
    from lxml import html as lxml_html

    found = ""
    try:
        root = lxml_html.document_fromstring(html[:500_000])
        for xpath in (
            "//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href",
            "//meta[@property='og:url']/@content",
        ):
            values = [str(v).strip() for v in root.xpath(xpath) if str(v).strip()]
            if values:
                found = urljoin(final_url, values[0])
                break
    except Exception:  # lxml raises several types on hopeless markup
        found = ""
    if not found or urlsplit(found).scheme not in ("http", "https") or not urlsplit(found).netloc:
        found = final_url
    return strip_tracking(found)


def host_key(url: str) -> str:
    """host[:port]: the unit of politeness (one request at a time, a delay between)."""
    return urlsplit(url).netloc.lower()


# --- addresses -------------------------------------------------------------------------------


def check_address(address: str, allow_private: bool = False) -> None:
    """Refuse an IP address that is not public (private, loopback, link-local, metadata...).

    With ``allow_private``, private and loopback addresses pass, but link-local ones never
    do: 169.254.169.254 and its kin are cloud metadata services (credentials), not news.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_link_local or ip in _METADATA:
        raise FetchError(f"refused: {address} is a link-local (metadata) address")
    if not allow_private and (not ip.is_global or ip.is_multicast):
        raise FetchError(f"refused: {address} is a private or local address")


_METADATA = {ipaddress.ip_address("fd00:ec2::254")}  # AWS's IPv6 metadata service


def check_url(url: str, allow_private: bool) -> None:
    """Refuse non-http(s) URLs, link-local hosts and, unless allowed, hosts that resolve to
    other non-public addresses."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"refused: only http and https URLs are fetched, not {parts.scheme!r}")
    if not parts.hostname:
        raise FetchError("not a valid URL (no host)")
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {parts.hostname}", passing=True) from exc
    for info in infos:
        check_address(str(info[4][0]), allow_private)


# --- robots.txt ------------------------------------------------------------------------------

ROBOTS_MAX_AGE = 24 * 3600  # RFC 9309: a cached robots.txt may be used for up to a day


@dataclass
class _Robots:
    fetched: float
    status: int
    text: str
    parser: RobotFileParser = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.parser = RobotFileParser()
        if self.status >= 500:  # RFC 9309: unreachable means disallow everything
            self.parser.parse(["User-agent: *", "Disallow: /"])
        elif self.status >= 400:  # no robots.txt: no rules
            self.parser.parse([])
        else:
            self.parser.parse(self.text.splitlines())

    def allows(self, url: str) -> bool:
        return self.parser.can_fetch(ROBOTS_AGENT, url)

    def delay(self) -> float:
        value = self.parser.crawl_delay(ROBOTS_AGENT)
        return float(value) if value else 0.0

    def sitemaps(self) -> list[str]:
        return list(self.parser.site_maps() or [])


class RobotsCache:
    """robots.txt per host, kept for a day; saved to a JSON file when given a path."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._entries: dict[str, _Robots] = {}
        self._lock = threading.Lock()
        if path and path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                for host, item in raw.items():
                    self._entries[host] = _Robots(item["fetched"], item["status"], item["text"])
            except (OSError, ValueError, KeyError, TypeError):
                self._entries = {}  # a damaged cache is refetched

    def get(self, host: str) -> _Robots | None:
        with self._lock:
            robots = self._entries.get(host)
        if robots and time.time() - robots.fetched < ROBOTS_MAX_AGE:
            return robots
        return None

    def put(self, host: str, status: int, text: str) -> _Robots:
        robots = _Robots(time.time(), status, text)
        with self._lock:
            if status < 500:  # a server error is retried next run, not remembered
                self._entries[host] = robots
        return robots

    def save(self) -> None:
        if not self.path:
            return
        with self._lock:
            data = {
                h: {"fetched": r.fetched, "status": r.status, "text": r.text}
                for h, r in self._entries.items()
            }
        write_atomic(self.path, json.dumps(data))


def write_atomic(path: Path, text: str) -> None:
    """Replace a file whole: a kill at any moment leaves the old or the new content."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- the fetcher -----------------------------------------------------------------------------


class _Host:
    """One host's turn-taking: a lock held during each request, when the last one ended, and
    when the host asked us to come back (Retry-After)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last = 0.0
        self.not_before = 0.0


class Fetcher:
    """An HTTP client that fetches one page at a time per host; safe to share between threads."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        robots: RobotsCache | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self.policy = policy or FetchPolicy()
        self.robots = robots or RobotsCache()
        p = self.policy
        timeout = httpx.Timeout(p.read_timeout, connect=p.connect_timeout)
        self._client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,  # each hop is checked here
            trust_env=False,  # a proxy would hide the address actually connected to
            headers={"User-Agent": p.user_agent},
            transport=transport,
        )
        self._hosts: dict[str, _Host] = {}
        self._hosts_lock = threading.Lock()
        self.requests = 0

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections and save the robots.txt cache."""
        self._client.close()
        self.robots.save()

    def get(
        self,
        url: str,
        kind: Kind = "html",
        *,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Page:
        """Fetch a URL (redirects followed and checked); 304 comes back as a ``Page``."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._fetch(url, kind, headers, self.policy.robots, self.policy.max_bytes)

    def _fetch(
        self, url: str, kind: Kind, headers: dict[str, str], robots: bool, max_bytes: int
    ) -> Page:
        started = time.monotonic()
        seen = {url}
        current = url
        for _ in range(self.policy.max_redirects + 1):
            check_url(current, self._private_ok(current))
            if robots and not self._robots_allow(current):
                raise FetchError("refused by robots.txt")
            page, location = self._with_retries(url, current, kind, headers, max_bytes)
            if location is None:
                assert page is not None
                page.seconds = time.monotonic() - started
                return page
            current = urljoin(current, location)
            if current in seen:
                raise FetchError(f"redirect loop at {current}")
            seen.add(current)
        raise FetchError(f"more than {self.policy.max_redirects} redirects")

    # one hop, with retries

    def _with_retries(
        self, url: str, current: str, kind: Kind, headers: dict[str, str], max_bytes: int
    ) -> tuple[Page | None, str | None]:
        wait = self.policy.backoff
        for attempt in range(self.policy.max_retries + 1):
            last = attempt == self.policy.max_retries
            try:
                return self._hop(url, current, kind, headers, max_bytes)
            except _Retry as retry:
                if last or retry.after > self.policy.max_retry_after:
                    raise FetchError(retry.reason, retry.status, passing=True) from None
                self._host(current).not_before = time.monotonic() + max(retry.after, wait)
                wait *= 2
        raise AssertionError("unreachable")

    def _hop(
        self, url: str, current: str, kind: Kind, headers: dict[str, str], max_bytes: int
    ) -> tuple[Page | None, str | None]:
        import httpx

        with self._turn(current):
            try:
                with self._client.stream("GET", current, headers=headers) as response:
                    with self._hosts_lock:
                        self.requests += 1
                    self._check_peer(response, self._private_ok(current))
                    status = response.status_code
                    if status in RETRY_STATUSES:
                        raise _Retry(_status_reason(response), _retry_after(response), status)
                    if 300 <= status < 400 and status != 304:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"HTTP {status} redirect without a Location")
                        return None, location
                    page = Page(
                        url=url,
                        final_url=str(response.url),
                        status=status,
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                        charset=response.charset_encoding,
                    )
                    if status == 304:
                        return page, None
                    if status >= 400:
                        raise FetchError(_status_reason(response), status)
                    page.content_type = _media_type(response)
                    _check_type(page.content_type, kind)
                    page.content = self._read_body(response, max_bytes)
                    return page, None
            except httpx.ConnectError as exc:
                raise _Retry(f"cannot connect ({_short(exc)})", 0.0) from None
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out ({type(exc).__name__})", passing=True) from None
            except httpx.HTTPError as exc:
                raise FetchError(f"HTTP error: {_short(exc)}", passing=True) from None

    def _read_body(self, response: httpx.Response, limit: int) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(f"too large ({_mb(int(declared))}; the limit is {_mb(limit)})")
        ends = time.monotonic() + self.policy.deadline
        body = bytearray()
        for piece in response.iter_bytes():  # decoded: a gzip bomb stops at the limit too
            body += piece
            if len(body) > limit:
                raise FetchError(f"too large (more than {_mb(limit)})")
            if time.monotonic() > ends:
                reason = f"too slow (not complete after {self.policy.deadline:g} s)"
                raise FetchError(reason, passing=True)
        return bytes(body)

    def _private_ok(self, url: str) -> bool:
        return self.policy.allow_private or host_key(url) in self.policy.allow_hosts

    @staticmethod
    def _check_peer(response: httpx.Response, allow_private: bool) -> None:
        """The address actually connected to must pass too (DNS can change its answer)."""
        stream = response.extensions.get("network_stream")
        peer = stream.get_extra_info("server_addr") if stream is not None else None
        if peer:
            check_address(str(peer[0]), allow_private)

    @contextmanager
    def _turn(self, url: str) -> Iterator[None]:
        """Wait for this host's turn: one request at a time, and the delay since the last."""
        key = host_key(url)
        host = self._host(url)
        with host.lock:
            robots = self.robots.get(key) if self.policy.robots else None
            delay = max(self.policy.host_delay, robots.delay() if robots else 0.0)
            delay = min(delay, self.policy.max_host_delay)
            pause = max(host.last + delay, host.not_before) - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                yield
            finally:
                host.last = time.monotonic()

    def _host(self, url: str) -> _Host:
        with self._hosts_lock:
            return self._hosts.setdefault(host_key(url), _Host())

    def _robots_allow(self, url: str) -> bool:
        key = host_key(url)
        robots = self.robots.get(key)
        if robots is None:
            robots = self._fetch_robots(url)
        return robots.allows(url)

    def _fetch_robots(self, url: str) -> _Robots:
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        key = host_key(url)
        try:
            page = self._fetch(robots_url, "text", {}, False, min(self.policy.max_bytes, MB))
            return self.robots.put(key, 200, page.text()[:500_000])
        except FetchError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                return self.robots.put(key, exc.status, "")  # no robots.txt: no rules
            if exc.status is None and str(exc).startswith("not plain text"):
                return self.robots.put(key, 404, "")  # an HTML page instead: no rules
            if str(exc).startswith("refused"):
                raise
            return self.robots.put(key, 503, "")  # unreachable: RFC 9309 says disallow all

    def sitemaps_of(self, url: str) -> list[str]:
        """The sitemaps a host's robots.txt lists."""
        if not self._robots_allow(url):
            return []
        robots = self.robots.get(host_key(url))
        return robots.sitemaps() if robots else []


class _Retry(Exception):
    def __init__(self, reason: str, after: float, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.status = status


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _check_type(media: str, kind: Kind) -> None:
    if media and media not in ACCEPT[kind]:
        wanted = {"html": "a web page", "feed": "a feed or web page", "text": "plain text"}[kind]
        raise FetchError(f"not {wanted} (content type {media})")


def _status_reason(response: httpx.Response) -> str:
    reason = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    after = response.headers.get("retry-after")
    return f"{reason} (Retry-After {after})" if after else reason


def _retry_after(response: httpx.Response) -> float:
    """Seconds the server asks us to wait: a number or an HTTP date; 0 when absent."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return 0.0
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return 0.0


def _mb(size: int) -> str:
    return f"{size / MB:.3g} MB"


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
