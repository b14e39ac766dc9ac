"""What an HTML page says about itself: its headline without the site's name, its outlet's
name, and page furniture that is not the article.

``PageFacts.read`` takes the parsed page (an lxml tree) and reads ``<title>``, ``og:title``,
``og:site_name``, JSON-LD ``headline`` and ``publisher``, and the headline marked up in the
page (hAtom ``entry-title``, microdata ``itemprop="headline"``); ``prune`` removes comment threads,
related-story lists, newsletter and cookie boxes from the tree before the text is extracted.
Measured by ``bench/extraction.py`` on newspaper4k's test pages.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

# --- headlines ---------------------------------------------------------------------------------

# How pages join the headline and the site's name in <title>: "Headline | CNN Politics",
# "Headline -- Puppet Masters -- Sott.net", "Headline » Local » Ultima Hora Mallorca",
# "Headline　：日本経済新聞" and, between CJK characters only, "Headline-新华网".
_CJK = r"\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_SEPARATOR = re.compile(
    rf"\s+(?:\||-{{1,2}}|–|—|»|«|::|·|•|/|：|:)\s+|\s*[|｜]\s*|\u3000+[：:]\s*"
    rf"|(?<=[{_CJK}])[-_](?=[{_CJK}])"
)


def title_parts(title: str) -> list[str]:
    """A <title> split where pages join headline, section and site name."""
    return [p.strip() for p in _SEPARATOR.split(one_line(title)) if p and p.strip()]


def strip_site(title: str) -> tuple[str, str]:
    """(headline, site name) from a <title>: the first part when it is the longest, else the
    longest; the site is the last part after it ("" when the title has one part)."""
    parts = title_parts(title)
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    longest = max(parts, key=len)
    head = parts[0] if len(parts[0]) >= len(longest) * 0.5 else longest
    site = parts[-1] if parts[-1] != head else ""
    return head, site


def one_line(text: str) -> str:
    return " ".join(repair_mojibake(text).split())


_MOJIBAKE = re.compile("[\u00c2-\u00f4][\u0080-\u00bf]")


def repair_mojibake(text: str) -> str:
    """UTF-8 read as Latin-1 ("Trumpâ\\x80\\x99s", "andÂ\\xa0drones") decoded again."""
    if not _MOJIBAKE.search(text):
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


def _squash(text: str) -> str:
    """A headline compared loosely: NFKC, no spaces or quotes, case-folded."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s'\"‘’“”]+", "", text)


# A page that does not say it is an article, with less text than this share of its link
# text, is a list of links (newspaper4k's CNN home page: 0.02; its articles: 0.6 and up).
LINKS_PER_TEXT = 0.25
_ARTICLE_TYPE = re.compile(r"article|blogposting|report")

# --- page facts ---------------------------------------------------------------------------------


@dataclass
class PageFacts:
    """The headline and outlet a page declares (empty when it declares none)."""

    title: str
    outlet: str
    page_type: str  # JSON-LD @type and og:type of the page, lowercased ("" when not said)
    tag_title: str = ""  # the <title> as written
    link_chars: int = 0  # characters of link text on the page

    def not_article(self, text_chars: int) -> str:
        """Why the page is not an article (a home page, a section front), or "".

        A page that says it is an article (og:type, JSON-LD NewsArticle, BlogPosting...) is
        one. Otherwise a page whose <title> begins with the outlet's name is its front page,
        and a page whose text is short beside its links is a list of links.
        """
        if _ARTICLE_TYPE.search(self.page_type):
            return ""
        if self.outlet and _squash(self.tag_title).startswith(_squash(self.outlet)):
            return f"not an article: a front page (its title begins with {self.outlet!r})"
        if text_chars < self.link_chars * LINKS_PER_TEXT:
            return (
                f"not an article: mostly links ({text_chars:,} characters of text, "
                f"{self.link_chars:,} of links)"
            )
        return ""

    @classmethod
    def read(cls, page: HtmlElement) -> PageFacts:
        metas = _metas(page)
        ld = list(_json_ld(page))
        tag_title = one_line(page.findtext(".//title") or "")
        headline, title_site = strip_site(tag_title)
        declared = [strip_site(metas.get(key, ""))[0] for key in ("og:title", "twitter:title")] + [
            one_line(str(item.get("headline") or "")) for item in ld
        ]
        # A declared headline that begins the <title> is the headline without the site's
        # name, however the page joined them ("Headline 写真1枚 国際ニュース：AFPBB News").
        squashed = _squash(tag_title)
        prefixes = [d for d in declared if d and squashed.startswith(_squash(d))]
        marked = _marked_headline(page)
        if prefixes:
            title = max(prefixes, key=len)
        elif marked and _squash(marked) not in squashed:
            # a <title> without the headline ("News from The Associated Press") gives way to
            # the headline the page marks up as the entry's (hAtom, schema.org microdata)
            title = marked
        else:
            title = headline or next((d for d in declared if d), "") or marked
        outlet = _name(metas.get("og:site_name", ""), declared=True)
        outlet = outlet or next((_publisher(item) for item in ld if _publisher(item)), "")
        outlet = outlet or (title_site if _name_like(title_site) else "")
        outlet = outlet or _site_after(tag_title, max(prefixes, key=len) if prefixes else "")
        types = [str(item.get("@type", "")) for item in ld] + [metas.get("og:type", "")]
        links = sum(len(" ".join(a.text_content().split())) for a in page.iter("a"))
        return cls(
            title=title,
            outlet=outlet,
            page_type=" ".join(types).lower(),
            tag_title=tag_title,
            link_chars=links,
        )


_TAIL_SEPARATOR = re.compile(r"[|｜:：»«·•]|\s[-–—/]{1,2}\s")


def _site_after(tag_title: str, headline: str) -> str:
    """The site's name at the end of a <title> that begins with the headline, joined in a
    way ``title_parts`` does not split ("Headline 写真1枚 国際ニュース：AFPBB News")."""
    if not headline or not tag_title.startswith(headline):
        return ""
    parts = [p.strip() for p in _TAIL_SEPARATOR.split(tag_title[len(headline) :])]
    tail = next((p for p in reversed(parts) if p), "")
    return tail if len(parts) > 1 and _name_like(tail) else ""


def _marked_headline(page: HtmlElement) -> str:
    """The headline the page marks up as its entry's: hAtom ``entry-title`` or schema.org
    microdata ``itemprop="headline"`` ("" when it marks none)."""
    for element in page.iter():
        if not isinstance(element.tag, str) or element.tag in {"meta", "title"}:
            continue
        classes = (element.get("class") or "").split()
        if "entry-title" in classes or element.get("itemprop") == "headline":
            text = one_line(element.text_content())
            if 0 < len(text) <= 300:
                return text
    return ""


def _metas(page: HtmlElement) -> dict[str, str]:
    out: dict[str, str] = {}
    for meta in page.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        value = meta.get("content")
        if key and value and key not in out:
            out[key] = value.strip()
    return out


def _json_ld(page: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page (lists and @graph flattened); broken ones skipped."""
    for script in page.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                stack.extend(v for k, v in item.items() if k == "@graph")
                yield item


def _publisher(item: dict[str, Any]) -> str:
    publisher = item.get("publisher")
    if isinstance(publisher, list) and publisher:
        publisher = publisher[0]
    name = publisher.get("name") if isinstance(publisher, dict) else publisher
    return _name(name) if isinstance(name, str) else ""


def _name(value: str, declared: bool = False) -> str:
    """An outlet's name: the first part of "LinkNaija | Nigeria's popular news platform"
    (a name the page declares may look like a host: "Sott.net")."""
    parts = title_parts(value)
    return parts[0] if parts and _name_like(parts[0], hosts=declared) else ""


def _name_like(value: str, hosts: bool = False) -> bool:
    """Short enough to be a name, and (unless ``hosts``) not a host name ("afpbb.com")."""
    if not 0 < len(value) <= 60 or len(value.split()) > 6:
        return False
    return hosts or not re.fullmatch(r"(?:www\.)?[\w-]+(?:\.[\w-]+)+", value)


# --- furniture ------------------------------------------------------------------------------------

# class or id words of containers that hold no article text: comment threads, related-story
# and recirculation lists, newsletter, cookie and share boxes, report-an-error forms.
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:comments?|comment-list|recirc|related|newsletter|cookies?|consent"
    r"|share|sharing|social|subscribe|donate)(?:$|[\s_-])",
    re.I,
)
_KEEP = {"html", "body", "main", "article"}
_MOST = 0.5  # a container holding this share of the page's text is never furniture


def prune(page: HtmlElement) -> int:
    """Remove furniture containers from the tree; how many were removed."""
    body = page.find("body")
    total = len((body if body is not None else page).text_content())
    doomed = []
    for element in page.iter():
        if not isinstance(element.tag, str) or element.tag in _KEEP:
            continue
        words = f"{element.get('class', '')} {element.get('id', '')}"
        if words.strip() and _FURNITURE.search(words):
            doomed.append(element)
    removed = 0
    for element in doomed:
        if element.getparent() is None or len(element.text_content()) > total * _MOST:
            continue
        element.drop_tree()  # keeps the text that follows it
        removed += 1
    return removed
