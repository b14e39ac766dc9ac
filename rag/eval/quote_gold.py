"""The quote gold set (``eval/quotes-gold.jsonl``): records that locate quotes in the corpus,
resolved and checked.

BBC text may not be copied into the project, so a record of ``quotes-gold.jsonl`` holds no
text, only where its quote is: character offsets into the source text of its article and the
sha256 of that slice. ``load`` re-reads the corpus, slices each quote out and checks the hash;
``build`` turns private annotations (records with ``text``) into located records. The format
is described in ``eval/README.md`` ("Quote gold set"); ``eval/quote_gold.py`` is the command
line (check, build).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError

KINDS = ("direct", "indirect")
IDENTIFIED_BY = ("name", "pronoun", "role", "continuation")
# A quote the article gives no speaker for; allowed on optional records only.
UNATTRIBUTED = "none"
# Where a record's text is; ``text`` itself is added only where the source may be copied.
LOCATOR = ("id", "source", "article_id", "start", "end", "sha256", "words")
# Fields of every gold quote.
FIELDS = (
    *LOCATOR,
    "kind",
    "speaker",
    "aliases",
    "identified_by",
    "cue",
    "partial",
    "optional",
    "anonymous",
)
# Fields of a negative example: quoted text that is not speech, and why.
NEGATIVE_FIELDS = (*LOCATOR, "why")
# Sources whose text is in the project and may be stored in the gold records.
TEXT_ALLOWED = re.compile(r".*\.(txt|md)$")


class QuoteGoldError(RagError):
    """The gold set or its corpus is missing, malformed or out of step."""


@dataclass(frozen=True)
class GoldQuote:
    """One gold quote with its text resolved from the corpus."""

    id: str
    source: str
    article_id: str
    start: int
    end: int
    text: str
    kind: str
    speaker: str
    aliases: tuple[str, ...]
    identified_by: str
    cue: str | None
    partial: bool
    optional: bool
    anonymous: bool

    @property
    def names(self) -> tuple[str, ...]:
        """The speaker and every alias: any of them attributes the quote correctly."""
        return (self.speaker, *self.aliases)


@dataclass(frozen=True)
class NotSpeech:
    """Text in quotation marks that is not speech (a scare quote, a title, a term)."""

    id: str
    source: str
    article_id: str
    start: int
    end: int
    text: str
    why: str


# --- the corpus ------------------------------------------------------------------------------


def word_count(text: str) -> int:
    """Words as the gold counts them: runs of letters and digits."""
    return len(re.findall(r"\w+", text))


def plain_body(text: str) -> str:
    """The body of a plain-text article: everything after the headline line and blank lines."""
    return text.partition("\n")[2].lstrip("\n")


def source_texts(corpus_paths: Iterable[str | Path]) -> dict[tuple[str, str | None], str]:
    """Source texts keyed by (file name, record id); a .txt/.md article's id is None.

    A JSON Lines record's text is its ``body`` field (else ``text``) exactly as ``json.loads``
    decodes it; a .txt/.md file's is its UTF-8 text after the headline (``plain_body``).
    A folder contributes the .jsonl, .txt and .md files directly inside it.
    """
    texts: dict[tuple[str, str | None], str] = {}
    for given in corpus_paths:
        path = Path(given)
        if not path.exists():
            raise QuoteGoldError(
                f"corpus not found: {path} (the BBC articles are in "
                "../shared/data/bbc/bbc_news.jsonl, the seed article in seeds/)"
            )
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".jsonl":
                for number, line in enumerate(file.open(encoding="utf-8"), 1):
                    if not line.strip():
                        continue
                    record = json.loads(line)
                    body = record.get("body", record.get("text"))
                    if not isinstance(body, str) or "id" not in record:
                        raise QuoteGoldError(f"{file}:{number}: a record without id and body")
                    texts[(file.name, str(record["id"]))] = body
            elif file.suffix in (".txt", ".md"):
                texts[(file.name, None)] = plain_body(file.read_text(encoding="utf-8"))
    return texts


def _source_text(
    texts: dict[tuple[str, str | None], str], where: str, source: str, article_id: str
) -> str:
    text = texts.get((source, article_id), texts.get((source, None)))
    if text is None:
        if not any(name == source for name, _ in texts):
            raise QuoteGoldError(f"{where}: source {source!r} is not in the corpus given")
        raise QuoteGoldError(f"{where}: article {article_id!r} is not in {source}")
    return text


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- loading ---------------------------------------------------------------------------------


def load(path: str | Path, corpus_paths: Sequence[str | Path]) -> list[GoldQuote]:
    """The gold quotes of ``path``, each text sliced from the corpus and checked by sha256."""
    quotes = []
    for record, text in _resolve(path, corpus_paths, FIELDS):
        names = [name for name in FIELDS if name not in LOCATOR or name in ("start", "end")]
        values = {name: record[name] for name in names} | {"aliases": tuple(record["aliases"])}
        quotes.append(
            GoldQuote(
                id=record["id"],
                source=record["source"],
                article_id=record["article_id"],
                text=text,
                **values,
            )
        )
    return quotes


def load_negatives(path: str | Path, corpus_paths: Sequence[str | Path]) -> list[NotSpeech]:
    """The negative examples of ``path``, resolved and checked like ``load``'s quotes."""
    return [
        NotSpeech(
            id=record["id"],
            source=record["source"],
            article_id=record["article_id"],
            start=record["start"],
            end=record["end"],
            text=text,
            why=record["why"],
        )
        for record, text in _resolve(path, corpus_paths, NEGATIVE_FIELDS)
    ]


def _resolve(
    path: str | Path, corpus_paths: Sequence[str | Path], fields: Sequence[str]
) -> Iterable[tuple[dict, str]]:
    """Each record of ``path`` with its text sliced from the corpus and checked."""
    texts = source_texts(corpus_paths)
    seen: set[str] = set()
    for number, record in records(path):
        where = f"{path}:{number}"
        _check_fields(record, where, fields)
        if record["id"] in seen:
            raise QuoteGoldError(f"{where}: duplicate id {record['id']!r}")
        seen.add(record["id"])
        body = _source_text(texts, where, record["source"], record["article_id"])
        start, end = record["start"], record["end"]
        if not 0 <= start < end <= len(body):
            raise QuoteGoldError(f"{where}: offsets {start}:{end} outside the article")
        text = body[start:end]
        if sha256(text) != record["sha256"]:
            raise QuoteGoldError(
                f"{where}: the text at {start}:{end} of {record['article_id']} does not match "
                "its sha256 (a different version of the corpus?)"
            )
        if "text" in record and record["text"] != text:
            raise QuoteGoldError(f"{where}: stored text differs from the corpus slice")
        yield record, text


def records(path: str | Path) -> Iterable[tuple[int, dict]]:
    file = Path(path)
    if not file.exists():
        raise QuoteGoldError(f"gold file not found: {file}")
    for number, line in enumerate(file.open(encoding="utf-8"), 1):
        if line.strip():
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise QuoteGoldError(f"{file}:{number}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise QuoteGoldError(f"{file}:{number}: expected an object")
            yield number, record


def _check_fields(record: dict, where: str, fields: Sequence[str]) -> None:
    missing = [name for name in fields if name not in record]
    if missing:
        raise QuoteGoldError(f"{where}: missing {', '.join(missing)}")
    if "text" in record and not TEXT_ALLOWED.match(record["source"]):
        raise QuoteGoldError(f"{where}: text of {record['source']} may not be stored")
    if fields is NEGATIVE_FIELDS:
        return
    if record["kind"] not in KINDS:
        raise QuoteGoldError(f"{where}: kind must be one of {KINDS}")
    if record["identified_by"] == UNATTRIBUTED:
        if not record["optional"]:
            raise QuoteGoldError(f"{where}: a quote without a speaker must be optional")
    elif record["identified_by"] not in IDENTIFIED_BY:
        raise QuoteGoldError(f"{where}: identified_by must be one of {IDENTIFIED_BY}")


# --- locating --------------------------------------------------------------------------------

_QUOTE_MAP = str.maketrans({c: "'" for c in "‘’‚‛′"} | {c: '"' for c in "“”„‟«»″"})


def _normalized(text: str) -> tuple[str, list[int]]:
    """Text with typographic quotes straightened and whitespace runs as one space, and the
    offset in ``text`` of each character of the result."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, char in enumerate(text.translate(_QUOTE_MAP)):
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            char = " "
        chars.append(char)
        offsets.append(i)
    return "".join(chars), offsets


def locate(quote: str, text: str) -> tuple[int, int] | None:
    """Offsets of ``quote`` in another rendering of its article (e.g. the stored, cleaned
    text), ignoring quote styles and whitespace differences; None when it is not there."""
    needle, _ = _normalized(quote)
    needle = needle.strip()
    haystack, offsets = _normalized(text)
    at = haystack.find(needle)
    if at < 0 or not needle:
        return None
    return offsets[at], offsets[at + len(needle) - 1] + 1


# --- building --------------------------------------------------------------------------------


def build(
    annotations: Iterable[dict], corpus_paths: Sequence[str | Path], negatives: bool = False
) -> list[dict]:
    """Located gold records from annotations that carry the quote ``text`` (or negative
    examples, with ``why``, when ``negatives``).

    The text must occur in its article exactly; when it occurs more than once the annotation
    says which occurrence (``occurrence``, from 1). Texts of sources outside the project
    (anything but .txt/.md) are dropped from the output.
    """
    fields = NEGATIVE_FIELDS if negatives else FIELDS
    texts = source_texts(corpus_paths)
    records: list[dict] = []
    counters: Counter[str] = Counter()
    for number, note in enumerate(annotations, 1):
        where = f"annotation {number} ({note.get('article_id')}: {note.get('text', '')[:40]!r})"
        body = _source_text(texts, where, note["source"], note["article_id"])
        quote = note["text"]
        hits = [m.start() for m in re.finditer(re.escape(quote), body)] if quote else []
        if not hits:
            raise QuoteGoldError(f"{where}: text not found in the article")
        occurrence = note.get("occurrence")
        if occurrence is None and len(hits) > 1:
            raise QuoteGoldError(f"{where}: text occurs {len(hits)} times; say which")
        start = hits[(occurrence or 1) - 1]
        counters[note["article_id"]] += 1
        record = {
            "id": f"{note['article_id']}#{counters[note['article_id']]}",
            "source": note["source"],
            "article_id": note["article_id"],
            "start": start,
            "end": start + len(quote),
            "sha256": sha256(quote),
            "words": word_count(quote),
        }
        record.update({name: note[name] for name in fields if name not in record})
        if TEXT_ALLOWED.match(note["source"]):
            record["text"] = quote
        _check_fields(record, where, fields)
        records.append(record)
    return records


def summary(quotes: Sequence[GoldQuote]) -> str:
    """Counts by category, kind and identification, as the README table reports them."""
    articles = {(q.source, q.article_id) for q in quotes}
    categories = Counter(a.split("/")[0] if "/" in a else "seed" for _, a in articles)
    lines = [
        f"{len(quotes)} quotes in {len(articles)} articles "
        f"({', '.join(f'{c} {n}' for c, n in sorted(categories.items()))}); "
        f"{sum(q.optional for q in quotes)} optional, {sum(q.partial for q in quotes)} partial, "
        f"{sum(q.anonymous for q in quotes)} with an unnamed speaker"
    ]
    for kind in KINDS:
        counted = [q for q in quotes if q.kind == kind and not q.optional]
        by = Counter(q.identified_by for q in counted)
        lines.append(
            f"{kind}: {len(counted)} (not optional): "
            + ", ".join(f"{name} {by[name]}" for name in IDENTIFIED_BY)
        )
    return "\n".join(lines)
