"""Readers: article files (txt, md, html, json, jsonl) in, ``Article``s and ``ReadFailure``s out.

Nothing here raises on bad input: every problem becomes a ``ReadFailure`` naming the file (and
line), and reading goes on with the next record or file.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from email.utils import parsedate_tz
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from rag.clean import clean_article_text, normalize_text
from rag.types import Article, Scalar

FORMATS = ("txt", "md", "html", "json", "jsonl")
EXTENSIONS = {
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
MB = 1024 * 1024
MAX_ARTICLE_BYTES = 50 * MB  # one-article files (txt, md, html) and one JSONL line
MAX_JSON_BYTES = 500 * MB  # a .json file is parsed whole
SNIFF_BYTES = 8192  # a NUL byte in the first 8 KB means a binary file


@dataclass
class ReadFailure:
    """A file, or a record in it, that could not be read as an article."""

    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return encodable(f"{where}: {self.reason}")


def encodable(text: str) -> str:
    """Text that encodes as UTF-8: lone surrogates (undecodable bytes in a file name, a
    ``\\ud800`` escape in JSON) become backslash escapes instead of crashing a print or a hash."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


class _Bad(Exception):
    """Internal: why a file or record cannot be read (becomes a ReadFailure)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


# --- finding files ---------------------------------------------------------------------------


def format_for(path: Path) -> str | None:
    """The format implied by a file's extension, or None."""
    return EXTENSIONS.get(path.suffix.lower())


def _unsupported(path: Path) -> str:
    suffix = path.suffix or "(none)"
    return f"unsupported file type '{suffix}' (use --format)"


def expand_paths(paths: list[str], fmt: str | None = None) -> tuple[list[Path], list[ReadFailure]]:
    """Files, directories (recursive) and glob patterns to a sorted, de-duplicated file list."""
    files: list[Path] = []
    failures: list[ReadFailure] = []
    seen: set[str] = set()
    for raw in paths:
        found, failed = _expand_one(raw, fmt)
        failures.extend(failed)
        for path in found:
            key = os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                files.append(path)
    return files, failures


def _expand_one(raw: str, fmt: str | None) -> tuple[list[Path], list[ReadFailure]]:
    path = Path(raw).expanduser()
    try:
        info = path.stat()
    except FileNotFoundError:
        if any(c in raw for c in "*?["):
            return _expand_glob(raw, fmt)
        return [], [ReadFailure(raw, "no such file or directory")]
    except OSError as exc:
        return [], [ReadFailure(raw, _os_reason(exc))]
    if stat.S_ISDIR(info.st_mode):
        return _walk(path, fmt)
    if fmt is None and format_for(path) is None:
        return [], [ReadFailure(raw, _unsupported(path))]
    return [path], []


def _expand_glob(pattern: str, fmt: str | None) -> tuple[list[Path], list[ReadFailure]]:
    """Glob with pathlib, which does not follow directory symlinks for ``**``."""
    parts = Path(pattern).expanduser().parts
    fixed = next((i for i, p in enumerate(parts) if any(c in p for c in "*?[")), len(parts))
    base = Path(*parts[:fixed]) if fixed else Path(".")
    rest = str(Path(*parts[fixed:]))
    files: list[Path] = []
    failures: list[ReadFailure] = []
    try:
        matches = sorted(base.glob(rest))
    except (OSError, ValueError) as exc:
        return [], [ReadFailure(pattern, f"bad pattern ({exc})")]
    for match in matches:
        if any(p.startswith(".") for p in match.relative_to(base).parts):
            continue
        if match.is_dir():
            found, failed = _walk(match, fmt)
            files.extend(found)
            failures.extend(failed)
        elif match.is_file() and (fmt is not None or format_for(match) is not None):
            files.append(match)
    if not files and not failures:
        failures.append(ReadFailure(pattern, "no article files match this pattern"))
    return files, failures


def _walk(root: Path, fmt: str | None) -> tuple[list[Path], list[ReadFailure]]:
    """Article files under root, skipping hidden entries; directory symlinks are not followed."""
    wanted = {ext for ext, kind in EXTENSIONS.items() if fmt in (None, kind)}
    files: list[Path] = []
    failures: list[ReadFailure] = []
    visited: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in visited:
                continue
            visited.add((info.st_dev, info.st_ino))
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as exc:
            failures.append(ReadFailure(str(folder), _os_reason(exc)))
            continue
        for entry in listing:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_symlink() and entry.is_dir():
                    continue  # directory symlinks are not followed (no loops)
                elif Path(entry.name).suffix.lower() in wanted:
                    files.append(Path(entry.path))
            except OSError as exc:  # e.g. a symlink loop
                if Path(entry.name).suffix.lower() in wanted:
                    failures.append(ReadFailure(entry.path, _os_reason(exc)))
    return sorted(files), failures


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return (exc.strerror or str(exc)).lower()


# --- reading bytes safely --------------------------------------------------------------------

_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def _open_regular(path: Path, limit: int | None) -> IO[bytes]:
    """Open a regular file for reading; never opens FIFOs or devices (they could block)."""
    try:
        info = os.stat(path)
        kind = stat.S_IFMT(info.st_mode)
        if kind != stat.S_IFREG:
            raise _Bad(f"not a regular file: {_KINDS.get(kind, 'a special file')}")
        if limit is not None and info.st_size > limit:
            raise _Bad(
                f"file too large ({info.st_size / MB:.1f} MB; the limit is {limit // MB} MB)"
            )
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _Bad(_os_reason(exc)) from exc
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
        handle.close()
        raise _Bad("not a regular file")
    return handle


def _check_head(head: bytes) -> None:
    """Reject binary and UTF-16 content from the first bytes of a file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise _Bad("UTF-16 text; save the file as UTF-8")
    if b"\x00" in head[:SNIFF_BYTES]:
        raise _Bad("binary file, not text")


def _decode(data: bytes, what: str = "file") -> str:
    """UTF-8 (a BOM is fine) or a ReadFailure that says where the bad byte is."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _Bad(f"invalid UTF-8 at byte {exc.start} of the {what}", line) from exc


def _read_bytes(path: Path, limit: int) -> bytes:
    """The whole file, with size, emptiness and binary checks."""
    with _open_regular(path, limit) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _Bad(f"file too large (the limit is {limit // MB} MB)")
    if not data.strip():
        raise _Bad("empty file")
    _check_head(data)
    return data


def _read_text(path: Path, limit: int) -> str:
    """The whole file as UTF-8 text."""
    text = _decode(_read_bytes(path, limit))
    if not text.strip():
        raise _Bad("empty file")
    return text


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Bad(f"malformed JSON ({exc.msg})", exc.lineno) from exc
    except RecursionError as exc:
        raise _Bad("JSON nested too deeply") from exc
    except ValueError as exc:
        raise _Bad(f"malformed JSON ({exc})") from exc


# --- the entry point -------------------------------------------------------------------------


def read_path(path: Path, fmt: str | None = None) -> Iterator[Article | ReadFailure]:
    """Articles from one file; fmt (txt, md, html, json, jsonl) overrides the extension."""
    name = str(path)
    kind = fmt.lower() if fmt else format_for(path)
    if kind is None:
        yield ReadFailure(name, _unsupported(path))
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
    except _Bad as exc:
        yield ReadFailure(name, exc.reason, exc.line)
    except (MemoryError, RecursionError) as exc:
        yield ReadFailure(name, f"too large or too deeply nested to read ({type(exc).__name__})")
    except Exception as exc:  # a reader bug must not stop an ingest of thousands of files
        yield ReadFailure(name, f"unexpected error: {type(exc).__name__}: {exc}")


# --- json and jsonl --------------------------------------------------------------------------


def _read_json(path: Path) -> Iterator[Article | ReadFailure]:
    data = _parse_json(_read_text(path, MAX_JSON_BYTES))
    if isinstance(data, dict):
        yield _record_article(data, path)
        return
    if not isinstance(data, list):
        raise _Bad(f"expected an article object or a list of them, not {_json_type(data)}")
    if not data:
        raise _Bad("empty list, no articles")
    for i, record in enumerate(data, 1):
        try:
            yield _record_article(record, path)
        except _Bad as exc:
            yield ReadFailure(str(path), f"item {i}: {exc.reason}")


def _read_jsonl(path: Path) -> Iterator[Article | ReadFailure]:
    name = str(path)
    records = 0
    with _open_regular(path, None) as handle:
        _check_head(handle.read(SNIFF_BYTES))
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
                yield _record_article(_parse_json(_decode(raw, "line")), path)
            except _Bad as exc:
                yield ReadFailure(name, exc.reason, number)
    if not records:
        raise _Bad("empty file")


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
        raise _Bad(f"expected an article object, not {_json_type(record)}")

    def pick(field: str) -> Any:
        return next((record[k] for k in _ALIASES[field] if record.get(k) not in (None, "")), None)

    extra = {
        k: v
        for k, v in record.items()
        if k not in _CONSUMED and isinstance(v, str | int | float | bool)
    }
    return _build_article(
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
    text = normalize_text(_read_text(path, MAX_ARTICLE_BYTES))
    meta, body = _split_header(text, markdown)
    title = meta.pop("title", "")
    if not title:
        title, _, body = body.partition("\n")
        if markdown:
            title = re.sub(r"^#{1,6}\s+|\s+#+$", "", title)
        if not body.strip():  # a one-paragraph file: the paragraph is the text too
            body = title
    return _build_article(
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
    html = _decode_html(path)
    import trafilatura  # slow to import; only HTML needs it
    from trafilatura.settings import Document

    doc = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
    )
    body = doc.text if isinstance(doc, Document) else None
    if not isinstance(doc, Document) or not body or not body.strip():
        raise _Bad("no article text found in the HTML")
    title = doc.title or _html_title(html)
    paragraphs = [p for p in normalize_text(body).split("\n") if p]
    if paragraphs and title and paragraphs[0].lower() == normalize_text(title).lower():
        paragraphs = paragraphs[1:]  # trafilatura repeats the headline as the first line
    return _build_article(
        path=path,
        title=title,
        text="\n\n".join(paragraphs),
        url=doc.url or "",
        published=doc.date,
        source=doc.sitename or "",
        authors=doc.author,
    )


def _decode_html(path: Path) -> str:
    """HTML as text: UTF-8, else the charset the page declares."""
    data = _read_bytes(path, MAX_ARTICLE_BYTES)
    try:
        return _decode(data)
    except _Bad:
        match = _META_CHARSET.search(data[:4096])
        charset = match.group(1).decode("ascii").lower() if match else ""
        if charset and charset.replace("-", "") != "utf8":
            try:
                return data.decode(charset)
            except (LookupError, UnicodeDecodeError):
                pass
        raise


def _html_title(html: str) -> str:
    """The page's <title>, when trafilatura found no headline."""
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(encoding="utf-8")
    try:
        page = lxml_html.document_fromstring(html.encode("utf-8"), parser=parser)
        return page.findtext(".//title") or ""
    except Exception:  # lxml raises several types on hopeless markup
        return ""


# --- building articles -----------------------------------------------------------------------


def _build_article(
    *,
    path: Path,
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
        raise _Bad("no article text" + (" after removing boilerplate" if text.strip() else ""))
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


def _article_id(record_id: Any, url: str, text: str) -> str:
    """The record's own id, else one derived from the canonical URL, else from the text."""
    if record_id is not None and not isinstance(record_id, dict | list):
        own = str(record_id).strip()
        if own:
            return own
    if url:
        return "url-" + hashlib.sha1(canonical_url(url).encode("utf-8")).hexdigest()[:16]
    return "txt-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


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
    """The host of a URL without ``www.``, or an empty string."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


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

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
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
