"""HTML extraction on real pages: the committed bench result is the README's table."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from rag.bylines import copyright_holder, page_authors, split_names
from rag.clean import clean_article_text, unwrap_layout_table
from rag.files import ReadFailure
from rag.htmlpage import repair_mojibake, strip_site
from rag.readers import html_article, read_path
from rag.types import Article

RESULT = json.loads((ROOT / "bench" / "results" / "extraction.json").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
COLUMNS = ("precision", "recall", "f1", "title", "date", "authors")


def test_readme_extraction_table_is_the_committed_bench_result() -> None:
    table = README.split("<!-- extraction table: bench/results/extraction.json -->", 1)[1]
    rows = re.findall(r"^\| (rag|trafilatura) \|(.*)\|$", table.split("\n\n", 1)[0], re.M)
    assert [name for name, _ in rows] == ["rag", "trafilatura"]
    for name, cells in rows:
        shown = [float(c) for c in cells.split("|")]
        assert shown == [RESULT["summary"][name][c] for c in COLUMNS], name


# --- the reader on real pages (newspaper4k's test pages in tests/fixtures/web) ---------------

WEB = ROOT / "tests" / "fixtures" / "web"


def _read(name: str) -> Article:
    return html_article((WEB / f"{name}.html").read_text(encoding="utf-8"), path=name)


@pytest.mark.parametrize(
    ("page", "title", "outlet"),
    [
        ("cnn_article", "After storm, forecasters see smooth sailing for Thanksgiving", "CNN"),
        (
            "yna_co_kr",
            "N. Korea slams S. Korea for joint military drill, warns of consequences",
            "Yonhap News Agency",
        ),
        ("chinese_article_002", "短缺药品保供稳价 全力保障临床用药需求", "新华网"),
        (
            "spanish_article",
            "Anticorrupción decidirá en Madrid si recurre la imputación de la Infanta",
            "Ultima Hora Mallorca",
        ),
        ("time_001", "James Hansen Calls for Geoengineering as a Climate Solution", "TIME"),
        (
            "article_with_br",
            "'The American friends': New court files expose Sheldon Adelson's security team"
            " involved in US spy operation against Julian Assange",
            "Sott.net",
        ),
    ],
)
def test_titles_lose_the_site_name_and_outlets_are_names(
    page: str, title: str, outlet: str
) -> None:
    article = _read(page)
    assert (article.title, article.source) == (title, outlet)


def test_a_generic_title_gives_way_to_the_headline_the_page_marks_up() -> None:
    """AP's page is titled "News from The Associated Press"; its headline is the hAtom
    ``entry-title``."""
    article = _read("ap_meta_refresh")
    assert article.title == "Father of Orlando gunman known for rambling political videos"
    assert not article.text.startswith("|")


def test_a_page_laid_out_in_a_table_keeps_its_paragraphs() -> None:
    """AP's story sits in one cell of a layout table: read with tables, its 28 paragraphs
    ran together into one, after the headline."""
    text = _read("ap_meta_refresh").text
    assert text.startswith("KABUL, Afghanistan (AP) -- The father of the Orlando nightclub")
    assert text.count("\n\n") >= 20
    assert text.endswith("contributed to this story.")


def test_an_outlet_joined_to_the_title_without_spaces_is_a_name_not_a_host() -> None:
    """AFPBB's <title> ends "国際ニュース：AFPBB News" (a full-width colon, no spaces); the
    outlet was the host name (shown once as "Afpbbcom")."""
    article = _read("japanese_article2")
    assert article.source == "AFPBB News"
    assert (
        article.title == "動画：ナイジェリアで少女らによる自爆攻撃、ロケット弾も撃ち込まれ31人死亡"
    )


def test_marked_headlines_and_title_tails_on_small_pages() -> None:
    page = (
        "<html><head><title>{title}</title>{meta}</head><body><article>{head}"
        "<p>The harbour bridge opened on Monday after four years of work, the council said.</p>"
        "<p>Ferries will keep running on the old route until the end of the month.</p>"
        "</article></body></html>"
    )
    marked = page.format(
        title="News from Harbour Wire",
        meta="",
        head='<h1 itemprop="headline">Harbour bridge opens after four years</h1>',
    )
    assert html_article(marked, path="m").title == "Harbour bridge opens after four years"
    tail = page.format(
        title="Harbour bridge opens 写真1枚 国内ニュース：Harbour Wire",
        meta='<meta property="og:title" content="Harbour bridge opens">',
        head="",
    )
    article = html_article(tail, path="t", url="https://www.harbourwire.example/a/1")
    assert (article.title, article.source) == ("Harbour bridge opens", "Harbour Wire")


def test_the_reader_beats_plain_trafilatura_on_text_and_every_field_it_can() -> None:
    ours, plain = RESULT["summary"]["rag"], RESULT["summary"]["trafilatura"]
    for field in ("f1", "title", "date", "authors"):
        assert ours[field] > plain[field] or ours[field] == plain[field] == 1.0, field


def test_related_links_and_comments_are_not_article_text() -> None:
    time_text = _read("time_001").text
    assert "James Hansen" in time_text
    assert "The Best Inventions of 2023" not in time_text
    assert "Worth Your Time" not in time_text
    spanish = _read("spanish_article").text
    assert "Anticorrupción" in spanish and "Hace 28 minutos" not in spanish


def test_non_english_cookie_and_newsletter_boxes_are_dropped() -> None:
    text = _read("latvian_article").text
    assert "Norvēģijā" in text or "nogruvum" in text
    assert "sīkdatnes" not in text  # the cookie banner
    assert "Piesakies LSM pasta" not in text  # the newsletter box


def test_a_page_that_declares_no_date_has_none() -> None:
    """trafilatura's fuller search dated Mozilla's page 1998-01-01 (a copyright year) and CNN
    Arabic's 2010-07-28 (a script's "?20100728"); a declared date is kept."""
    assert _read("mozilla.org.firefox.developer").published is None
    assert _read("arabic_article").published is None
    assert _read("cnn_article").published == "2013-11-27"
    assert _read("japanese_article").published == "2018-06-19"


def test_a_lead_paragraph_right_above_the_text_is_kept() -> None:
    """LSM's lead is a block of its own above the text (and its og:description); trafilatura
    left it out."""
    text = _read("latvian_article").text
    assert text.startswith("Norvēģijas glābšanas komanda četras dienas pēc tam")
    assert text.count("Norvēģijas glābšanas komanda") == 1


def test_a_summary_under_the_headline_is_not_made_the_first_paragraph() -> None:
    summary = "The council has approved a second bridge over the Alder River after a long fight."
    page = (
        f'<html><head><title>Bridge approved</title><meta property="og:description" '
        f'content="{summary}"></head><body><article><header><h1>Bridge approved</h1>'
        f'<p class="dek">{summary}</p><p>By Jane Doe</p></header><div class="body">'
        "<p>The county board voted 4-1 on Monday to build a second bridge over the Alder "
        "River, a project officials said would cost about $30 million.</p><p>Work is due to "
        "start in the spring and take three years, the board said.</p></div></article>"
        "</body></html>"
    )
    text = html_article(page, path="dek").text
    assert text.startswith("The county board voted") and summary not in text


def test_comment_policies_link_lists_and_donation_boxes_are_not_article_text() -> None:
    arabic = _read("arabic_article").text
    assert "المرصد" in arabic
    assert "ترحب شبكة CNN" not in arabic  # "CNN welcomes lively debate": the comment policy
    assert "الآراء الواردة أدناه" not in arabic  # "the opinions below are not CNN's"
    thai = _read("thai_article").text
    assert "สุรชัย" in thai
    assert "เรื่องที่เกี่ยวข้อง" not in thai  # "related stories" and their links
    assert "PayPal" not in thai and "PromptPay" not in thai  # the donation box
    assert "fb.me/prachatai" not in thai  # "follow Prachatai" profile lines


def test_a_sign_up_prompt_is_not_article_text() -> None:
    text = _read("japanese_article").text
    assert "米朝首脳会談" in text
    assert "会員限定" not in text  # "this article is for members only: register to read on"


def test_a_closing_line_that_introduces_nothing_is_dropped() -> None:
    page = (
        "<html><head><title>Actress shares new photos</title></head><body><article>"
        "<p>The actress shared new photos from the gala on Saturday, where she was one of "
        "the guests of honour.</p><p>She wore a dress in the colours of the national flag, "
        "a choice that fans praised online.</p><p>See more photos:</p></article></body></html>"
    )
    text = html_article(page, path="photos").text
    assert text.endswith("fans praised online.")


def test_lines_wrapped_in_the_source_are_one_paragraph_and_br_still_breaks() -> None:
    """A page that wraps its paragraphs in the HTML (LinkNaija's does) reads as a browser shows
    it: the wraps are spaces, so the sentence is not cut at each one."""
    page = (
        "<html><head><title>Actress shares new photos</title></head><body><article>\n"
        "<div><span>Veteran actress Kate Adebayo, who in 2008 won the\n"
        "Africa Movie Academy Award for Best Actress, has taken\n"
        " to her Instagram page to share new photos of herself.</span></div>\n"
        "<div><span>She flaunted a hand bag in the colours of the national\n"
        "flag at the gala, where she was one of the guests of honour.</span></div>\n"
        "<p>Tickets sold out in an hour.<br>The gala raised 2 million naira for charity"
        " and will return next year, the organisers said.</p>\n"
        "</article></body></html>"
    )
    paragraphs = html_article(page, path="wrapped").text.split("\n\n")
    assert paragraphs[0] == (
        "Veteran actress Kate Adebayo, who in 2008 won the Africa Movie Academy Award for Best "
        "Actress, has taken to her Instagram page to share new photos of herself."
    )
    assert paragraphs[1].startswith("She flaunted a hand bag in the colours of the national flag")
    assert "Tickets sold out in an hour." in paragraphs
    assert paragraphs[-1].startswith("The gala raised")


def test_preformatted_text_keeps_its_lines() -> None:
    from lxml.html import fromstring

    from rag.htmlpage import collapse_source_breaks

    page = fromstring(
        "<html><body><p>one\ntwo</p><pre>line one\nline two</pre>"
        "<script>var a = 1;\nvar b = 2;</script></body></html>"
    )
    collapse_source_breaks(page)
    assert page.find(".//p").text == "one two"
    assert page.find(".//pre").text == "line one\nline two"
    assert page.find(".//script").text == "var a = 1;\nvar b = 2;"


def test_authors_are_written_as_the_page_writes_them_without_the_outlet() -> None:
    assert _read("cnn_article").authors == [
        "Dana A. Ford",
        "James S.A. Corey",
        "Chien-Ming Wang",
        "Tom Watkins",
    ]  # "... and Tom Watkins, CNN": CNN is the outlet
    assert _read("japanese_article").authors == ["日本経済新聞社"]  # the page credits no person
    assert _read("ap_meta_refresh").authors == ["Lynne O'Donnell"]  # "By LYNNE O'DONNELL"


def test_the_publisher_is_not_an_author_beside_a_person() -> None:
    page = (
        "<html><head><title>Harbour bridge opens | Harbour Wire</title>"
        '<meta name="author" content="Harbour Media Group">'
        '<meta property="article:author" content="https://www.facebook.com/harbourwire">'
        '<meta name="copyright" content="Copyright (c) Harbour Media Group 2023">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Harbour '
        'bridge opens", "author": [{"@type": "Person", "name": "Amanda \\"Tania\\" Tan"}]}'
        "</script></head><body><article><p>The harbour bridge opened on Monday after four "
        "years of work, the council said.</p><p>Ferries will keep running on the old route "
        "until the end of the month.</p></article></body></html>"
    )
    assert html_article(page, path="p").authors == ['Amanda "Tania" Tan']


def test_page_authors_reads_odd_json_ld_and_keeps_an_organisation_alone() -> None:
    ld = [
        {"@type": "BreadcrumbList", "author": "Not An Author"},
        {"@type": ["NewsArticle"], "author": [{"name": ["Jo Bloggs", 7]}, {"name": None}, 3]},
    ]
    assert page_authors(ld, {"author": "Harbour Wire"}, ["Harbour Wire"]) == ["Jo Bloggs"]
    only = [{"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Harbour Wire"}}]
    assert page_authors(only, {}, ["Harbour Wire"]) == ["Harbour Wire"]


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        (
            "By Jeremy Herb, Lauren del Valle and Kara Scannell, CNN",
            ["Jeremy Herb", "Lauren del Valle", "Kara Scannell", "CNN"],
        ),
        ("https://www.facebook.com/yonhapenglish", []),
        ("Submitted on Mon, 2019-01-21 13:49", []),
        ("By: CNN Wire", ["CNN Wire"]),
        ("AFP", ["AFP"]),
    ],
)
def test_split_names(byline: str, names: list[str]) -> None:
    assert split_names(byline) == names


def test_the_outlet_comes_from_the_copyright_notice_when_nothing_else_names_it() -> None:
    """AP's page has no og:site_name, JSON-LD or site name in its <title>; its footer says
    "©2015 The Associated Press. All rights reserved."."""
    assert _read("ap_meta_refresh").source == "The Associated Press"


@pytest.mark.parametrize(
    ("notice", "holder"),
    [
        ("©2015 The Associated Press.\n All rights reserved. Terms", "The Associated Press"),
        ("© 2000-2018 AutoIndustriya.com, Inc. All Rights Reserved.", "AutoIndustriya.com"),
        ("Copyright © 2024 Harbour-Wire Media - All Rights Reserved", "Harbour-Wire Media"),
        ("© Noelia Páez/Instagram", ""),  # a photo credit reserves nothing
        ("© 2021, Jebkādu materiālu izmantošana atļauta tikai ar lsm.lv", ""),
    ],
)
def test_copyright_holder(notice: str, holder: str) -> None:
    assert copyright_holder([], {}, [notice]) == holder


def test_copyright_notices_are_dropped_whole_lines_and_line_endings() -> None:
    text = (
        "The storm passed on Monday.\n\n"
        "™ & © 2016 Cable News Network, Inc., a Time Warner Company. All rights reserved.\n\n"
        "Writers in Kabul contributed to this story. © 2016 The Associated Press. All rights"
        " reserved. This material may not be published, broadcast, rewritten or redistributed."
    )
    assert clean_article_text(text) == (
        "The storm passed on Monday.\n\nWriters in Kabul contributed to this story."
    )
    kept = "The court ruled that © marks do not make a work protected. All rights reserved, he said"
    assert clean_article_text(kept) == kept


def test_a_one_column_layout_table_is_plain_paragraphs() -> None:
    assert unwrap_layout_table("| Headline here |\n\n| First paragraph. |\n\n| |") == (
        "Headline here\n\nFirst paragraph."
    )
    data = "| Team | Points |\n| Roma | 12 |"
    assert unwrap_layout_table(data) == data


@pytest.mark.parametrize(
    ("title", "head", "site"),
    [
        ("Headline here | CNN Politics", "Headline here", "CNN Politics"),
        ("A story -- Puppet Masters -- Sott.net", "A story", "Sott.net"),
        (
            "短缺药品保供稳价 全力保障临床用药需求-新华网",
            "短缺药品保供稳价 全力保障临床用药需求",
            "新华网",
        ),
        ("Man dies of Covid-19", "Man dies of Covid-19", ""),
        (
            "Let me Google that: food-related searches",
            "Let me Google that: food-related searches",
            "",
        ),
    ],
)
def test_strip_site(title: str, head: str, site: str) -> None:
    assert strip_site(title) == (head, site)


def test_mojibake_is_repaired() -> None:
    assert (
        repair_mojibake("Trump\u00e2\u0080\u0099s and\u00c2\u00a0drones")
        == "Trump\u2019s and\u00a0drones"
    )
    assert repair_mojibake("Café à Paris") == "Café à Paris"


def test_only_rags_own_line_reports_a_page_without_text(tmp_path: Path) -> None:
    page = tmp_path / "words.html"
    page.write_text("just some words", encoding="utf-8")
    exe = Path(sys.executable).parent / "rag"
    args = ["ingest", str(page), "--data-dir", str(tmp_path / "store"), "--embedding", "hash"]
    done = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "words.html: no article text found in the HTML" in done.stdout + done.stderr
    assert "trafilatura" not in done.stderr and "ERROR" not in done.stderr


def test_a_file_over_the_size_limit_says_its_exact_size(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(52_475_793)
    [failure] = list(read_path(big))
    assert isinstance(failure, ReadFailure)
    assert (
        failure.reason == "file too large (52,475,793 bytes; the limit is 50 MB, 52,428,800 bytes)"
    )
