"""The web from the terminal: ``rag ingest URL`` and ``rag feeds``, against a loopback server,
including a ``rag feeds update`` killed mid-run and run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import FIXTURES
from servers import BIN
from typer.testing import CliRunner
from webserver import Route, WebServer, serve_web
from websites import NewsSite

from rag.cli import app

runner = CliRunner()
ARTICLE = (FIXTURES / "web" / "cnn_article.html").read_bytes()


def rag(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def web(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebServer]:
    monkeypatch.setenv("RAG_EMBEDDING", "hash")
    monkeypatch.setenv("RAG_ALLOW_PRIVATE_URLS", "1")  # the server is on loopback
    with serve_web() as server:
        yield server


def test_ingest_url_stores_headline_date_outlet_and_canonical_url(web: WebServer) -> None:
    web.page("/2013/11/27/weather.html", ARTICLE)
    code, out, _ = rag("ingest", web.url + "/2013/11/27/weather.html?utm_source=rss&utm_medium=x")
    assert code == 0, out
    assert out.startswith("added 1, updated 0, unchanged 0")
    [article] = json.loads(rag("list", "--json")[1])
    assert article["title"] == "After storm, forecasters see smooth sailing for Thanksgiving"
    assert (article["published"], article["source"]) == ("2013-11-27", "CNN")
    assert article["url"] == "http://www.cnn.com/2013/11/27/travel/weather-thanksgiving/index.html"
    # the same story under another address is the same article
    code, out, _ = rag("ingest", web.url + "/2013/11/27/weather.html?fbclid=abc")
    assert code == 0 and "added 0, updated 0, unchanged 1" in out
    assert len(json.loads(rag("list", "--json")[1])) == 1


def test_ingest_mixes_paths_and_urls_and_reports_each_failure(
    web: WebServer, seed_path: Path
) -> None:
    web.add("/missing.html", Route(status=404))
    code, out, err = rag("ingest", str(seed_path), web.page("/a.html", ARTICLE),
                         web.url + "/missing.html")  # fmt: skip
    assert code == 1
    assert "added 2," in out and "failed 1" in out
    assert f"failed: {web.url}/missing.html: HTTP 404 Not Found" in err


def test_private_urls_are_refused_unless_allowed(
    web: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAG_ALLOW_PRIVATE_URLS")
    url = web.page("/a.html", ARTICLE)
    code, _, err = rag("ingest", url)
    assert code == 1
    assert f"failed: {url}: refused: 127.0.0.1 is a private or local address" in err
    assert web.requests == []
    code, out, _ = rag("ingest", "--allow-private-urls", url)
    assert code == 0 and "added 1" in out


def test_feeds_add_list_update_remove(web: WebServer) -> None:
    site = NewsSite(web)
    site.add(1, 2)
    code, out, err = rag("feeds", "add", site.feed_url, "--name", "loop")
    assert code == 0, err
    assert out.strip() == f"following loop: {site.feed_url}"
    code, out, _ = rag("feeds", "update")
    assert code == 0
    assert out.startswith("feeds 1 (0 not modified), new entries 2, pages 2, added 2, updated 0,")
    code, out, _ = rag("feeds", "update", "loop", "--json")
    report = json.loads(out)
    assert (report["not_modified"], report["pages"], report["added"]) == (1, 0, [])
    [row] = json.loads(rag("feeds", "list", "--json")[1])
    assert (row["name"], row["seen"], row["pending"]) == ("loop", 2, 0)
    assert len(json.loads(rag("list", "--json")[1])) == 2
    code, _, err = rag("feeds", "update", "nope")
    assert code == 1 and err.strip() == "error: no feed named 'nope' (see 'rag feeds list')"
    assert rag("feeds", "remove", "loop")[0] == 0
    assert "no feeds followed" in rag("feeds", "list")[1]


def test_update_with_a_failing_page_exits_1_and_names_it(web: WebServer) -> None:
    site = NewsSite(web, extra=[("x", web.url + "/gone.html", "gone")])
    site.add(1)
    web.add("/gone.html", Route(status=410))
    rag("feeds", "add", site.feed_url)
    code, out, err = rag("feeds", "update")
    assert code == 1
    assert "added 1, updated 0, failed 1" in out
    assert f"failed: {web.url}/gone.html: HTTP 410 Gone" in err


def _state(data: Path) -> dict[str, int]:
    seen = pending = 0
    for path in (data / "web" / "state").glob("*.json"):
        try:
            state = json.loads(path.read_text())
        except ValueError:
            continue
        seen += len(state["seen"])
        pending += len(state["pending"])
    return {"seen": seen, "pending": pending}


def test_killed_update_loses_nothing_and_duplicates_nothing(
    web: WebServer, isolated_env: Path
) -> None:
    """SIGKILL once some pages are stored and others are waiting; the next run finishes."""
    with serve_web() as other:
        sites = [NewsSite(web, delay=0.5), NewsSite(other, title="Other News", delay=0.5)]
        for site, first in zip(sites, (0, 100), strict=True):
            site.add(*range(first, first + 5))
            assert rag("feeds", "add", site.feed_url)[0] == 0
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        proc = subprocess.Popen([str(BIN / "rag"), "feeds", "update"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + 60
        while _state(isolated_env)["seen"] < 2 and proc.poll() is None:
            assert time.monotonic() < deadline, "the update stored nothing in 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        midway = _state(isolated_env)
        assert midway["seen"] >= 2 and midway["pending"] >= 1, midway
        fetched_before = {p for s in (web, other) for p in s.paths() if "/news/" in p}

        code, out, _ = rag("feeds", "update")
        assert code == 0, out
        articles = json.loads(rag("list", "--json")[1])
        assert sorted(a["title"].split(" about")[0] for a in articles) == sorted(
            f"Story {i}" for i in [*range(5), *range(100, 105)]
        )
        assert _state(isolated_env) == {"seen": 10, "pending": 0}
        # pages stored before the kill were not fetched again
        refetched = [
            p for s in (web, other) for p in s.paths() if "/news/" in p and s.paths().count(p) > 1
        ]
        assert len(set(refetched)) <= len(fetched_before) - midway["seen"]
        code, out, _ = rag("feeds", "update")
        assert code == 0 and "new entries 0, pages 0, added 0" in out
