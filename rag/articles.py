"""Articles: build one ``Article`` record from the fields a reader found.

Cleans the text (no text left after cleaning is ``Unreadable``), derives a stable article id
(the record's own id, else the canonical URL, else the text), normalizes title, source and
author names to single lines, and parses the publication date from the many ways news records
write one into ISO ``YYYY-MM-DD`` (keeping an unparseable date in ``extra``). It knows nothing
about files or formats.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, timedelta
from email.utils import parsedate_tz
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.clean import clean_article_text, normalize_text
from rag.files import Unreadable, encodable
from rag.text import MONTHS
from rag.types import Article, Scalar

# --- building articles -----------------------------------------------------------------------


def build_article(
    *,
    path: Path | str,
    title: str,
    text: str,
    url: str = "",
    published: Any = None,
    source: str = "",
    authors: Any = None,
    record_id: Any = None,
    extra: dict[str, Scalar] | None = None,
) -> Article:
    """Clean and normalize the fields of one article; no text after cleaning is a failure."""
    cleaned = clean_article_text(text)
    if not cleaned:
        raise Unreadable(
            "no article text" + (" after removing boilerplate" if text.strip() else "")
        )
    extra = {
        encodable(k): encodable(v) if isinstance(v, str) else v for k, v in (extra or {}).items()
    }
    iso = parse_published(published)
    if iso is None and published not in (None, ""):
        extra["published_raw"] = encodable(str(published))
    url = encodable(url.strip())
    return Article(
        article_id=encodable(_article_id(record_id, url, cleaned)),
        title=_one_line(title),
        text=cleaned,
        source=_one_line(source) or url_host(url),
        published=iso,
        url=url,
        authors=_authors(authors),
        path=encodable(str(path)),
        extra=extra,
    )


def _one_line(text: str) -> str:
    return " ".join(normalize_text(text).split())


# The id of an article that has neither an id of its own nor a URL: derived from its text, so
# an edited file's article gets a new one (ingest replaces the file's earlier version).
TEXT_ID = "txt-"


def _article_id(record_id: Any, url: str, text: str) -> str:
    """The record's own id, else one derived from the canonical URL, else from the text."""
    if record_id is not None and not isinstance(record_id, dict | list):
        own = str(record_id).strip()
        if own:
            return own
    if url:
        return "url-" + hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]
    return TEXT_ID + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no query, fragment or trailing slash."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. a broken IPv6 host
        return url.strip()
    path = parts.path.rstrip("/")
    if not parts.netloc:
        return path
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def url_host(url: str) -> str:
    """The host of a URL as an outlet key (no ``www.``), or an empty string."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return outlet_key(host)


# --- outlets -----------------------------------------------------------------------------------

_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "news"}


def date_number(iso: str | None) -> int:
    """YYYYMMDD as an integer (0 when unknown) so Chroma can range-filter dates."""
    if not iso:
        return 0
    try:
        d = date.fromisoformat(iso[:10])
    except ValueError:
        return 0
    return d.year * 10000 + d.month * 100 + d.day


def outlet_key(outlet: str) -> str:
    """How an outlet name or host is stored and compared: lowercase, single spaces, no ``www.``."""
    return " ".join(outlet.lower().split()).removeprefix("www.")


def outlet_stem(outlet: str) -> str:
    """The name a host stands for ("edition.cnn.com", "bbc.co.uk" -> "cnn", "bbc"); a name
    that is not a host is its own key."""
    key = outlet_key(outlet)
    if " " in key or "." not in key:
        return key
    labels = key.split(".")[:-1]  # drop the top-level domain
    if len(labels) > 1 and labels[-1] in _SECOND_LEVEL:
        labels = labels[:-1]
    return labels[-1] or key


def same_outlet(wanted: str, outlet: str) -> bool:
    """Whether ``--source wanted`` means this outlet: names and hosts alike, with or without
    ``www.``, case-insensitively ("cnn.com" and "CNN" are one outlet)."""
    return outlet_key(wanted) == outlet_key(outlet) or outlet_stem(wanted) == outlet_stem(outlet)


_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\||,|\band\b|&)\s*")


def _authors(value: Any) -> list[str]:
    """A clean list of author names from a list or a 'A, B and C' string."""
    if isinstance(value, str):
        items: list[Any] = _AUTHOR_SPLIT.split(re.sub(r"(?i)^\s*by\s+", "", value))
    elif isinstance(value, list):
        items = value
    else:
        return []
    names: list[str] = []
    for item in items:
        if isinstance(item, str):
            name = re.sub(r"(?i)^by\s+", "", _one_line(item))
            if name and name not in names:
                names.append(name)
    return names


# --- dates -----------------------------------------------------------------------------------

_MONTHS = {m[:3]: i + 1 for i, m in enumerate(MONTHS)}
_MONTH = rf"({'|'.join(_MONTHS)})[a-z]*\.?"
_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?![\d])")
_COMPACT_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_MONTH_DAY_YEAR = re.compile(_MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", re.I)
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(\d{4})", re.I)
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_published(value: Any) -> str | None:
    """An ISO ``YYYY-MM-DD`` date from the many ways news records write one, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and 18000101 <= value <= 22001231:
        value = str(value)  # 20230512
    elif isinstance(value, int | float):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
        try:
            return (date(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if match := _ISO_DATE.match(text) or _COMPACT_DATE.fullmatch(text):
        return _valid(match.group(1), match.group(2), match.group(3))
    if parsed := parsedate_tz(text):  # RFC 2822: "Fri, 12 May 2023 10:00:00 GMT"
        return _valid(parsed[0], parsed[1], parsed[2])
    if match := _MONTH_DAY_YEAR.search(text):
        return _valid(match.group(3), _MONTHS[match.group(1).lower()], match.group(2))
    if match := _DAY_MONTH_YEAR.search(text):
        return _valid(match.group(3), _MONTHS[match.group(2).lower()], match.group(1))
    if match := _US_DATE.fullmatch(text):
        return _valid(match.group(3), match.group(1), match.group(2))
    if match := _ISO_DATE.search(text):
        return _valid(match.group(1), match.group(2), match.group(3))
    return None


def _valid(year: Any, month: Any, day: Any) -> str | None:
    try:
        found = date(int(year), int(month), int(day))
    except (TypeError, ValueError):
        return None
    return found.isoformat() if 1800 <= found.year <= 2200 else None
