"""Who wrote a page, and who owns it: author names and the copyright holder an HTML page
declares.

``page_authors`` reads the authors of the page's JSON-LD article (people and organisations
apart) and its author meta tags (``author``, ``article:author``, ``byl``, ...), splits bylines
("By Dana A. Ford, James S.A. Corey and Tom Watkins, CNN") into names, drops what is not a
name (profile URLs, @handles) and, when the page names a person, the organisations that pose
as authors (the outlet, the publisher, the copyright holder: "CNN", "Condé Nast").
``copyright_holder`` reads "© 2015 The Associated Press. All rights reserved." and its meta
and JSON-LD forms. Both take what ``rag.htmlpage`` has read off the page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

# Meta tags that name a page's authors, most specific first.
AUTHOR_METAS = (
    "article:author",
    "author",
    "article_author",
    "byl",
    "dc.creator",
    "parsely-author",
    "sailthru.author",
)
_ARTICLE_TYPE = re.compile(r"article|posting|report", re.I)
_ORGANISATION_TYPE = re.compile(r"organi[sz]ation|corporation|newsmedia|publisher", re.I)
_SPLIT = re.compile(r"\s*(?:;|\||,|\band\b|&)\s*")
_BY = re.compile(r"^\s*by\s*:?\s+", re.I)
# Not a name: a profile URL, a handle, a host, a date, or a byline's verb ("Submitted on ...").
_NOT_A_NAME = re.compile(
    r"https?:|www\.|@|\.(?:com|org|net)\b|^\W*$|^\d|\d{4}"
    r"|^(?:submitted|posted|published|updated|written|edited|reported)\b",
    re.I,
)
MAX_NAME = 60  # characters; a longer "name" is a sentence


def page_authors(
    ld: Iterable[Mapping[str, Any]], metas: Mapping[str, str], organisations: Iterable[str]
) -> list[str]:
    """The page's authors: its JSON-LD article's and its author metas', in that order.

    ``organisations`` are names that are not authors when the page names a person too (its
    outlet, publisher, copyright holder); when it names no person, the organisations it
    credits are the authors ("CNN Wire", "日本経済新聞社").
    """
    people: list[str] = []
    credited: list[str] = []
    for item in ld:
        if not _ARTICLE_TYPE.search(str(item.get("@type", ""))):
            continue
        for author in _as_list(item.get("author")):
            if isinstance(author, Mapping):
                kind = str(author.get("@type", ""))
                target = credited if _ORGANISATION_TYPE.search(kind) else people
                for name in _as_list(author.get("name")):
                    target.extend(split_names(name) if isinstance(name, str) else [])
            elif isinstance(author, str):
                people.extend(split_names(author))
    for key in AUTHOR_METAS:
        people.extend(split_names(metas.get(key, "")))
    owners = {_squash(name) for name in [*organisations, *credited] if name}
    persons = [name for name in people if _squash(name) not in owners]
    return _unique(persons or [*people, *credited])


def split_names(byline: str) -> list[str]:
    """Names from a byline: "By A, B and C, CNN" -> ["A", "B", "C", "CNN"]; URLs, handles
    and sentences are not names; a name in capitals is written as one ("LYNNE O'DONNELL")."""
    names = []
    for part in _SPLIT.split(_BY.sub("", " ".join(byline.split()))):
        name = _BY.sub("", part).strip(" :-–—()")
        if name.endswith(".") and not re.search(r"\b\w\.$", name):
            name = name[:-1]  # a sentence's full stop, not an initial's ("Dana A.")
        if name and len(name) <= MAX_NAME and not _NOT_A_NAME.search(name):
            names.append(_uncapitalised(name))
    return names


def _uncapitalised(name: str) -> str:
    """A name of two or more words in capitals as a name ("Lynne O'Donnell"); one word in
    capitals is an acronym ("AFP") and stays."""
    return name.title() if name.isupper() and name.isascii() and " " in name else name


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def _squash(name: str) -> str:
    return re.sub(r"\W+", "", unicodedata.normalize("NFKC", name).casefold())


def _unique(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for name in names:
        if _squash(name) not in seen:
            seen.add(_squash(name))
            out.append(name)
    return out


# --- copyright ----------------------------------------------------------------------------------

# "©2015 The Associated Press. All rights reserved.", "Copyright (c) Condé Nast 2023",
# "© 2000-2018 AutoIndustriya.com, Inc. All Rights Reserved."
_YEARS = r"\d{4}(?:\s*[-–]\s*\d{4})?"
_NOTICE = re.compile(
    rf"(?:©|\(c\)|copyright)(?:\s*(?:©|\(c\)))?\s*(?:{_YEARS}\s*,?\s*)?"
    rf"(?P<holder>[^\W\d](?:[^.,;|©\n]|\.(?=\w)){{1,58}}?)"
    rf"\s*(?:,?\s*(?:inc|llc|ltd|plc|gmbh)\b\.?)?\s*(?:{_YEARS})?"
    rf"\s*(?:[.,;|](?!\w)|\s[–—-]\s|all rights reserved|$)",
    re.I,
)


def copyright_holder(
    ld: Iterable[Mapping[str, Any]], metas: Mapping[str, str], notices: Iterable[str]
) -> str:
    """Who owns the page: JSON-LD ``copyrightHolder``, the ``copyright`` meta, else the last
    "© year Holder. All rights reserved." notice in the page's text ("" when none says)."""
    for item in ld:
        holder = item.get("copyrightHolder")
        name = holder.get("name") if isinstance(holder, Mapping) else holder
        if isinstance(name, str) and name.strip():
            return " ".join(name.split())
    meta = " ".join(metas.get("copyright", "").split())
    if holder := _holder(meta, need_reserved=False):
        return holder
    if meta and len(meta.split()) <= 6 and not re.search(r"\d|©|\(c\)", meta, re.I):
        return meta  # the holder's name alone: <meta name="copyright" content="Yonhapnews">
    found = ""
    for notice in notices:
        found = _holder(notice, need_reserved=True) or found
    return found


def _holder(text: str, need_reserved: bool) -> str:
    """The holder in one copyright notice; a notice in the page's text must reserve rights
    (a photo credit "© Noelia Páez/Instagram" names no site)."""
    text = " ".join(text.split())
    if need_reserved and "rights reserved" not in text.lower():
        return ""
    match = _NOTICE.search(text)
    if not match:
        return ""
    holder = match.group("holder").strip()
    if re.fullmatch(r"(?i)all rights reserved|copyright", holder) or len(holder.split()) > 6:
        return ""
    return holder
