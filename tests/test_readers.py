"""Reading article files of every format, and every kind of bad input, into Articles."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

import pytest
from conftest import require_shared

from rag import files, readers
from rag.articles import canonical_url, parse_published, url_host
from rag.files import ReadFailure, expand_paths
from rag.readers import read_path
from rag.types import Article

ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"
BODY = (
    "The county board voted 4-1 on Monday to build a second bridge over the Alder River, "
    "a project officials said would cost about $30 million."
)


def read_all(path: Path, fmt: str | None = None) -> tuple[list[Article], list[ReadFailure]]:
    """Articles and failures from one file."""
    items = list(read_path(path, fmt))
    articles = [i for i in items if isinstance(i, Article)]
    failures = [i for i in items if isinstance(i, ReadFailure)]
    assert len(articles) + len(failures) == len(items)
    return articles, failures


def read_one(path: Path, fmt: str | None = None) -> Article:
    """The single article in a file."""
    articles, failures = read_all(path, fmt)
    assert failures == []
    assert len(articles) == 1
    return articles[0]


def failure_of(path: Path, fmt: str | None = None) -> ReadFailure:
    """The single failure reading a file gives."""
    articles, failures = read_all(path, fmt)
    assert articles == []
    assert len(failures) == 1, failures
    assert failures[0].path == str(path)
    return failures[0]


def url_id(url: str) -> str:
    return "url-" + hashlib.sha1(url.encode()).hexdigest()[:16]


# --- every format ----------------------------------------------------------------------------


def test_txt_with_metadata_header() -> None:
    article = read_one(ARTICLES / "council-budget.txt")
    assert article.title == "Riverton council approves budget with new library hours"
    assert article.source == "Riverton Gazette"
    assert article.url == "https://www.riverton-gazette.example/local/council-budget-2024/"
    assert article.article_id == url_id(
        "https://www.riverton-gazette.example/local/council-budget-2024"
    )
    assert article.published == "2023-05-12"
    assert article.authors == ["Dana Whitfield", "Omar Benali"]
    assert article.extra == {"section": "Local"}
    assert article.text.startswith("RIVERTON — The city council voted 5-2")
    assert article.text.endswith("The budget takes effect July 1.")
    assert '"leaves too little in reserve for a bad winter."' in article.text
    assert article.path == str(ARTICLES / "council-budget.txt")


def test_md_headline_and_body() -> None:
    article = read_one(ARTICLES / "orchard-frost.md")
    assert article.title == "Late frost threatens Valley apple orchards"
    assert article.text.startswith("Growers in the Corran Valley")
    assert article.text.endswith("will not be known for a week.")
    assert article.source == ""
    assert article.published is None
    assert article.article_id == "txt-" + hashlib.sha1(article.text.encode()).hexdigest()[:16]


def test_html_news_page() -> None:
    article = read_one(ARTICLES / "harbor-bridge.html")
    assert article.title == "Harbor bridge reopens after repairs"
    assert article.authors == ["Marta Quill"]
    assert article.published == "2024-03-14"
    assert article.source == "The Coastline Ledger"
    assert article.url.startswith("https://www.coastline-ledger.example/news/2024/03/")
    assert article.article_id == url_id(
        "https://www.coastline-ledger.example/news/2024/03/harbor-bridge-reopens"
    )
    assert article.text.startswith("The Harbor Street bridge reopened to traffic on Thursday")
    assert '"We\'re glad to give people their shortcut back," said Deputy Mayor' in article.text
    assert "old toll booth will become a bus shelter." in article.text
    for dropped in [
        "SHOULD-NOT-APPEAR",
        "Weather",
        "Advertisement",
        "LEAVE A REPLY",
        "Please enter your comment",
        "Share on Facebook",
        "Privacy Policy",
        "By Marta Quill",
    ]:
        assert dropped not in article.text
    assert article.text.count("Harbor bridge reopens after repairs") == 0


def test_html_without_headline_falls_back_to_title_tag(tmp_path: Path) -> None:
    page = tmp_path / "page.htm"
    page.write_text(
        f"<html><head><title>Alder River bridge approved</title></head>"
        f"<body><div><p>{BODY}</p><p>{BODY}</p></div></body></html>",
        encoding="utf-8",
    )
    article = read_one(page)
    assert article.title == "Alder River bridge approved"
    assert BODY in article.text


def test_html_in_a_declared_legacy_charset(tmp_path: Path) -> None:
    page = tmp_path / "latin1.html"
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\u00e9 fire</title></head>'
        f"<body><p>Caf\u00e9 {BODY}</p></body></html>"
    )
    page.write_bytes(html.encode("iso-8859-1"))
    assert "Caf\u00e9 The county board" in read_one(page).text


def test_json_single_object() -> None:
    article = read_one(ARTICLES / "library-single.json")
    assert article.article_id == "4021"
    assert article.title == "Library lends out telescopes for the first time"
    assert article.text.startswith("The Maple Hollow public library began lending telescopes")
    assert "\n\nBorrowers can keep a telescope" in article.text
    assert article.source == "Maple Hollow News"
    assert article.published == "2023-10-14"
    assert article.authors == ["Lena Ortiz"]
    assert article.url == "https://maplehollow-news.example/2023/10/library-telescopes?ref=home#top"
    assert article.extra == {"section": "Community", "word_count": 61}


def test_json_list_with_a_bad_item() -> None:
    articles, failures = read_all(ARTICLES / "transit-list.json")
    assert [a.title for a in articles] == [
        "Night buses return to Route 9",
        "Fare cap starts for frequent riders",
    ]
    night, fare = articles
    assert night.source == "metro-daily.example"
    assert night.published == "2024-01-08"
    assert night.article_id == url_id("https://www.metro-daily.example/transit/night-buses-route-9")
    assert fare.published == "2024-01-15"
    assert fare.authors == ["Sam Okafor", "Jia Li"]
    assert fare.text.startswith("Riders who pay more than $90")
    assert [str(f) for f in failures] == [
        f"{ARTICLES / 'transit-list.json'}: item 3: expected an article object, not a string"
    ]


def test_jsonl_with_a_malformed_line() -> None:
    path = ARTICLES / "briefs.jsonl"
    articles, failures = read_all(path)
    assert [a.article_id for a in articles] == ["brief-1", "brief-3"]
    assert articles[0].extra == {"category": "transport"}
    assert articles[0].source == "Harbor Notes"
    assert articles[1].published is None
    assert articles[1].extra == {"published_raw": "last Saturday"}
    assert len(failures) == 1
    assert failures[0].line == 3
    assert str(failures[0]) == f"{path}:3: malformed JSON (Expecting ',' delimiter)"


def test_format_flag_overrides_the_extension(tmp_path: Path) -> None:
    notes = tmp_path / "notes.xyz"
    notes.write_text(f"Bridge vote\n\n{BODY}", encoding="utf-8")
    assert failure_of(notes).reason == "unsupported file type '.xyz' (use --format)"
    assert read_one(notes, "txt").title == "Bridge vote"
    assert "unknown format 'pdf'" in failure_of(notes, "pdf").reason
    record = tmp_path / "record.txt"
    record.write_text(json.dumps({"title": "T", "text": BODY}), encoding="utf-8")
    assert read_one(record, "json").text == BODY


def test_markdown_front_matter(tmp_path: Path) -> None:
    page = tmp_path / "front.md"
    page.write_text(
        f'---\ntitle: "Bridge vote"\ndate: 2024-02-03\nurl: https://news.example/b\n---\n\n{BODY}',
        encoding="utf-8",
    )
    article = read_one(page)
    assert (article.title, article.published, article.source) == (
        "Bridge vote",
        "2024-02-03",
        "news.example",
    )
    assert article.text == BODY


def test_txt_headline_without_header_and_colon_headlines(tmp_path: Path) -> None:
    page = tmp_path / "colon.txt"
    page.write_text(f"Update: bridge vote delayed\n\n{BODY}", encoding="utf-8")
    article = read_one(page)
    assert article.title == "Update: bridge vote delayed"
    assert article.text == BODY


# --- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.txt", "empty.md", "empty.html", "empty.json", "e.jsonl"])
def test_empty_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("  \n\n", encoding="utf-8")
    assert failure_of(path).reason == "empty file"


@pytest.mark.parametrize("name", ["blob.txt", "blob.html", "blob.json", "blob.jsonl"])
def test_binary_files(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert str(failure_of(path)) == f"{path}: binary file, not text"


def test_invalid_utf8_is_reported_not_mangled(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(f"Headline\n\n{BODY}\n\nCaf\u00e9 opens".encode("latin-1"))
    failure = failure_of(path)
    assert "invalid UTF-8" in failure.reason
    assert failure.line == 5


def test_invalid_utf8_line_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    good = json.dumps({"id": "a", "text": BODY}).encode()
    bad = '{"id": "b", "text": "Caf\u00e9"}'.encode("latin-1")
    path.write_bytes(good + b"\n" + bad + b"\n" + good.replace(b'"a"', b'"c"') + b"\n")
    articles, failures = read_all(path)
    assert [a.article_id for a in articles] == ["a", "c"]
    assert failures[0].line == 2 and "invalid UTF-8" in failures[0].reason


def test_utf16_is_named(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes(f"Headline\n\n{BODY}".encode("utf-16"))
    assert "UTF-16" in failure_of(path).reason


def test_utf8_bom_is_fine(tmp_path: Path) -> None:
    txt = tmp_path / "bom.txt"
    txt.write_bytes(b"\xef\xbb\xbfTitle: Bridge vote\n\n" + BODY.encode())
    assert read_one(txt).title == "Bridge vote"
    jsonl = tmp_path / "bom.jsonl"
    jsonl.write_bytes(b"\xef\xbb\xbf" + json.dumps({"id": 7, "text": BODY}).encode() + b"\n")
    assert read_one(jsonl).article_id == "7"


def test_malformed_json_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "title": "x",\n  "text": "y"\n  "url": "z"\n}', encoding="utf-8")
    failure = failure_of(path)
    assert failure.line == 4
    assert failure.reason == "malformed JSON (Expecting ',' delimiter)"


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl"])
def test_deeply_nested_json(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("[" * 200_000 + "]" * 200_000 + "\n", encoding="utf-8")
    assert "nested too deeply" in failure_of(path).reason


def test_json_top_level_of_the_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "number.json"
    path.write_text("42", encoding="utf-8")
    assert failure_of(path).reason == ("expected an article object or a list of them, not a number")


def test_records_without_text(tmp_path: Path) -> None:
    path = tmp_path / "notext.jsonl"
    lines = [
        {"id": "ok", "text": BODY},
        {"id": "no-text", "title": "Only a headline"},
        ["not", "an", "object"],
        {"id": "furniture", "text": "Advertisement\n\nLEAVE A REPLY\n\nPlease enter your comment!"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    articles, failures = read_all(path)
    assert [a.article_id for a in articles] == ["ok"]
    assert [(f.line, f.reason) for f in failures] == [
        (2, "no article text"),
        (3, "expected an article object, not a list"),
        (4, "no article text after removing boilerplate"),
    ]


def test_txt_with_only_a_header(tmp_path: Path) -> None:
    path = tmp_path / "header.txt"
    path.write_text("Title: Bridge vote\nSource: Example", encoding="utf-8")
    assert failure_of(path).reason == "no article text"


def test_missing_path() -> None:
    files, failures = expand_paths(["no/such/file.txt"])
    assert files == []
    assert [str(f) for f in failures] == ["no/such/file.txt: no such file or directory"]
    assert failure_of(Path("no/such/file.txt")).reason == "no such file or directory"


def test_fifo_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.jsonl"
    os.mkfifo(fifo)
    assert failure_of(fifo).reason == "not a regular file: a named pipe (FIFO)"
    files, failures = expand_paths([str(tmp_path)])
    assert files == [fifo] and failures == []  # listed, then reported by read_path


def test_directory_given_to_read_path(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert failure_of(folder).reason == "not a regular file: a directory"


def test_permission_denied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(f"Headline\n\n{BODY}", encoding="utf-8")

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "open", refuse)
    assert str(failure_of(path)) == f"{path}: permission denied"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_permission_denied_for_real(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text(f"Headline\n\n{BODY}", encoding="utf-8")
    path.chmod(0)
    assert failure_of(path).reason == "permission denied"


def test_file_too_large_for_a_single_article(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as handle:
        handle.truncate(51 * 1024 * 1024)  # sparse: no 51 MB written
    assert failure_of(path).reason == (
        "file too large (53,477,376 bytes; the limit is 50 MB, 52,428,800 bytes)"
    )


def test_ten_megabyte_line_works(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    text = (BODY + "\n\n") * (10 * 1024 * 1024 // len(BODY))
    path.write_text(json.dumps({"id": "long", "text": text}) + "\n", encoding="utf-8")
    article = read_one(path)
    assert len(article.text) > 10_000_000


def test_line_over_the_limit_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "MAX_ARTICLE_BYTES", 1000)
    path = tmp_path / "over.jsonl"
    long = json.dumps({"id": "long", "text": "x " * 5000})
    short = json.dumps({"id": "short", "text": BODY})
    path.write_text(f"{short}\n{long}\n{short.replace('short', 'after')}\n", encoding="utf-8")
    articles, failures = read_all(path)
    assert [a.article_id for a in articles] == ["short", "after"]
    assert [(f.line, f.reason) for f in failures] == [(2, "line longer than 0 MB")]


# --- finding files ---------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    for name in ["b.txt", "a.md", "sub/c.json", "sub/deeper/d.jsonl", "sub/e.htm", "x.csv"]:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")
    for hidden in [".hidden.txt", ".git/config.json", "sub/.cache/f.txt"]:
        path = root / hidden
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x", encoding="utf-8")


def test_directories_are_walked_sorted_without_hidden_or_unsupported(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, failures = expand_paths([str(tmp_path)])
    assert failures == []
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a.md",
        "b.txt",
        "sub/c.json",
        "sub/deeper/d.jsonl",
        "sub/e.htm",
    ]


def test_explicit_unsupported_file(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, failures = expand_paths([str(tmp_path / "x.csv")])
    assert files == []
    assert failures[0].reason == "unsupported file type '.csv' (use --format)"
    files, failures = expand_paths([str(tmp_path / "x.csv")], fmt="txt")
    assert files == [tmp_path / "x.csv"] and failures == []


def test_globs(tmp_path: Path) -> None:
    make_tree(tmp_path)

    def rel(files: list[Path]) -> list[str]:
        return [p.relative_to(tmp_path).as_posix() for p in files]

    assert rel(expand_paths([str(tmp_path / "*.txt")])[0]) == ["b.txt"]
    assert rel(expand_paths([str(tmp_path / "?.md")])[0]) == ["a.md"]
    assert rel(expand_paths([str(tmp_path / "[ab].*")])[0]) == ["a.md", "b.txt"]
    assert rel(expand_paths([str(tmp_path / "**" / "*.json*")])[0]) == [
        "sub/c.json",
        "sub/deeper/d.jsonl",
    ]
    assert rel(expand_paths([str(tmp_path / "su*")])[0]) == [
        "sub/c.json",
        "sub/deeper/d.jsonl",
        "sub/e.htm",
    ]
    files, failures = expand_paths([str(tmp_path / "*.pdf")])
    assert files == []
    assert failures[0].reason == "no article files match this pattern"


def test_relative_glob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert expand_paths(["*.txt", "sub/**/*.jsonl"]) == (
        [Path("b.txt"), Path("sub/deeper/d.jsonl")],
        [],
    )


def test_paths_are_deduplicated(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, _ = expand_paths([str(tmp_path / "b.txt"), str(tmp_path), str(tmp_path / "*.txt")])
    assert [p.name for p in files] == ["b.txt", "a.md", "c.json", "d.jsonl", "e.htm"]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    make_tree(tmp_path)
    os.symlink(tmp_path, tmp_path / "sub" / "loop")
    os.symlink(tmp_path / "sub", tmp_path / "sub" / "deeper" / "up")
    os.symlink(tmp_path / "b.txt", tmp_path / "link-to-b.txt")
    files, failures = expand_paths([str(tmp_path), str(tmp_path / "**" / "*.txt")])
    assert failures == []
    assert sorted(p.name for p in files) == ["a.md", "b.txt", "c.json", "d.jsonl", "e.htm"]
    os.symlink(tmp_path / "self-b.txt", tmp_path / "self-a.txt")
    os.symlink(tmp_path / "self-a.txt", tmp_path / "self-b.txt")
    files, failures = expand_paths([str(tmp_path / "self-a.txt")])
    assert files == [] and "symbolic links" in failures[0].reason


# --- ids, dates, sources ---------------------------------------------------------------------


def write_record(tmp_path: Path, record: dict[str, object]) -> Article:
    path = tmp_path / f"r{next(_counter)}.json"
    path.write_text(json.dumps({"text": BODY, **record}), encoding="utf-8")
    return read_one(path)


_counter = itertools.count()


def test_id_from_record_then_url_then_text(tmp_path: Path) -> None:
    assert write_record(tmp_path, {"id": 42, "url": "https://a.example/x"}).article_id == "42"
    by_url = write_record(tmp_path, {"url": "https://a.example/x"}).article_id
    assert by_url == url_id("https://a.example/x")
    by_text = write_record(tmp_path, {}).article_id
    assert by_text == "txt-" + hashlib.sha1(BODY.encode()).hexdigest()[:16]
    assert write_record(tmp_path, {"id": "", "url": "https://a.example/x"}).article_id == by_url


def test_canonical_url() -> None:
    same = [
        "https://a.example/News/x",
        "HTTPS://A.EXAMPLE/News/x/",
        "https://a.example/News/x?utm_source=feed",
        "https://a.example/News/x#comments",
    ]
    assert {canonical_url(u) for u in same} == {"https://a.example/News/x"}
    assert canonical_url("https://a.example/news/x") != canonical_url(same[0])


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2023-05-12", "2023-05-12"),
        ("2023-05-12T23:30:00-05:00", "2023-05-12"),
        ("2023-05-12 08:00:00", "2023-05-12"),
        ("Fri, 12 May 2023 10:00:00 GMT", "2023-05-12"),
        ("May 12, 2023", "2023-05-12"),
        ("Sept. 3, 2022", "2022-09-03"),
        ("12 May 2023", "2023-05-12"),
        ("Thursday, March 14, 2024", "2024-03-14"),
        ("Published 9:00 a.m. ET May 12, 2023", "2023-05-12"),
        ("2023/05/12", "2023-05-12"),
        ("20230512", "2023-05-12"),
        (20230512, "2023-05-12"),
        (1683849600, "2023-05-12"),
        ("05/12/2023", "2023-05-12"),
        ("2023-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_published(raw: object, iso: str | None) -> None:
    assert parse_published(raw) == iso


def test_unparseable_date_kept_raw(tmp_path: Path) -> None:
    article = write_record(tmp_path, {"published": "sometime in spring"})
    assert article.published is None
    assert article.extra["published_raw"] == "sometime in spring"


def test_source_from_metadata_else_url_host(tmp_path: Path) -> None:
    assert write_record(tmp_path, {"url": "https://www.a.example/x"}).source == "a.example"
    assert write_record(tmp_path, {"url": "https://news.b.example:8080/y"}).source == (
        "news.b.example"
    )
    assert write_record(tmp_path, {"url": "https://a.example", "site": "A"}).source == "A"
    assert url_host("not a url") == ""


def test_titles_and_authors_are_normalized(tmp_path: Path) -> None:
    article = write_record(
        tmp_path,
        {"title": "  \u201cBridge\u201d\n vote\u00a0 passes ", "author": "By Ann Lee and Bo Park"},
    )
    assert article.title == '"Bridge" vote passes'
    assert article.authors == ["Ann Lee", "Bo Park"]


def test_read_failure_str() -> None:
    assert str(ReadFailure("data/x.jsonl", "malformed JSON (Expecting ',' delimiter)", 12)) == (
        "data/x.jsonl:12: malformed JSON (Expecting ',' delimiter)"
    )
    assert str(ReadFailure("data/a.bin", "binary file, not text")) == (
        "data/a.bin: binary file, not text"
    )


# --- the shared corpora ----------------------------------------------------------------------


@pytest.mark.shared
def test_shared_corpora_read(tmp_path: Path) -> None:
    newsqa = require_shared("data", "newsqa", "corpus.jsonl")
    bbc = require_shared("data", "bbc", "bbc_news.jsonl")
    head = tmp_path / "newsqa-head.jsonl"
    with newsqa.open("rb") as source:
        raw_lines = list(itertools.islice(source, 200))
    head.write_bytes(b"".join(raw_lines))

    articles, failures = read_all(head)
    # The only expected failures: The Week pages whose scraped text is nothing but the newsletter
    # and privacy consent block (a known quirk of the corpus).
    for failure in failures:
        assert failure.reason == "no article text after removing boilerplate"
        assert failure.line is not None
        raw = json.loads(raw_lines[failure.line - 1])
        assert raw["source"] == "theweek.co.uk"
        assert "We will use the details you have shared" in raw["text"]
    assert len(articles) + len(failures) == 200
    assert len(failures) <= 3
    assert all(a.article_id.startswith("rtqa-") and a.text and a.source for a in articles)

    articles, failures = read_all(bbc)
    assert failures == []
    assert len(articles) == 2225
    assert all(a.extra.get("category") for a in articles)
