"""Files: find article files and read their bytes safely.

Turns the paths, directories and glob patterns a user gives into a sorted list of article files
(by extension; hidden entries skipped, directory symlinks not followed), and reads one file's
bytes or UTF-8 text without ever blocking on a FIFO or device, reading past a size limit, or
accepting binary or UTF-16 content. Problems are raised as ``Unreadable`` (which ``read_path``
turns into a ``ReadFailure``) or returned as ``ReadFailure``s; nothing here builds articles.
"""

from __future__ import annotations

import codecs
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

FORMATS = ("txt", "md", "html", "json", "jsonl")
ONE_ARTICLE_FORMATS = ("txt", "md", "html")  # a file of these is one article
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


class Unreadable(Exception):
    """Why a file or record cannot be read; ``read_path`` turns it into a ``ReadFailure``."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


# --- finding files ---------------------------------------------------------------------------


def format_for(path: Path) -> str | None:
    """The format implied by a file's extension, or None."""
    return EXTENSIONS.get(path.suffix.lower())


def unsupported(path: Path) -> str:
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
        return [], [ReadFailure(raw, unsupported(path))]
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


def open_regular(path: Path, limit: int | None) -> IO[bytes]:
    """Open a regular file for reading; never opens FIFOs or devices (they could block)."""
    try:
        info = os.stat(path)
        kind = stat.S_IFMT(info.st_mode)
        if kind != stat.S_IFREG:
            raise Unreadable(f"not a regular file: {_KINDS.get(kind, 'a special file')}")
        if limit is not None and info.st_size > limit:
            raise Unreadable(
                f"file too large ({info.st_size:,} bytes; the limit is {limit // MB} MB,"
                f" {limit:,} bytes)"
            )
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise Unreadable(_os_reason(exc)) from exc
    handle = os.fdopen(fd, "rb")
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped for something else since the stat
        handle.close()
        raise Unreadable("not a regular file")
    return handle


def check_head(head: bytes) -> None:
    """Reject binary and UTF-16 content from the first bytes of a file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise Unreadable("UTF-16 text; save the file as UTF-8")
    if b"\x00" in head[:SNIFF_BYTES]:
        raise Unreadable("binary file, not text")


def decode(data: bytes, what: str = "file") -> str:
    """UTF-8 (a BOM is fine) or a ReadFailure that says where the bad byte is."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Unreadable(f"invalid UTF-8 at byte {exc.start} of the {what}", line) from exc


def read_bytes(path: Path, limit: int) -> bytes:
    """The whole file, with size, emptiness and binary checks."""
    with open_regular(path, limit) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise Unreadable(f"file too large (the limit is {limit // MB} MB)")
    if not data.strip():
        raise Unreadable("empty file")
    check_head(data)
    return data


def read_text(path: Path, limit: int) -> str:
    """The whole file as UTF-8 text."""
    text = decode(read_bytes(path, limit))
    if not text.strip():
        raise Unreadable("empty file")
    return text


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"malformed JSON ({exc.msg})", exc.lineno) from exc
    except RecursionError as exc:
        raise Unreadable("JSON nested too deeply") from exc
    except ValueError as exc:
        raise Unreadable(f"malformed JSON ({exc})") from exc
