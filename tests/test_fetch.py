"""Fetching against a misbehaving loopback server: each failure has its one-line reason,
comes within its timeout, and the fetcher goes on with the next URL."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import replace

import brotli
import pytest
from conftest import FIXTURES
from webserver import Route, WebServer, serve_web

from rag.errors import FetchError
from rag.fetch import Fetcher, FetchPolicy, RobotsCache, check_url, page_url, strip_tracking
from rag.pages import PageJob, crawl, fetch_article
from rag.types import Article

WEB = FIXTURES / "web"
FAST = FetchPolicy(
    connect_timeout=1.0,
    read_timeout=0.5,
    deadline=1.5,
    backoff=0.05,
    max_retry_after=2.0,
    host_delay=0.0,
    max_bytes=2 * 1024 * 1024,
    allow_private=True,  # the test server is on loopback
)
ARTICLE = (WEB / "cnn_article.html").read_bytes()


@pytest.fixture
def web() -> Iterator[WebServer]:
    with serve_web() as server:
        yield server


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(FAST) as client:
        yield client


def failure(fetcher: Fetcher, url: str, kind: str = "html") -> str:
    with pytest.raises(FetchError) as caught:
        fetcher.get(url, kind)  # type: ignore[arg-type]
    reason = str(caught.value)
    assert "\n" not in reason
    return reason


def test_page_is_fetched_with_our_user_agent_and_robots_checked(
    web: WebServer, fetcher: Fetcher
) -> None:
    url = web.page("/a.html", ARTICLE)
    page = fetcher.get(url)
    assert page.status == 200 and page.content == ARTICLE
    assert web.paths() == ["/robots.txt", "/a.html"]
    agent = web.hits("/a.html")[0].headers["user-agent"]
    assert agent.startswith("rag-news/")


def test_canonical_url_and_tracking_parameters() -> None:
    assert strip_tracking("HTTP://Example.COM:80/a?utm_source=rss&id=7&fbclid=x#top") == (
        "http://example.com/a?id=7"
    )
    html = '<html><head><link rel="canonical" href="/story?utm_medium=x"></head></html>'
    assert page_url(html, "https://news.example/story?utm_source=y") == (
        "https://news.example/story"
    )
    og = '<html><head><meta property="og:url" content="https://n.example/s"></head></html>'
    assert page_url(og, "https://n.example/s?utm_campaign=z") == "https://n.example/s"
    assert page_url("<p>no head</p>", "https://n.example/p?ref=1&utm_x=2") == (
        "https://n.example/p?ref=1"
    )


def test_article_from_a_real_page_has_headline_date_outlet_and_canonical_url(
    web: WebServer, fetcher: Fetcher
) -> None:
    expected = json.loads((WEB / "cnn_article.meta.json").read_text())
    article = fetch_article(fetcher, web.page("/cnn.html?utm_source=feed", ARTICLE))
    assert article.title == expected["title"]
    assert article.published == "2013-11-27"
    assert article.source == "CNN"
    assert article.url == expected["canonical_link"]
    assert "Thanksgiving" in article.text
    again = fetch_article(fetcher, web.page("/other-path.html", ARTICLE))
    assert again.article_id == article.article_id


def test_page_without_canonical_is_known_by_its_url_without_tracking(
    web: WebServer, fetcher: Fetcher
) -> None:
    web.page("/es.html", (WEB / "spanish_article.html").read_bytes())
    one = fetch_article(fetcher, web.url + "/es.html?utm_source=rss&utm_medium=feed")
    two = fetch_article(fetcher, web.url + "/es.html")
    assert one.url == two.url == web.url + "/es.html"
    assert one.article_id == two.article_id
    assert one.title.startswith("Anticorrupción decidirá")


def test_429_with_retry_after_is_waited_for(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add(
        "/busy",
        Route(status=429, headers={"Retry-After": "1"}, body="slow down"),
        Route(body=ARTICLE),
    )
    started = time.monotonic()
    assert fetcher.get(url).content == ARTICLE
    hits = web.hits("/busy")
    assert len(hits) == 2 and hits[1].time - hits[0].time >= 0.95
    assert time.monotonic() - started < 3


def test_retry_after_longer_than_we_wait_fails_at_once(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add("/later", Route(status=429, headers={"Retry-After": "3600"}))
    started = time.monotonic()
    reason = failure(fetcher, url)
    assert reason == "HTTP 429 Too Many Requests (Retry-After 3600)"
    assert time.monotonic() - started < 1 and len(web.hits("/later")) == 1


def test_500_then_success_is_retried(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add("/flaky", Route(status=500), Route(status=503), Route(body=ARTICLE))
    assert fetcher.get(url).content == ARTICLE
    assert [h.status for h in web.hits("/flaky")] == [500, 503, 200]


def test_persistent_500_fails_after_bounded_retries(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add("/down", Route(status=500))
    assert failure(fetcher, url) == "HTTP 500 Internal Server Error"
    assert len(web.hits("/down")) == FAST.max_retries + 1


def test_hanging_server_times_out(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add("/hang", Route(kind="hang"))
    started = time.monotonic()
    assert failure(fetcher, url) == "timed out (ReadTimeout)"
    assert time.monotonic() - started < FAST.read_timeout + 1


def test_slow_drip_stops_at_the_deadline(web: WebServer, fetcher: Fetcher) -> None:
    url = web.add("/drip", Route(kind="drip", body=ARTICLE))
    started = time.monotonic()
    assert failure(fetcher, url) == "too slow (not complete after 1.5 s)"
    assert time.monotonic() - started < FAST.deadline + 1


def test_redirect_loop_and_too_many_redirects(web: WebServer, fetcher: Fetcher) -> None:
    web.add("/a", Route(status=302, headers={"Location": "/b"}))
    web.add("/b", Route(status=301, headers={"Location": "/a"}))
    assert failure(fetcher, web.url + "/a") == f"redirect loop at {web.url}/a"
    for i in range(10):
        web.add(f"/r{i}", Route(status=302, headers={"Location": f"/r{i + 1}"}))
    assert failure(fetcher, web.url + "/r0") == "more than 5 redirects"
    web.add("/to-file", Route(status=302, headers={"Location": "file:///etc/passwd"}))
    assert "only http and https" in failure(fetcher, web.url + "/to-file")


def test_redirect_is_followed_to_the_final_url(web: WebServer, fetcher: Fetcher) -> None:
    web.add("/short", Route(status=301, headers={"Location": "/long.html"}))
    web.page("/long.html", ARTICLE)
    page = fetcher.get(web.url + "/short")
    assert page.final_url == web.url + "/long.html" and page.url == web.url + "/short"


def test_huge_pages_stop_at_the_size_limit(web: WebServer, fetcher: Fetcher) -> None:
    declared = web.page("/big.html", b"<p>" + b"x" * (20 * 1024 * 1024))
    assert failure(fetcher, declared) == "too large (20 MB; the limit is 2 MB)"
    endless = web.add("/endless", Route(kind="endless", body=b"<p>news</p>"))
    assert failure(fetcher, endless) == "too large (more than 2 MB)"
    packed = gzip.compress(b"<p>" + b"a" * (50 * 1024 * 1024), compresslevel=1)  # 200 KB
    bomb = web.page("/bomb.html", packed, headers={"Content-Encoding": "gzip"})
    assert failure(fetcher, bomb) == "too large (more than 2 MB)"


def test_gzip_and_brotli_bodies_are_decoded(web: WebServer, fetcher: Fetcher) -> None:
    assert fetcher.get(web.page("/gz.html", ARTICLE, gzip=True)).content == ARTICLE
    squeezed = brotli.compress(ARTICLE)
    url = web.page("/br.html", squeezed, headers={"Content-Encoding": "br"})
    assert fetcher.get(url).content == ARTICLE


def test_charset_from_header_or_meta(web: WebServer, fetcher: Fetcher) -> None:
    text = "<html><body><p>Année café</p></body></html>"
    header = web.page("/h.html", text.encode("latin-1"), content_type="text/html; charset=latin-1")
    assert "Année café" in fetcher.get(header).text()
    meta = ('<meta charset="iso-8859-1">' + text).encode("latin-1")
    assert "Année café" in fetcher.get(web.page("/m.html", meta, content_type="text/html")).text()


def test_wrong_content_type_is_refused_before_the_body(web: WebServer, fetcher: Fetcher) -> None:
    url = web.page("/report.pdf", b"%PDF-1.7", content_type="application/pdf")
    assert failure(fetcher, url) == "not a web page (content type application/pdf)"


def test_robots_txt_disallow_and_crawl_delay(web: WebServer) -> None:
    web.page("/robots.txt", "User-agent: *\nDisallow: /private/\nCrawl-delay: 1\n",
             content_type="text/plain")  # fmt: skip
    web.page("/private/a.html", ARTICLE)
    web.page("/public/a.html", ARTICLE)
    web.page("/public/b.html", ARTICLE)
    with Fetcher(FAST) as fetcher:
        assert failure(fetcher, web.url + "/private/a.html") == "refused by robots.txt"
        fetcher.get(web.url + "/public/a.html")
        fetcher.get(web.url + "/public/b.html")
    assert not web.hits("/private/a.html")
    a, b = web.hits("/public/a.html")[0], web.hits("/public/b.html")[0]
    assert b.time - a.time >= 0.95
    assert len(web.hits("/robots.txt")) == 1


def test_robots_txt_is_kept_for_a_day_on_disk(web: WebServer, tmp_path) -> None:  # type: ignore[no-untyped-def]
    web.page("/robots.txt", "User-agent: rag-news\nDisallow: /\n", content_type="text/plain")
    web.page("/a.html", ARTICLE)
    cache = tmp_path / "robots.json"
    for _ in range(2):
        with Fetcher(FAST, RobotsCache(cache)) as fetcher:
            assert failure(fetcher, web.url + "/a.html") == "refused by robots.txt"
    assert len(web.hits("/robots.txt")) == 1


def test_robots_txt_server_error_means_disallow(web: WebServer, fetcher: Fetcher) -> None:
    web.add("/robots.txt", Route(status=503))
    web.page("/a.html", ARTICLE)
    assert failure(fetcher, web.url + "/a.html") == "refused by robots.txt"


def test_private_link_local_and_metadata_addresses_are_refused() -> None:
    for url in (
        "http://127.0.0.1/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[fc00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ):
        with pytest.raises(FetchError, match=r"^refused: .* is a (private or local|link-local)"):
            check_url(url, allow_private=False)
    for url in ("file:///etc/passwd", "ftp://example.com/x", "gopher://x/"):
        with pytest.raises(FetchError, match="only http and https"):
            check_url(url, allow_private=True)
    check_url("http://127.0.0.1/", allow_private=True)
    check_url("http://10.1.2.3/", allow_private=True)


def test_metadata_addresses_are_refused_even_when_private_urls_are_allowed(
    fetcher: Fetcher,
) -> None:
    """An intranet feed must not be able to make us read a cloud's credentials."""
    for url, address in (
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[fe80::1]/", "fe80::1"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254"),
    ):
        assert fetcher.policy.allow_private
        assert failure(fetcher, url) == f"refused: {address} is a link-local (metadata) address"


def test_private_address_refused_without_a_connection(web: WebServer) -> None:
    strict = replace(FAST, allow_private=False)
    with Fetcher(strict) as fetcher:
        reason = failure(fetcher, web.page("/a.html", ARTICLE))
    assert reason == "refused: 127.0.0.1 is a private or local address"
    assert web.paths() == []


def test_redirect_to_a_private_address_is_refused(web: WebServer) -> None:
    """A trusted host may redirect, but the next hop is checked again."""
    web.add("/go", Route(status=302, headers={"Location": "http://169.254.169.254/latest/"}))
    policy = replace(FAST, allow_private=False, allow_hosts=frozenset({web.url[7:]}))
    with Fetcher(policy) as fetcher:
        reason = failure(fetcher, web.url + "/go")
    assert reason == "refused: 169.254.169.254 is a link-local (metadata) address"


def test_crawl_goes_on_after_failures_and_runs_hosts_at_once() -> None:
    with serve_web() as one, serve_web() as two:
        for server in (one, two):
            for i in range(3):
                server.page(f"/p{i}.html", ARTICLE.replace(b"Thanksgiving", f"T{i}".encode()),
                            delay=0.3)  # fmt: skip
            server.add("/bad.html", Route(status=404))
        jobs = [PageJob(s.url + p) for s in (one, two) for p in ("/p0.html", "/bad.html",
                "/p1.html", "/p2.html")]  # fmt: skip
        started = time.monotonic()
        with Fetcher(FAST) as fetcher:
            results = list(crawl(fetcher, jobs))
        elapsed = time.monotonic() - started
    articles = [r for _, r in results if isinstance(r, Article)]
    failures = [str(r) for _, r in results if not isinstance(r, Article)]
    assert len(articles) == 6
    assert sorted(failures) == sorted(f"{s.url}/bad.html: HTTP 404 Not Found" for s in (one, two))
    assert elapsed < 60
    first, second = ([h.time for h in s.requests if h.path.startswith("/p")] for s in (one, two))
    assert min(second) < max(first) and min(first) < max(second)  # the two hosts overlap
    for server in (one, two):  # one request at a time per host
        times = sorted(h.time for h in server.requests if h.path.startswith("/p"))
        assert all(b - a >= 0.29 for a, b in itertools.pairwise(times))


def test_gzip_sitemap_bytes_pass_through(web: WebServer, fetcher: Fetcher) -> None:
    raw = (WEB / "sitemap.xml.gz").read_bytes()
    url = web.page("/sitemap.xml.gz", raw, content_type="application/x-gzip")
    page = fetcher.get(url, "feed")
    assert gzip.decompress(page.content).startswith(b"<?xml")
