"""Web sites for tests: news pages and RSS feeds served by ``tests.webserver``.

``story(i)`` is a small news page whose text is its own; ``rss(...)`` writes an RSS 2.0 feed;
``NewsSite`` keeps a feed of stories on a server (adding a story changes the feed's ETag).
Real pages and feeds from other projects are in ``tests/fixtures/web`` (see its NOTICE.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from webserver import Route, WebServer

WORDS = [
    "harbour",
    "council",
    "budget",
    "river",
    "bridge",
    "school",
    "orchard",
    "frost",
    "transit",
    "library",
    "ferry",
]


def story(i: int, outlet: str = "Loopback News", canonical: str | None = None) -> str:
    """A news page about story i: headline, date, outlet, three paragraphs of its own."""
    word = WORDS[i % len(WORDS)]
    head = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(
        f"<p>Story {i} paragraph {p}: the {word} committee met on day {i} and agreed "
        f"measure {i * 7 + p} after a long debate about the {word} plan, residents said. "
        f"Officials expect the {word} work numbered {i}-{p} to finish within months.</p>"
        for p in range(3)
    )
    return (
        f"<html><head><title>Story {i} about the {word}</title>{head}"
        f'<meta property="og:site_name" content="{outlet}">'
        f'<meta property="article:published_time" content="2024-05-{1 + i % 28:02d}">'
        f"</head><body><article><h1>Story {i} about the {word}</h1>{paragraphs}</article>"
        "</body></html>"
    )


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """An RSS 2.0 feed of (guid, link, title) items."""
    body = "".join(
        f"<item><guid>{escape(g)}</guid><link>{escape(link)}</link><title>{escape(t)}</title>"
        "<pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate></item>"
        for g, link, t in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>{body}"
        "</channel></rss>"
    )


@dataclass
class NewsSite:
    """A feed at /feed.xml listing story pages at /news/N.html on one server."""

    server: WebServer
    title: str = "Loopback News"
    prefix: str = ""
    stories: list[int] = field(default_factory=list)
    delay: float = 0.0
    extra: list[tuple[str, str, str]] = field(default_factory=list)  # (guid, link, title)

    @property
    def feed_url(self) -> str:
        return f"{self.server.url}{self.prefix}/feed.xml"

    def page_path(self, i: int) -> str:
        return f"{self.prefix}/news/{i}.html"

    def add(self, *numbers: int) -> None:
        """Publish stories (pages and feed items); the feed gets a new ETag."""
        for i in numbers:
            self.server.add(self.page_path(i), Route(body=story(i, self.title), delay=self.delay))
            self.stories.append(i)
        self.publish()

    def publish(self) -> None:
        items = [
            (f"{self.title}-{i}", self.server.url + self.page_path(i), f"Story {i}")
            for i in self.stories
        ] + self.extra
        version = f'"v{len(items)}-{hash(tuple(items)) & 0xFFFF}"'
        self.server.add(
            f"{self.prefix}/feed.xml",
            Route(body=rss(self.title, items), content_type="application/rss+xml", etag=version),
        )
