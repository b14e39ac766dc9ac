"""How well the HTML reader extracts articles: newspaper4k's test pages, scored against the
expected text and metadata shipped with them, beside plain ``trafilatura.extract``.

The pages are not in this repository; get them with
``pip download --no-deps --no-binary :all: newspaper4k -d /tmp/sdists`` and unpack the sdist.
Each page with expected text (``tests/data/txt``) is scored on body text by word-shingle
(3-gram) precision, recall and F1; each page with expected metadata (``tests/data/metadata``)
on title (exact, after Unicode, quote, case and whitespace normalisation), date (the day, on
pages whose metadata has one) and authors (F1 of the name sets, on pages that list authors).
Both systems read the page as a saved file: no URL. The expected metadata is newspaper4k's own
output, so its author lists hold some noise (video_article_01's "on December", wired_001's
related-story bylines); the table is for comparing the two systems, not an absolute score.

Usage: python bench/extraction.py [--data DIR] [--json OUT] [--pages]
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.files import Unreadable  # noqa: E402
from rag.readers import html_article  # noqa: E402

DEFAULT_DATA = "/tmp/sdists/newspaper4k-*/tests/data"
SHINGLE = 3
EXPECTED = (("txt", "txt"), ("metadata", "json"))
# Scripts written without spaces between words: each character is a token.
_TOKEN = re.compile(r"[\u0e00-\u0e7f\u1000-\u109f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]|\w+")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())


def shingles(text: str) -> Counter[tuple[str, ...]]:
    words = tokens(text)
    if len(words) < SHINGLE:
        return Counter([tuple(words)]) if words else Counter()
    return Counter(tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))


def text_scores(got: str, want: str) -> dict[str, float]:
    """Shingle precision, recall and F1 of extracted against expected text."""
    have, need = shingles(got), shingles(want)
    common = sum((have & need).values())
    precision = common / sum(have.values()) if have else 0.0
    recall = common / sum(need.values()) if need else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def norm(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return " ".join(text.casefold().split())


def author_f1(got: list[str], want: list[str]) -> float:
    have, need = {norm(a) for a in got if a}, {norm(a) for a in want if a}
    common = len(have & need)
    if not common:
        return 0.0
    return 2 * common / (len(have) + len(need))


def day(value: str | None) -> str | None:
    match = re.match(r"\d{4}-\d{2}-\d{2}", value or "")
    return match.group(0) if match else None


def split_authors(value: str | None) -> list[str]:
    return [a.strip() for a in re.split(r";|,", value or "") if a.strip()]


# --- the two systems -------------------------------------------------------------------------


def ours(html: str, name: str) -> dict[str, Any]:
    try:
        article = html_article(html, path=name)
    except Unreadable as exc:
        return {"text": "", "title": "", "date": None, "authors": [], "error": exc.reason}
    return {
        "text": article.text,
        "title": article.title,
        "date": article.published,
        "authors": article.authors,
        "source": article.source,
    }


def plain(html: str, name: str) -> dict[str, Any]:
    import trafilatura

    out = trafilatura.extract(html, output_format="json", with_metadata=True)
    data = json.loads(out) if out else {}
    return {
        "text": data.get("text") or "",
        "title": data.get("title") or "",
        "date": day(data.get("date")),
        "authors": split_authors(data.get("author")),
        "source": data.get("sitename") or "",
    }


SYSTEMS = {"rag": ours, "trafilatura": plain}


# --- scoring ---------------------------------------------------------------------------------


def score_page(data: Path, name: str) -> dict[str, Any]:
    html = (data / "html" / f"{name}.html").read_text(encoding="utf-8", errors="replace")
    txt = data / "txt" / f"{name}.txt"
    meta_file = data / "metadata" / f"{name}.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8")) if meta_file.exists() else None
    row: dict[str, Any] = {"page": name}
    for system, extract in SYSTEMS.items():
        got = extract(html, name)
        scores: dict[str, Any] = {}
        if txt.exists():
            scores.update(text_scores(got["text"], txt.read_text(encoding="utf-8")))
        if meta is not None:
            scores["title"] = norm(got["title"]) == norm(meta.get("title"))
            scores["got_title"] = got["title"]
            if day(meta.get("publish_date")):
                scores["date"] = got["date"] == day(meta.get("publish_date"))
                scores["got_date"] = got["date"]
            if meta.get("authors"):
                scores["authors"] = author_f1(got["authors"], meta["authors"])
                scores["got_authors"] = got["authors"]
        scores["source"] = got.get("source", "")
        row[system] = scores
    return row


def summary(rows: list[dict[str, Any]], system: str) -> dict[str, Any]:
    def mean(key: str) -> tuple[float | None, int]:
        values = [float(r[system][key]) for r in rows if key in r[system]]
        return (round(sum(values) / len(values), 3) if values else None, len(values))

    out: dict[str, Any] = {}
    for key in ("precision", "recall", "f1", "title", "date", "authors"):
        out[key], out[f"{key}_pages"] = mean(key)
    return out


def find_data(pattern: str) -> Path | None:
    matches = sorted(glob.glob(pattern))
    return Path(matches[-1]) if matches else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=DEFAULT_DATA, help="newspaper4k's tests/data (glob)")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--pages", action="store_true", help="print each page's scores")
    args = parser.parse_args(argv)
    data = find_data(args.data)
    if data is None or not (data / "html").is_dir():
        print(
            f"no newspaper4k test data at {args.data}: pip download --no-deps --no-binary :all: "
            "newspaper4k -d /tmp/sdists, then unpack it",
            file=sys.stderr,
        )
        return 2
    logging.disable(logging.CRITICAL)  # trafilatura logs its own complaints about pages
    names = sorted(
        p.stem
        for p in (data / "html").glob("*.html")
        if any((data / sub / f"{p.stem}.{ext}").exists() for sub, ext in EXPECTED)
    )
    rows = [score_page(data, name) for name in names]
    import trafilatura

    result = {
        "data": "newspaper4k-" + data.parent.parent.name.split("-")[-1] + " tests/data",
        "trafilatura": trafilatura.__version__,
        "shingle": SHINGLE,
        "summary": {system: summary(rows, system) for system in SYSTEMS},
        "pages": rows,
    }
    if args.pages:
        for row in rows:
            cells = []
            for system in SYSTEMS:
                s = row[system]
                cells.append(
                    f"{system}: f1={s.get('f1', float('nan')):.3f} title={s.get('title', '-')} "
                    f"date={s.get('date', '-')} authors={s.get('authors', '-')}"
                )
            print(f"{row['page']:24} " + " | ".join(cells))
    print("| reader | text P | text R | text F1 | title | date | authors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for system, s in result["summary"].items():
        print(
            f"| {system} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | "
            f"{s['title']:.3f} | {s['date']:.3f} | {s['authors']:.3f} |"
        )
    first = result["summary"]["rag"]
    print(
        f"(text on {first['f1_pages']} pages, title on {first['title_pages']}, date on "
        f"{first['date_pages']}, authors on {first['authors_pages']})"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
