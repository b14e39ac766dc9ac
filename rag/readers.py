"""Readers: article files (txt, md, html, json, jsonl) in, ``Article``s and ``ReadFailure``s out.

``read_path`` is the entry point; below it are the per-format readers, each turning one file into
the fields of its articles (JSON records with the usual news field names, a ``Key: value`` header
or Markdown front matter, HTML via trafilatura). Finding files and reading bytes safely is
``rag.files``; cleaning the fields into an ``Article`` is ``rag.articles``. Nothing here raises on
bad input: every problem becomes a ``ReadFailure`` naming the file (and line), and reading goes
on with the next record or file.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

from rag.articles import build_article
from rag.bylines import split_names
from rag.clean import is_layout_table, normalize_text
from rag.files import (
    FORMATS,
    MAX_ARTICLE_BYTES,
    MAX_JSON_BYTES,
    MB,
    SNIFF_BYTES,
    ReadFailure,
    Unreadable,
    check_head,
    decode,
    format_for,
    open_regular,
    parse_json,
    read_bytes,
    read_text,
    unsupported,
)
from rag.htmlpage import (
    PageFacts,
    collapse_source_breaks,
    prune,
    repair_mojibake,
    standfirst,
)
from rag.types import Article, Scalar

# --- the entry point -------------------------------------------------------------------------


def read_path(path: Path, fmt: str | None = None) -> Iterator[Article | ReadFailure]:
    """Articles from one file; fmt (txt, md, html, json, jsonl) overrides the extension."""
    name = str(path)
    kind = fmt.lower() if fmt else format_for(path)
    if kind is None:
        yield ReadFailure(name, unsupported(path))
        return
    if kind not in FORMATS:
        yield ReadFailure(name, f"unknown format {kind!r} (use one of {', '.join(FORMATS)})")
        return
    try:
        if kind == "jsonl":
            yield from _read_jsonl(path)
        elif kind == "json":
            yield from _read_json(path)
        elif kind == "html":
            yield _read_html(path)
        else:
            yield _read_plain(path, markdown=kind == "md")
    except Unreadable as exc:
        yield ReadFailure(name, exc.reason, exc.line)
    except (MemoryError, RecursionError) as exc:
        yield ReadFailure(name, f"too large or too deeply nested to read ({type(exc).__name__})")
    except Exception as exc:  # a reader bug must not stop an ingest of thousands of files
        yield ReadFailure(name, f"unexpected error: {type(exc).__name__}: {exc}")


# --- json and jsonl --------------------------------------------------------------------------


def _read_json(path: Path) -> Iterator[Article | ReadFailure]:
    data = parse_json(read_text(path, MAX_JSON_BYTES))
    if isinstance(data, dict):
        yield _record_article(data, path)
        return
    if not isinstance(data, list):
        raise Unreadable(f"expected an article object or a list of them, not {_json_type(data)}")
    if not data:
        raise Unreadable("empty list, no articles")
    for i, record in enumerate(data, 1):
        try:
            yield _record_article(record, path)
        except Unreadable as exc:
            yield ReadFailure(str(path), f"item {i}: {exc.reason}")


def _read_jsonl(path: Path) -> Iterator[Article | ReadFailure]:
    name = str(path)
    records = 0
    with open_regular(path, None) as handle:
        check_head(handle.read(SNIFF_BYTES))
        handle.seek(0)
        for number, raw in enumerate(_lines(handle), 1):
            if raw is None:
                yield ReadFailure(name, f"line longer than {MAX_ARTICLE_BYTES // MB} MB", number)
                continue
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                continue
            records += 1
            try:
                yield _record_article(parse_json(decode(raw, "line")), path)
            except Unreadable as exc:
                yield ReadFailure(name, exc.reason, number)
    if not records:
        raise Unreadable("empty file")


def _lines(handle: IO[bytes]) -> Iterator[bytes | None]:
    """Lines of a binary file; None for a line over the size limit (which is skipped)."""
    while raw := handle.readline(MAX_ARTICLE_BYTES + 1):
        if len(raw) > MAX_ARTICLE_BYTES and not raw.endswith(b"\n"):
            while (rest := handle.readline(MB)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield raw


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, int | float) else "null")


_ALIASES = {
    "title": ("title", "headline"),
    "text": ("text", "body", "content"),
    "url": ("url", "link"),
    "published": ("published", "publish_date", "date", "published_at"),
    "source": ("source", "outlet", "site"),
    "authors": ("authors", "author"),
}
_CONSUMED = {"id", *(key for keys in _ALIASES.values() for key in keys)}


def _record_article(record: Any, path: Path) -> Article:
    """An Article from a JSON object with the usual news field names."""
    if not isinstance(record, dict):
        raise Unreadable(f"expected an article object, not {_json_type(record)}")

    def pick(field: str) -> Any:
        return next((record[k] for k in _ALIASES[field] if record.get(k) not in (None, "")), None)

    extra = {
        k: v
        for k, v in record.items()
        if k not in _CONSUMED and isinstance(v, str | int | float | bool)
    }
    return build_article(
        path=path,
        title=_as_text(pick("title"), " "),
        text=_as_text(pick("text"), "\n\n"),
        url=_as_text(pick("url"), ""),
        published=pick("published"),
        source=_as_text(pick("source"), " "),
        authors=pick("authors"),
        record_id=record.get("id"),
        extra=extra,
    )


def _as_text(value: Any, joiner: str) -> str:
    """A string field; numbers are stringified, lists of strings joined, anything else empty."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return joiner.join(value)
    return ""


# --- txt and md ------------------------------------------------------------------------------

_HEADER_LINE = re.compile(r"([A-Za-z][A-Za-z _-]{0,30}):[ \t]*(.*)")
_HEADER_KEYS = {
    "title": "title",
    "headline": "title",
    "source": "source",
    "url": "url",
    "link": "url",
    "published": "published",
    "date": "published",
    "author": "authors",
    "authors": "authors",
    "id": "id",
}


def _read_plain(path: Path, markdown: bool) -> Article:
    text = normalize_text(read_text(path, MAX_ARTICLE_BYTES))
    meta, body = _split_header(text, markdown)
    title = meta.pop("title", "")
    if not title:
        title, _, body = body.partition("\n")
        if markdown:
            title = re.sub(r"^#{1,6}\s+|\s+#+$", "", title)
        if not body.strip():  # a one-paragraph file: the paragraph is the text too
            body = title
    return build_article(
        path=path,
        title=title,
        text=body,
        url=meta.pop("url", ""),
        published=meta.pop("published", None),
        source=meta.pop("source", ""),
        authors=meta.pop("authors", None),
        record_id=meta.pop("id", None),
        extra=dict(meta),
    )


def _split_header(text: str, markdown: bool) -> tuple[dict[str, str], str]:
    """A leading ``Key: value`` block (or Markdown front matter) and the rest of the text."""
    if markdown and text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end > 0:
            meta = _header_fields(text[4:end].split("\n"), front_matter=True)
            if meta is not None:
                return meta, text[end + 4 :].lstrip("-").strip()
    block, _, rest = text.partition("\n\n")
    meta = _header_fields(block.split("\n"), front_matter=False)
    return (meta, rest) if meta is not None else ({}, text)


def _header_fields(lines: list[str], front_matter: bool) -> dict[str, str] | None:
    """Fields of a header block, or None when the block is not one (e.g. a headline)."""
    fields: dict[str, str] = {}
    known = False
    for line in lines:
        match = _HEADER_LINE.fullmatch(line)
        if not match:
            if front_matter and not line.strip():
                continue
            return None
        key = match.group(1).strip().lower()
        value = match.group(2).strip().strip("\"'") if front_matter else match.group(2).strip()
        if key in _HEADER_KEYS:
            known = True
            key = _HEADER_KEYS[key]
        else:
            key = key.replace(" ", "_").replace("-", "_")
        if value:
            fields[key] = value
    return fields if known else None


# --- html ------------------------------------------------------------------------------------

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _read_html(path: Path) -> Article:
    return html_article(_decode_html(path), path=str(path))


def html_article(
    html: str, *, path: str, url: str = "", fallback: Mapping[str, Any] | None = None
) -> Article:
    """An Article from a page's HTML. ``url``, when given, is the page's own; ``fallback``
    fills the title, published, source and authors the page lacks.

    The page's own headline, outlet name and authors come from ``rag.htmlpage`` (site names
    taken off the <title>, og:site_name, JSON-LD, copyright notices; JSON-LD and meta
    authors); furniture (comments, link lists, newsletter, cookie and donation boxes) is
    pruned; the text and date are trafilatura's, favouring precision, with the page's lead
    paragraph put back when trafilatura left it out; authors fall back to trafilatura's.
    """
    import trafilatura  # slow to import; only HTML needs it

    page = trafilatura.load_html(html)
    if page is None:
        raise Unreadable("no article text found in the HTML")
    facts = PageFacts.read(page)
    collapse_source_breaks(page)
    prune(page)
    doc = _extract(page, url, tables=True)
    body = doc.text if doc else None
    if body and is_layout_table(normalize_text(body)):
        # a page laid out in a one-column table (AP's) comes out as one cell per story,
        # its paragraphs run together; read without tables, they are paragraphs again
        flat = _extract(page, url, tables=False)
        if flat and flat.text and len(flat.text.strip()) >= len(body) * LAYOUT_TEXT_KEPT:
            doc, body = flat, flat.text
    if not doc or not body or not body.strip():
        raise Unreadable("no article text found in the HTML")
    more = fallback or {}
    if reason := facts.not_article(len(body)):
        extra: dict[str, Scalar] = {"not_article": reason}
    else:
        extra = {}
    title = facts.title or doc.title or more.get("title") or ""
    paragraphs = [p for p in normalize_text(repair_mojibake(body)).split("\n") if p]
    repeated = {normalize_text(t).lower() for t in (title, doc.title or "") if t}
    if paragraphs and paragraphs[0].lower() in repeated:
        paragraphs = paragraphs[1:]  # trafilatura repeats the headline as the first line
    if paragraphs and paragraphs[-1].endswith(":"):
        paragraphs = paragraphs[:-1]  # introduces what was not text ("See more photos:")
    if lead := standfirst(page, facts.descriptions, "\n".join(paragraphs)):
        paragraphs.insert(0, normalize_text(lead))
    return build_article(
        path=path,
        title=title,
        text="\n\n".join(paragraphs),
        url=url or doc.url or "",
        published=(doc.date if _declares_a_date(page, url) else None) or more.get("published"),
        source=facts.outlet or more.get("source") or "",
        authors=facts.authors or split_names(doc.author or "") or more.get("authors"),
        extra=extra,
    )


# Reading a layout-table page without tables must keep this share of its text, else the
# table held the story and the table's reading stands.
LAYOUT_TEXT_KEPT = 0.8


def _extract(page: Any, url: str, tables: bool) -> Any:
    """trafilatura's Document for a parsed page, favouring precision (None when it finds no
    text)."""
    import trafilatura
    from trafilatura.settings import Document

    doc = trafilatura.bare_extraction(
        page,
        url=url or None,
        with_metadata=True,
        include_comments=False,
        include_tables=tables,
        include_images=False,
        include_links=False,
        favor_precision=True,
    )
    return doc if isinstance(doc, Document) else None


def _declares_a_date(page: Any, url: str) -> bool:
    """Whether the page says when it was published (date metas, JSON-LD, <time>, its URL).

    Without one, trafilatura's fuller search guesses from any number shaped like a date: a
    script's "?20100728", a copyright year read as 1 January (Mozilla's "1998-01-01").
    """
    from htmldate import find_date

    return find_date(page, url=url or None, extensive_search=False, original_date=True) is not None


def _decode_html(path: Path) -> str:
    """HTML as text: UTF-8, else the charset the page declares."""
    data = read_bytes(path, MAX_ARTICLE_BYTES)
    try:
        return decode(data)
    except Unreadable:
        match = _META_CHARSET.search(data[:4096])
        charset = match.group(1).decode("ascii").lower() if match else ""
        if charset and charset.replace("-", "") != "utf8":
            try:
                return data.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        raise
