"""News text cleaning: normalization, boilerplate removal, and the seed article."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.clean import (
    MAX_WORD,
    clean_article_text,
    is_boilerplate,
    normalize_text,
    strip_boilerplate,
)

SEED = Path(__file__).resolve().parents[1] / "seeds" / "erdogan-rival-accuses-russia-deep-fake.txt"

PROSE = (
    "The county board voted 4-1 on Monday to build a second bridge over the Alder River, "
    "a project officials said would cost about $30 million and take three years."
)

# --- normalize_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u2018deep fake\u2019 and \u201ctrue\u201d", "'deep fake' and \"true\""),
        ("\u201alow\u201b \u201elow\u201f", "'low' \"low\""),
        ("\u00abguillemets\u00bb", '"guillemets"'),
        ("em \u2014 en \u2013 dashes stay", "em \u2014 en \u2013 dashes stay"),
        (
            "non\u00a0breaking\u2009thin\u202fnarrow\u3000ideographic",
            "non breaking thin narrow ideographic",
        ),
        ("zero\u200bwidth\u200c\u200d\u2060 joiners", "zerowidth joiners"),
        ("\ufeffbyte order mark", "byte order mark"),
        (
            "bidi\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069 marks",
            "bidi marks",
        ),
        ("bell\x07 escape\x1b c1\x80\x9f chars", "bell escape c1 chars"),
        ("tabs\t\tand   spaces", "tabs and spaces"),
        ("  padded line  \n  next line  ", "padded line\nnext line"),
        ("one\n\n\n\n\ntwo", "one\n\ntwo"),
        ("windows\r\nline\rends", "windows\nline\nends"),
        ("line\u2028separator", "line\nseparator"),
        ("cafe\u0301", "caf\u00e9"),
        ("  \n\n  ", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


def test_normalize_replaces_lone_surrogates() -> None:
    assert normalize_text("bad \ud800 half") == "bad \ufffd half"


@given(st.text())
def test_normalize_is_idempotent_and_never_crashes(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once
    clean_article_text(text)


# --- boilerplate, one family at a time -------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        # subscribe prompts
        "\u203a Subscribe",
        "Subscribe",
        "Subscribe now",
        "Sign up for our newsletter to get the morning briefing.",
        "Sign up for the Valley Weekly newsletter. Explore local news every Friday.",
        "SPORTS NEWSLETTER:Sign up now to get daily updates in your inbox",
        "What's everyone talking about? Sign up for our trending newsletter",
        "Thank you for supporting our journalism. You can subscribe to our print edition here.",
        "Support local journalism. Subscribe to example.com today.",
        "These articles are for Example Daily subscribers. You can sign up here.",
        # The Week newsletter / privacy consent block
        "We will use the details you have shared to manage your registration. You agree to it.",
        "Would you like to receive The WeekDay newsletter ?",
        "The WeekDay newsletter provides you with a daily digest of news and analysis.",
        "If you wish to object to the use of your data in this way, please tick here.",
        "'We' includes The Week and other Future Publishing Limited brands as detailed here.",
        # cookies and privacy
        "We use cookies to improve your experience on our site.",
        "By continuing to use this website you agree to our terms.",
        "Accept all cookies",
        "Privacy Policy",
        "Do Not Sell My Personal Information",
        # comment forms and reCAPTCHA
        "LEAVE A REPLY",
        "Please enter your comment!",
        "Please enter your name here",
        "You have entered an incorrect email address!",
        "The reCAPTCHA verification period has expired. Please reload the page.",
        # link lists and related links
        "More Articles",
        "Related Articles",
        "You may also like:",
        "Read more:",
        "Read more here.",
        "More:Ferry strike enters second week as talks stall",
        "RELATED: Ferry strike enters second week",
        "Click here to see photos from the parade.",
        # ads and ad feedback
        "Advertisement",
        "Story continues below advertisement",
        "How relevant is this ad to you?",
        "Video player was slow to load content",
        # share buttons and promos
        "Share this article",
        "Share on Facebook",
        "Share this story on Twitter",
        "Copy this url to your clipboard Link copied to clipboard",
        "Follow us on Facebook! Like our page to get updates",
        "(Image credit: Jane Doe/Getty Images)",
        # horizontal rules
        "---",
        "* * *",
        # a widget's placeholder (CNN's weather box)
        "Loading weather data ...",
        "Loading\u2026",
    ],
)
def test_boilerplate_lines_are_recognized(line: str) -> None:
    assert is_boilerplate(normalize_text(line))
    assert PROSE in clean_article_text(f"{PROSE}\n\n{line}\n\n{PROSE}")
    assert line.strip("\u203a ") not in clean_article_text(f"{PROSE}\n\n{line}\n\n{PROSE}")


@pytest.mark.parametrize(
    "line",
    [
        PROSE,
        "Subscribers to the streaming service rose 12% in the quarter, the company said.",
        "The newsletter, which has 40,000 readers, said subscribe rates doubled.",
        "Readers can sign up for the newsletter at the library, officials said.",
        "Advertisement spending fell sharply in the second quarter.",
        "More than 200 people attended the hearing.",
        "Related charges were dropped on Friday.",
        "The cookie policy dispute reached the appeals court on Monday.",
        "Share prices rose 3% after the announcement.",
        "Comments",
        "UP NEXT",
        "Maryland",
        "Loading of the ferries resumed at dawn...",
    ],
)
def test_news_prose_is_kept(line: str) -> None:
    assert not is_boilerplate(line)
    assert clean_article_text(f"{PROSE}\n\n{line}") == f"{PROSE}\n\n{line}"


def test_profile_lines_that_end_a_text_are_dropped_in_any_language() -> None:
    """Prachatai ends with "Facebook https://fb.me/prachatai" in Thai; reporters' contact
    lines end with a handle."""
    ending = (
        "\u0e40\u0e1f\u0e0b\u0e1a\u0e38\u0e4a\u0e01 https://fb.me/harbourwire\n"
        "Twitter: https://twitter.com/harbourwire\n\nLINE ID = @harbourwire"
    )
    assert clean_article_text(f"{PROSE}\n\n{ending}") == PROSE
    assert clean_article_text(f"{PROSE}\n\nEmail: jo@example.com\nTwitter: @jo") == (
        f"{PROSE}\n\nEmail: jo@example.com"
    )
    kept = [
        f"{PROSE}\n\nSPONSOR: Harbour Wire\nTWITTER: @driver_one\n\n{PROSE}",  # a fact sheet
        f"{PROSE}\n\nThe post: https://twitter.com/harbourwire/status/1070415840187744258",
        f"{PROSE}\n\nShe wrote on https://twitter.com/harbourwire that the talks failed.",
    ]
    for text in kept:
        assert clean_article_text(text) == text


def test_trailing_newsletter_sentence_is_cut_from_prose() -> None:
    line = (
        "A man balanced a spoon on his nose for four hours, said the Daily Planet. "
        "For more odd news stories, sign up to the weekly Tall Tales newsletter."
    )
    assert clean_article_text(line) == (
        "A man balanced a spoon on his nose for four hours, said the Daily Planet."
    )


def test_ad_feedback_form_is_removed_whole() -> None:
    form = "\n".join(
        [
            "CNN values your feedback",
            "1. How relevant is this ad to you?",
            "2. Did you encounter any technical issues?",
            "Video player was slow to load content",
            "Ad froze or did not finish loading",
            "Other issues",
            "Cancel",
            "Submit",
            "Thanks! Your effort and feedback are much appreciated.",
        ]
    )
    assert clean_article_text(f"{PROSE}\n\n{form}\n\n{PROSE}") == f"{PROSE}\n\n{PROSE}"


def test_tail_after_end_marker_is_dropped() -> None:
    tail = "LEAVE A REPLY\n\nGreat article, thanks for the detailed reporting on the bridge!\n\nJoe"
    assert clean_article_text(f"{PROSE}\n\n{PROSE}\n\n{tail}") == f"{PROSE}\n\n{PROSE}"


def test_end_marker_early_in_text_drops_only_its_line() -> None:
    text = f"More Articles\n\n{PROSE}\n\n{PROSE}\n\n{PROSE}\n\n{PROSE}"
    assert strip_boilerplate(text).strip() == f"{PROSE}\n\n{PROSE}\n\n{PROSE}\n\n{PROSE}"


def test_long_lines_are_never_boilerplate() -> None:
    assert not is_boilerplate("Subscribe " + "to the idea that the river will flood " * 20)


# --- the seed article ------------------------------------------------------------------------

SEED_BOILERPLATE = [
    "\u203a Subscribe",
    "LEAVE A REPLY",
    "Please enter your comment!",
    "Please enter your name here",
    "The reCAPTCHA verification period has expired. Please reload the page.",
    "More Articles",
]


def test_seed_article_is_cleaned() -> None:
    cleaned = clean_article_text(SEED.read_text(encoding="utf-8"))
    assert cleaned.endswith('Moscow "never interferes in the domestic affairs" of other countries.')
    lines = cleaned.split("\n")
    for boilerplate in SEED_BOILERPLATE:
        assert boilerplate not in lines
    assert "reCAPTCHA" not in cleaned
    assert (
        '"We strongly reject such statements, we officially declare that there is no interference.'
        in cleaned
    )
    assert "\n\n\n" not in cleaned
    assert "\u201c" not in cleaned and "\u2019" not in cleaned


def test_data_blobs_are_dropped_and_prose_kept() -> None:
    blob = "aGVsbG8gd29ybGQ" * 40  # 600 characters of base64, no space
    url = "https://t.example.com/c?" + "&".join(f"utm_{i}=campaign{i}" for i in range(20))
    text = f"The ferry sank near Izmir. {blob} All twelve were rescued.\n\nSee {url} now."
    assert len(url) >= MAX_WORD
    assert clean_article_text(text) == (
        "The ferry sank near Izmir. All twelve were rescued.\n\nSee now."
    )


def test_long_words_below_the_limit_and_unspaced_scripts_are_kept() -> None:
    word = "Donaudampfschifffahrtsgesellschaftskapitän"
    chinese = "渡轮在伊兹密尔附近沉没，十二名乘客全部获救。" * 20  # no spaces, not ASCII
    link = "https://example.com/news/2023/05/12/ferry-sinks-near-izmir"
    text = f"{word} said so.\n\n{chinese}\n\nRead {link}."
    assert clean_article_text(text) == text


def test_a_ten_megabyte_word_is_dropped_quickly() -> None:
    assert clean_article_text("Headline words.\n\n" + "x" * 10 * 1024 * 1024) == "Headline words."
