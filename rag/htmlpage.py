"""What an HTML page says about itself: its headline without the site's name, its outlet's
name, and page furniture that is not the article.

``PageFacts.read`` takes the parsed page (an lxml tree) and reads ``<title>``, ``og:title``,
``og:site_name``, JSON-LD ``headline`` and ``publisher``, the headline marked up in the
page (hAtom ``entry-title``, microdata ``itemprop="headline"``), the copyright holder and the
authors (``rag.bylines``); ``prune`` removes comment threads, related-story and other link
lists, newsletter, cookie, donation and sign-up boxes and the site's policy notices from the
tree before the text is extracted; ``standfirst`` finds the lead paragraph the page shows
above its text when the extraction left it out. Measured by ``bench/extraction.py`` on
newspaper4k's test pages.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from rag.bylines import copyright_holder, page_authors

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
    authors: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)  # the summaries it declares

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
        owner = copyright_holder(ld, metas, _notices(page))
        outlet = outlet or (owner if _name_like(owner) else "")
        publishers = [_publisher(item) for item in ld]
        types = [str(item.get("@type", "")) for item in ld] + [metas.get("og:type", "")]
        links = sum(len(" ".join(a.text_content().split())) for a in page.iter("a"))
        summaries = [metas.get(k, "") for k in ("og:description", "description")]
        summaries += [str(item.get("description") or "") for item in ld]
        return cls(
            title=title,
            outlet=outlet,
            page_type=" ".join(types).lower(),
            tag_title=tag_title,
            link_chars=links,
            authors=page_authors(ld, metas, [outlet, owner, *publishers]),
            descriptions=list(dict.fromkeys(one_line(d) for d in summaries if d.strip())),
        )


def _notices(page: HtmlElement) -> list[str]:
    """The text of the page's elements that hold a copyright sign or the word."""
    found = page.xpath(
        "//body//text()[contains(., '©') or contains(translate(., 'COPYRIGHT', 'copyright'),"
        " 'copyright')]/.."
    )
    return [
        element.text_content()
        for element in found
        if isinstance(element, HtmlElement) and element.tag not in _NOT_SHOWN
    ]


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

# class or id words (split at spaces, "-", "_" and camelCase humps) of containers that hold no
# article text: comment threads, related-story and recirculation lists, newsletter, cookie and
# share boxes, donation appeals, sign-up and log-in prompts (a paywall's "register to read on").
_FURNITURE_WORD = re.compile(
    r"comments?|recirc|related|newsletters?|cookies?|consent|share|sharing|social"
    r"|subscribe|donate|donations?|regist|register|registration|signup|login",
    re.I,
)
_CLASS_WORDS = re.compile(r"[\s_-]+|(?<=[a-z])(?=[A-Z])")
# Where the links of site furniture point: the site's own policy pages (a comment section's
# "read our guidelines, privacy policy and terms of use") and donation or payment pages.
_POLICY_PAGE = re.compile(
    r"(?:^|[/_.-])(?:privacy|terms|tos|guidelines|cookies?|legal|disclaimer)(?:[/_.-]|$)", re.I
)
_DONATION_PAGE = re.compile(
    r"(?:^|[/_.-])donat(?:e|ions?)(?:[/_.-]|$)"
    r"|^(?:www\.)?(?:paypal\.(?:me|com)|patreon\.com|ko-fi\.com|buymeacoffee\.com)$",
    re.I,
)
FURNITURE_LINKS = 2  # a short box with this many links to such pages is furniture
SHORT_BOX = 500  # characters of text
# A block whose text is this share link text, in two or more links, is a list of links
# ("Related stories" under the last paragraph).
LINK_LIST_SHARE = 0.75
_KEEP = {"html", "body", "main", "article"}
_NOT_SHOWN = {"script", "style", "noscript", "template", "title", "head", "meta"}
_MOST = 0.5  # a container holding this share of the page's text is never furniture


_PREFORMATTED = {"pre", "textarea", "code", "listing", "plaintext", "xmp"}
_SOURCE_BREAK = re.compile(r"[ \t\f\r]*\n\s*")


def collapse_source_breaks(page: HtmlElement) -> None:
    """Line breaks in the page's source are spaces, as a browser shows them.

    A page whose paragraphs are wrapped in its HTML ("won the\\nAfrica Movie Academy Award")
    would otherwise come out of the extraction with a paragraph break at each wrap, and the
    sentences split there. Preformatted text keeps its lines; ``<br>`` still breaks a line.
    """
    kept = {inner for element in page.iter(*_PREFORMATTED, *_NOT_SHOWN) for inner in element.iter()}
    for element in page.iter():
        shown = isinstance(element.tag, str) and element not in kept  # not a comment either
        if shown and element.text and "\n" in element.text:
            element.text = _SOURCE_BREAK.sub(" ", element.text)
        parent = element.getparent()
        if parent not in kept and element.tail and "\n" in element.tail:
            element.tail = _SOURCE_BREAK.sub(" ", element.tail)


def prune(page: HtmlElement) -> int:
    """Remove furniture containers from the tree; how many were removed."""
    body = page.find("body")
    total = len((body if body is not None else page).text_content())
    host = _own_host(page)
    doomed = [
        element
        for element in page.iter()
        if isinstance(element.tag, str)
        and element.tag not in _KEEP
        and element.tag not in _NOT_SHOWN
        and (_named_furniture(element) or _link_furniture(element, host))
        and len(element.text_content()) <= total * _MOST
    ]
    marked = set(doomed)
    removed = 0
    for element in doomed:
        if any(ancestor in marked for ancestor in element.iterancestors()):
            continue  # goes with its container
        element.drop_tree()  # keeps the text that follows it
        removed += 1
    return removed


def _named_furniture(element: HtmlElement) -> bool:
    words = f"{element.get('class', '')} {element.get('id', '')}"
    return any(_FURNITURE_WORD.fullmatch(word) for word in _CLASS_WORDS.split(words) if word)


def _link_furniture(element: HtmlElement, host: str) -> bool:
    """A list of links, or a short box linking to the site's policy or donation pages."""
    links = element.findall(".//a")
    if len(links) < FURNITURE_LINKS:
        return False
    text = " ".join(element.text_content().split())
    linked = sum(len(" ".join(a.text_content().split())) for a in links)
    if text and linked >= len(text) * LINK_LIST_SHARE:
        return True
    if len(text) > SHORT_BOX:
        return False
    targets = [urlsplit(a.get("href") or "") for a in links]
    policy = {t.path for t in targets if t.netloc in ("", host) and _POLICY_PAGE.search(t.path)}
    donation = {t.geturl() for t in targets if _DONATION_PAGE.search(t.netloc or t.path)}
    return len(policy) + len(donation) >= FURNITURE_LINKS


def _own_host(page: HtmlElement) -> str:
    """The host of the page's canonical or og:url ("" when it names neither)."""
    for link in page.iter("link"):
        if (link.get("rel") or "").lower() == "canonical":
            return urlsplit(link.get("href") or "").netloc
    return urlsplit(_metas(page).get("og:url", "")).netloc


# --- the standfirst -------------------------------------------------------------------------------

MIN_LEAD = 40  # characters; a shorter summary ("Latest news") is not a lead paragraph


def standfirst(page: HtmlElement, summaries: list[str], body: str) -> str:
    """The lead paragraph right above the page's text, when the extracted ``body`` lacks it:
    a block whose whole text is a summary the page declares (og:description, description,
    JSON-LD) and whose next block begins ``body`` ("" when there is none). A summary shown
    elsewhere (a subtitle under the headline, a teaser) is not the article's text."""
    first = _squash(body.split("\n", 1)[0])[:MIN_LEAD]
    squashed_body = _squash(body)
    leads = {_squash(s): s for s in summaries if len(s) >= MIN_LEAD}
    leads = {key: s for key, s in leads.items() if key not in squashed_body}
    if not first or not leads:
        return ""
    for element in page.iter():
        if not isinstance(element.tag, str) or element.tag in _NOT_SHOWN:
            continue
        text = _squash(element.text_content())
        if text not in leads:
            continue
        block = element
        while (parent := block.getparent()) is not None and _squash(parent.text_content()) == text:
            block = parent
        after = (
            _squash(s.text_content())
            for s in block.itersiblings()
            if isinstance(s.tag, str) and s.tag not in _NOT_SHOWN
        )
        if next((t for t in after if t), "").startswith(first):
            return leads[text]
    return ""
