"""Feed documents: what a feed URL returns, parsed into entries, safely.

``parse_document`` reads RSS 0.9x/1.0/2.0 and Atom (feedparser), JSON Feed, sitemaps and
sitemap indexes (plain or gzip, news sitemap fields included), and HTML pages, whose
``<link rel=alternate>`` feeds are returned for discovery. A feed is someone else's data: XML
that declares entities (the billion-laughs bomb) is refused before parsing, sitemaps are parsed
without entities, DTDs or network access, gzip is decompressed only up to a limit, and any
failure is a ``FeedError`` with a one-line reason.
"""

from __future__ import annotations

import io
import json
import re
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal
from urllib.parse import urljoin

from rag.errors import FetchError

MAX_XML_BYTES = 50 * 1024 * 1024  # a sitemap may hold 50,000 URLs in 50 MB
Kind = Literal["feed", "sitemap", "sitemapindex", "html"]
FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
    "text/xml",
    "application/xml",
)


_ENTITY = re.compile(rb"<!ENTITY", re.I)


class FeedError(FetchError):
    """A document that is not a feed we can read safely."""


@dataclass
class Entry:
    """One item of a feed or sitemap: the page to fetch and what the feed says about it."""

    id: str
    link: str
    title: str = ""
    published: str | None = None
    authors: list[str] = field(default_factory=list)
    outlet: str = ""
    tries: int = 0  # failed fetches so far

    def fallback(self) -> dict[str, Any]:
        """Fields that fill what the page lacks."""
        return {
            "title": self.title,
            "published": self.published,
            "authors": self.authors,
            "source": self.outlet,
        }

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Entry:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class Document:
    """A parsed feed, sitemap or page: its entries, and the URLs it points to (a sitemap
    index's sitemaps, a page's feeds)."""

    kind: Kind
    title: str = ""
    entries: list[Entry] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


def parse_document(data: bytes, url: str, content_type: str = "") -> Document:
    """Sniff and parse what a feed URL returned."""
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"{", b"[")):
        return _json_feed(data, url)
    if _ENTITY.search(data):
        raise FeedError("refused: the XML declares entities (an entity-expansion bomb?)")
    if b"<urlset" in head or b"<sitemapindex" in head:
        return _sitemap(data, url)
    if content_type in ("text/html", "application/xhtml+xml") or head.startswith(
        (b"<!doctype html", b"<html")
    ):
        return _html(data, url)
    return _feed(data, url, content_type)


def gunzip(data: bytes, limit: int = MAX_XML_BYTES) -> bytes:
    """Decompress gzip, refusing more than ``limit`` bytes of output (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise FeedError(f"damaged gzip data ({exc})") from exc
    if len(out) > limit:
        raise FeedError(f"too large once decompressed (more than {limit // 1024 // 1024} MB)")
    return out


# --- RSS and Atom ----------------------------------------------------------------------------


def _feed(data: bytes, url: str, content_type: str) -> Document:
    import feedparser

    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    # a stream, never bytes or str: feedparser opens a string that names a file or URL
    parsed = feedparser.parse(io.BytesIO(data), response_headers=headers)
    title = _one_line(parsed.feed.get("title", ""))
    feed_authors = _authors(parsed.feed)  # Atom: the feed's author writes entries without one
    entries = []
    for item in parsed.entries:
        link = _entry_link(item, url)
        if not link:
            continue
        stamp = item.get("published_parsed") or item.get("updated_parsed")
        entries.append(
            Entry(
                id=str(item.get("id") or link),
                link=link,
                title=_one_line(item.get("title", "")),
                published=time.strftime("%Y-%m-%d", stamp) if stamp else item.get("published"),
                authors=_authors(item) or feed_authors,
                outlet=title,
            )
        )
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        problem = parsed.get("bozo_exception")
        detail = f" ({_one_line(str(problem))})" if problem else ""
        what = "malformed feed" if parsed.get("version") else "not a feed or sitemap"
        raise FeedError(f"{what}{detail}")
    return Document("feed", title, entries)


def _authors(item: Any) -> list[str]:
    names = [str(a["name"]) for a in item.get("authors", []) if a.get("name")]
    return names or ([str(item["author"])] if item.get("author") else [])


def _entry_link(item: Any, base: str) -> str:
    """The entry's page: its alternate link (not rel=self or an enclosure)."""
    for link in item.get("links", []):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return urljoin(base, link["href"])
    return urljoin(base, item["link"]) if item.get("link") else ""


# --- JSON Feed -------------------------------------------------------------------------------


def _json_feed(data: bytes, url: str) -> Document:
    try:
        feed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FeedError(f"not a JSON feed (invalid JSON: {_one_line(str(exc))})") from exc
    if not isinstance(feed, dict) or "jsonfeed.org" not in str(feed.get("version", "")):
        raise FeedError("not a JSON feed (no jsonfeed.org version)")
    title = _one_line(str(feed.get("title") or ""))
    entries = []
    for item in feed.get("items") or []:
        if not isinstance(item, dict):
            continue
        link = str(item.get("url") or item.get("external_url") or "")
        if not link:
            continue
        people = item.get("authors") or ([item["author"]] if item.get("author") else [])
        authors = [str(p["name"]) for p in people if isinstance(p, dict) and p.get("name")]
        entries.append(
            Entry(
                id=str(item.get("id") or link),
                link=urljoin(url, link),
                title=_one_line(str(item.get("title") or "")),
                published=str(item.get("date_published") or "") or None,
                authors=authors,
                outlet=title,
            )
        )
    return Document("feed", title, entries)


# --- sitemaps --------------------------------------------------------------------------------

_NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


def _sitemap(data: bytes, url: str) -> Document:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"malformed sitemap XML ({_one_line(str(exc))})") from exc
    name = etree.QName(root).localname
    if name == "sitemapindex":
        children = [
            (_text(s, "lastmod"), urljoin(url, _text(s, "loc")))
            for s in root
            if isinstance(s.tag, str) and _text(s, "loc")
        ]
        children.sort(key=lambda c: c[0], reverse=True)  # newest first
        return Document("sitemapindex", links=[link for _, link in children])
    entries = []
    for node in root:
        if not isinstance(node.tag, str) or not _text(node, "loc"):
            continue
        link = urljoin(url, _text(node, "loc"))
        news = node.find(f"{_NEWS}news")
        title = published = outlet = ""
        if news is not None:
            title = news.findtext(f"{_NEWS}title") or ""
            published = news.findtext(f"{_NEWS}publication_date") or ""
            outlet = news.findtext(f"{_NEWS}publication/{_NEWS}name") or ""
        entries.append(
            Entry(
                id=link,
                link=link,
                title=_one_line(title),
                published=(published or _text(node, "lastmod")).strip() or None,
                outlet=_one_line(outlet),
            )
        )
    entries.sort(key=lambda e: e.published or "", reverse=True)  # newest first
    return Document("sitemap", entries=entries)


def _text(node: Any, name: str) -> str:
    for child in node:
        if isinstance(child.tag, str) and child.tag.rsplit("}", 1)[-1] == name:
            return (child.text or "").strip()
    return ""


# --- HTML: feed discovery --------------------------------------------------------------------


def _html(data: bytes, url: str) -> Document:
    """A web page: the feeds its ``<link rel=alternate>`` elements name."""
    from lxml import html as lxml_html

    from rag.fetch import decode_body

    try:
        root = lxml_html.document_fromstring(decode_body(data[:2_000_000]))
    except Exception:  # lxml raises several types on hopeless markup
        return Document("html")
    links = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            links.append(urljoin(url, href))
    title = _one_line(root.findtext(".//title") or "")
    return Document("html", title, links=list(dict.fromkeys(links)))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
