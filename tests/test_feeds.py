"""Feeds: real feed files parsed, feed updates that ingest each entry once and then only ask
"anything new?", and a feed whose links misbehave in every way failing link by link."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FIXTURES
from test_fetch import FAST
from webserver import Route, WebServer, serve_web
from websites import NewsSite, rss, story

from rag.errors import ConfigError, FetchError
from rag.feedparsing import parse_document
from rag.feeds import add_feed, list_feeds, load_feeds, remove_feed, update
from rag.fetch import Fetcher, FetchPolicy
from rag.settings import Settings
from rag.store import ChunkStore

WEB = FIXTURES / "web"
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<rss version="2.0"><channel><title>&f;</title><item><title>&f;</title>
<link>http://example.invalid/x</link></item></channel></rss>"""


@pytest.fixture
def web() -> Iterator[WebServer]:
    with serve_web() as server:
        yield server


@pytest.fixture
def settings() -> Settings:
    return Settings.load(flags={"embedding": "hash"})


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FAST) as client:
        yield client


def stored(settings: Settings) -> dict[str, str]:
    """url -> title of every stored article."""
    return {a.url: a.title for a in ChunkStore.open(settings).articles()}


# --- parsing real feeds ----------------------------------------------------------------------


def test_real_rss_atom_and_json_feeds_parse() -> None:
    doc = parse_document((WEB / "feed2.rss").read_bytes(), "http://www.example.com/rss")
    [entry] = doc.entries
    assert (doc.kind, doc.title) == ("feed", "RSS Title")
    assert entry.id == "7bd204c6-1655-4c27-aeee-53f933c5395f"
    assert entry.link == "http://www.example.com/blog/post/1"
    assert (entry.title, entry.published, entry.outlet) == ("Example entry", "2009-09-06",
                                                            "RSS Title")  # fmt: skip
    atom = parse_document((WEB / "feed1.atom").read_bytes(), "http://example.org/feed")
    assert atom.title == "Example Feed"
    assert atom.entries[0].link == "http://example.org/2003/12/13/atom03"
    assert atom.entries[0].authors == ["John Doe"]
    assert all(e.link != "http://example.org/1000" for e in atom.entries)  # rel=self is not a page
    npr = parse_document((WEB / "feed.json").read_bytes(), "https://feeds.npr.org/1019/feed.json")
    assert npr.title == "Technology" and len(npr.entries) == 25
    assert npr.entries[0].id == "1050315385"
    assert npr.entries[0].link.startswith("https://www.npr.org/2021/10/29/1050315385/")


def test_gzip_sitemap_and_sitemap_index_parse() -> None:
    doc = parse_document((WEB / "sitemap.xml.gz").read_bytes(), "https://www.sitemaps.org/s.gz")
    assert doc.kind == "sitemap" and doc.entries[0].link.startswith("https://www.sitemaps.org/")
    index = parse_document(
        b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<sitemap><loc>/old.xml</loc><lastmod>2020-01-01</lastmod></sitemap>"
        b"<sitemap><loc>/new.xml.gz</loc><lastmod>2024-01-01</lastmod></sitemap></sitemapindex>",
        "https://n.example/sitemap.xml",
    )
    assert index.links == ["https://n.example/new.xml.gz", "https://n.example/old.xml"]


def test_news_sitemap_fields_fill_entries() -> None:
    doc = parse_document(
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"><url>'
        b"<loc>https://n.example/a</loc><news:news><news:publication><news:name>N Times"
        b"</news:name></news:publication><news:publication_date>2024-03-02T10:00:00Z"
        b"</news:publication_date><news:title>Bridge opens</news:title></news:news></url>"
        b"</urlset>",
        "https://n.example/news-sitemap.xml",
    )
    [entry] = doc.entries
    assert (entry.title, entry.outlet, entry.published) == (
        "Bridge opens",
        "N Times",
        "2024-03-02T10:00:00Z",
    )


def test_billion_laughs_and_malformed_xml_fail_fast_with_one_line() -> None:
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^refused: the XML declares entities"):
        parse_document(BOMB, "http://x.example/feed")
    for junk in (b"<rss><channel><item>", b"\x00\x01garbage", b"<urlset><url><loc>x</urlset"):
        with pytest.raises(FetchError) as caught:
            parse_document(junk, "http://x.example/feed")
        assert "\n" not in str(caught.value)
    assert time.monotonic() - started < 2
    with pytest.raises(FetchError, match="too large once decompressed"):
        parse_document(gzip.compress(b"<urlset>" + b" " * (60 * 2**20), 1), "http://x/s.gz")


# --- add, list, remove -----------------------------------------------------------------------


def test_add_a_site_discovers_its_feed(
    web: WebServer, settings: Settings, fetcher: Fetcher
) -> None:
    site = NewsSite(web)
    site.add(1)
    link = '<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
    web.page("/", f"<html><head><title>Home</title>{link}</head><body>hi</body></html>")
    feed = add_feed(settings, web.url + "/", fetcher=fetcher)
    assert (feed.name, feed.url) == ("loopback-news", site.feed_url)
    with pytest.raises(ConfigError, match="already following"):
        add_feed(settings, site.feed_url, fetcher=fetcher)
    web.page("/plain.html", "<html><head><title>x</title></head><body>no feeds</body></html>")
    with pytest.raises(FetchError, match="no feed found"):
        add_feed(settings, web.url + "/plain.html", fetcher=fetcher)
    assert [f.name for f in load_feeds(settings)] == ["loopback-news"]
    remove_feed(settings, site.feed_url)
    assert list_feeds(settings) == []


# --- update ----------------------------------------------------------------------------------


def test_update_ingests_each_entry_once_then_asks_only_if_anything_is_new(
    web: WebServer, settings: Settings, fetcher: Fetcher
) -> None:
    site = NewsSite(web)
    site.add(1, 2, 3, 4, 5)
    add_feed(settings, site.feed_url, name="local", fetcher=fetcher)

    first = update(settings, fetcher=fetcher)
    assert first.ok, first.failures
    assert (first.new_entries, first.pages, first.added) == (5, 5, 5)
    assert sorted(stored(settings).values()) == [f"Story {i} about the {w}" for i, w in
        [(1, "council"), (2, "budget"), (3, "river"), (4, "bridge"), (5, "school")]]  # fmt: skip
    assert all(len(web.hits(site.page_path(i))) == 1 for i in range(1, 6))

    before = len(web.requests)
    second = update(settings, fetcher=fetcher)
    assert second.ok and (second.new_entries, second.pages, second.added) == (0, 0, 0)
    assert second.not_modified == 1
    [asked] = web.requests[before:]
    assert asked.path == "/feed.xml" and asked.status == 304
    assert asked.headers["if-none-match"]

    site.add(6)
    before = len(web.requests)
    third = update(settings, fetcher=fetcher)
    assert third.ok and (third.new_entries, third.pages, third.added) == (1, 1, 1)
    assert [r.path for r in web.requests[before:]] == ["/feed.xml", site.page_path(6)]
    assert len(stored(settings)) == 6
    [info] = list_feeds(settings)
    assert (info.seen, info.pending) == (6, 0)


def test_feed_entry_fills_what_the_page_lacks(
    web: WebServer, settings: Settings, fetcher: Fetcher
) -> None:
    bare = (
        "<html><body><article>"
        + "<p>The harbour reopened after repairs, the port said today.</p>" * 6
        + "</article></body></html>"
    )
    web.page("/bare.html", bare)
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><title>Port Gazette</title>'
            f"<item><guid>b1</guid><link>{web.url}/bare.html</link><title>Harbour reopens</title>"
            "<pubDate>Thu, 02 May 2024 08:00:00 GMT</pubDate><author>ann@port.example (Ann Lee)"
            "</author></item></channel></rss>")  # fmt: skip
    web.page("/feed.xml", feed, content_type="application/rss+xml")
    add_feed(settings, web.url + "/feed.xml", fetcher=fetcher)
    assert update(settings, fetcher=fetcher).ok
    [article] = ChunkStore.open(settings).articles()
    assert (article.title, article.source, article.published) == (
        "Harbour reopens",
        "Port Gazette",
        "2024-05-02",
    )


def test_misbehaving_links_fail_one_by_one_and_the_rest_is_ingested(
    web: WebServer, settings: Settings
) -> None:
    web.page("/robots.txt", "User-agent: *\nDisallow: /secret/\n", content_type="text/plain")
    bad = {
        "/busy.html": Route(status=429, headers={"Retry-After": "3600"}),
        "/hang.html": Route(kind="hang"),
        "/loop.html": Route(status=302, headers={"Location": "/loop.html"}),
        "/huge.html": Route(body=b"<p>" + b"x" * (20 * 2**20)),
        "/report.pdf": Route(body=b"%PDF-1.7", content_type="application/pdf"),
        "/secret/a.html": Route(body=story(90)),
    }
    for path, route in bad.items():
        web.add(path, route)
    web.add("/flaky.html", Route(status=500), Route(body=story(91)))
    links = [web.url + p for p in [*bad, "/flaky.html"]]
    links += ["http://169.254.169.254/latest/meta-data/", "ftp://ftp.example.invalid/x"]
    site = NewsSite(web, extra=[(link, link, "bad") for link in links])
    site.add(1, 2)
    policy = replace(FAST, allow_private=False, allow_hosts=frozenset({web.url[7:]}))
    with Fetcher(policy) as fetcher:
        add_feed(settings, site.feed_url, fetcher=fetcher)
        started = time.monotonic()
        report = update(settings, fetcher=fetcher)
        elapsed = time.monotonic() - started
        reasons = {f.split(": ", 1)[0]: f.split(": ", 1)[1] for f in report.failures}
        assert reasons == {
            web.url + "/busy.html": "HTTP 429 Too Many Requests (Retry-After 3600)",
            web.url + "/hang.html": "timed out (ReadTimeout)",
            web.url + "/loop.html": f"redirect loop at {web.url}/loop.html",
            web.url + "/huge.html": "too large (20 MB; the limit is 2 MB)",
            web.url + "/report.pdf": "not a web page (content type application/pdf)",
            web.url + "/secret/a.html": "refused by robots.txt",
            "http://169.254.169.254/latest/meta-data/":
                "refused: 169.254.169.254 is a link-local (metadata) address",
            "ftp://ftp.example.invalid/x":
                "refused: only http and https URLs are fetched, not 'ftp'",
        }  # fmt: skip
        assert sorted(stored(settings).values()) == [
            "Story 1 about the council",
            "Story 2 about the budget",
            "Story 91 about the river",
        ]
        assert elapsed < 15
        # the next update retries only what may pass (the 429 and the hang), and fetches no
        # page twice that is stored or failed for good
        before = len(web.requests)
        again = update(settings, fetcher=fetcher)
        assert sorted(f.split(": ", 1)[0] for f in again.failures) == [
            web.url + "/busy.html",
            web.url + "/hang.html",
        ]
        assert sorted(r.path for r in web.requests[before:]) == [
            "/busy.html",
            "/feed.xml",
            "/hang.html",
        ]


def test_one_failing_feed_does_not_stop_the_others(
    web: WebServer, settings: Settings, fetcher: Fetcher
) -> None:
    site = NewsSite(web, prefix="/good")
    site.add(1)
    add_feed(settings, site.feed_url, fetcher=fetcher)
    for name in ("bomb", "broken", "gone"):
        web.page(f"/{name}.xml", rss(name, []), content_type="application/rss+xml")
        add_feed(settings, f"{web.url}/{name}.xml", name=name, fetcher=fetcher)
    web.page("/bomb.xml", BOMB, content_type="application/rss+xml")
    web.page("/broken.xml", "<rss><channel><item><title>x", content_type="application/rss+xml")
    web.add("/gone.xml", Route(status=404))
    report = update(settings, fetcher=fetcher)
    assert sorted(report.failures) == [
        f"{web.url}/bomb.xml: refused: the XML declares entities (an entity-expansion bomb?)",
        f"{web.url}/broken.xml: malformed feed (<unknown>:2:28: no element found)",
        f"{web.url}/gone.xml: HTTP 404 Not Found",
    ]
    assert list(stored(settings).values()) == ["Story 1 about the council"]


def test_policy_default_refuses_private_feed_urls(settings: Settings) -> None:
    with Fetcher(FetchPolicy()) as fetcher, pytest.raises(FetchError, match="private or local"):
        add_feed(settings, "http://127.0.0.1:9/feed.xml", fetcher=fetcher)


def test_feeds_from_the_config_file(
    web: WebServer, fetcher: Fetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = NewsSite(web)
    site.add(1)
    config = tmp_path / "config.toml"
    config.write_text(f'embedding = "hash"\n\n[feeds]\nlocal = "{site.feed_url}"\n')
    monkeypatch.setenv("RAG_CONFIG", str(config))
    settings = Settings.load()
    assert settings.embedding == "hash"
    [feed] = load_feeds(settings)
    assert (feed.name, feed.url, feed.configured) == ("local", site.feed_url, True)
    report = update(settings, fetcher=fetcher)
    assert report.ok and report.added == 1
    with pytest.raises(ConfigError, match="defined in the config file"):
        remove_feed(settings, "local")
