"""The quote gold set: its loader checks every record against the corpus, and the committed
set resolves against ../shared and the stored text of its articles."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT, SEED, require_shared

from rag.eval import quote_gold as qg
from rag.readers import read_path
from rag.types import Article

GOLD = ROOT / "eval" / "quotes-gold.jsonl"

# --- the loader on a corpus of its own -------------------------------------------------------

BODY = 'Talks failed, officials said. "We tried," said Ann Lee. "We will try again."'


def _corpus(tmp_path: Path) -> list[Path]:
    jsonl = tmp_path / "news.jsonl"
    jsonl.write_text(json.dumps({"id": "n/1", "title": "T", "body": BODY}) + "\n")
    txt = tmp_path / "story.txt"
    txt.write_text("Headline\n\nHe said: “Fine.” Then he left.\n", encoding="utf-8")
    return [jsonl, txt]


def _note(source: str, article_id: str, text: str, **extra) -> dict:
    note = {
        "source": source,
        "article_id": article_id,
        "text": text,
        "kind": "direct",
        "speaker": "Ann Lee",
        "aliases": ["Lee"],
        "identified_by": "name",
        "cue": "said",
        "partial": False,
        "optional": False,
        "anonymous": False,
    }
    return note | extra


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_build_then_load_slices_each_text(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    notes = [
        _note("news.jsonl", "n/1", "We tried,"),
        _note("news.jsonl", "n/1", "We will try again.", identified_by="continuation", cue=None),
        _note("story.txt", "txt-1", "Fine.", speaker="he", aliases=[]),
    ]
    records = qg.build(notes, corpus)
    assert [r["id"] for r in records] == ["n/1#1", "n/1#2", "txt-1#1"]
    assert "text" not in records[0]  # a .jsonl source is not copied into the gold
    assert records[2]["text"] == "Fine."
    assert records[1]["words"] == 4
    quotes = qg.load(_write(tmp_path / "gold.jsonl", records), corpus)
    assert [q.text for q in quotes] == ["We tried,", "We will try again.", "Fine."]
    assert BODY[quotes[0].start : quotes[0].end] == "We tried,"
    assert quotes[0].names == ("Ann Lee", "Lee")


def test_build_fails_on_a_text_not_found_or_ambiguous(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    with pytest.raises(qg.QuoteGoldError, match="not found"):
        qg.build([_note("news.jsonl", "n/1", "We tried hard")], corpus)
    with pytest.raises(qg.QuoteGoldError, match="occurs 2 times"):
        qg.build([_note("news.jsonl", "n/1", "We")], corpus)
    second = qg.build([_note("news.jsonl", "n/1", "We", occurrence=2)], corpus)
    assert second[0]["start"] == BODY.index('"We will') + 1
    with pytest.raises(qg.QuoteGoldError, match=r"article 'n/2' is not in news\.jsonl"):
        qg.build([_note("news.jsonl", "n/2", "We tried,")], corpus)


def test_load_refuses_a_changed_corpus_or_a_missing_one(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    gold = _write(
        tmp_path / "gold.jsonl", qg.build([_note("news.jsonl", "n/1", "We tried,")], corpus)
    )
    changed = BODY.replace("We tried", "We tired")
    corpus[0].write_text(json.dumps({"id": "n/1", "title": "T", "body": changed}) + "\n")
    with pytest.raises(qg.QuoteGoldError, match="does not match its sha256"):
        qg.load(gold, corpus)
    with pytest.raises(qg.QuoteGoldError, match=r"corpus not found: .*shared/data/bbc"):
        qg.load(gold, [tmp_path / "absent.jsonl"])
    with pytest.raises(qg.QuoteGoldError, match=r"source 'news\.jsonl' is not in the corpus"):
        qg.load(gold, [corpus[1]])


def test_load_refuses_malformed_records(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    (record,) = qg.build([_note("news.jsonl", "n/1", "We tried,")], corpus)
    cases = [
        ({k: v for k, v in record.items() if k != "speaker"}, "missing speaker"),
        (record | {"kind": "reported"}, "kind must be"),
        (record | {"identified_by": "context"}, "identified_by must be"),
        (record | {"identified_by": "none"}, "without a speaker must be optional"),
        (record | {"end": len(BODY) + 5}, "outside the article"),
        (record | {"text": "We tried,"}, "may not be stored"),
    ]
    for bad, message in cases:
        with pytest.raises(qg.QuoteGoldError, match=message):
            qg.load(_write(tmp_path / "bad.jsonl", [bad]), corpus)
    with pytest.raises(qg.QuoteGoldError, match="duplicate id"):
        qg.load(_write(tmp_path / "twice.jsonl", [record, record]), corpus)


def test_locate_ignores_quote_styles_and_spacing() -> None:
    stored = 'He said: "It\'s  fine,\nreally." Then he left.'
    start, end = qg.locate("It’s fine, really.", stored)
    assert stored[start:end] == "It's  fine,\nreally."
    assert qg.locate("It is fine", stored) is None


def test_cli_check_reports_counts_and_errors(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    notes = _write(tmp_path / "notes.jsonl", [_note("news.jsonl", "n/1", "We tried,")])
    out = tmp_path / "gold.jsonl"
    args = ["--corpus", str(corpus[0]), "--corpus", str(corpus[1])]
    built = _script("build", str(notes), "--out", str(out), *args)
    assert built.returncode == 0 and "1 quotes in 1 articles" in built.stdout
    failed = _script("check", str(out), "--corpus", str(tmp_path / "nope"))
    assert failed.returncode == 1 and "error: corpus not found" in failed.stderr


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    """eval/quote_gold.py as it is run from the terminal."""
    script = ROOT / "eval" / "quote_gold.py"
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=60
    )


# --- the committed gold set ------------------------------------------------------------------


@pytest.fixture(scope="module")
def gold() -> list:
    bbc = require_shared("data", "bbc", "bbc_news.jsonl")
    return qg.load(GOLD, [bbc, ROOT / "seeds"])


@pytest.mark.shared
def test_gold_resolves_and_covers_the_five_sections(gold: list) -> None:
    articles = {q.article_id for q in gold}
    sections = Counter(a.split("/")[0] for a in articles if "/" in a)
    assert sorted(sections) == ["business", "entertainment", "politics", "sport", "tech"]
    assert min(sections.values()) >= 5 and sum(sections.values()) >= 25
    assert "txt-d3113602b612aa5b" in articles
    required = [q for q in gold if not q.optional]
    kinds = Counter(q.kind for q in required)
    assert kinds["direct"] >= 100 and kinds["indirect"] >= 70
    assert {q.identified_by for q in required} == set(qg.IDENTIFIED_BY)
    assert all(q.identified_by in qg.IDENTIFIED_BY or q.optional for q in gold)


@pytest.mark.shared
def test_negative_examples_resolve_and_are_no_gold_quote(gold: list) -> None:
    bbc = require_shared("data", "bbc", "bbc_news.jsonl")
    negatives = qg.load_negatives(ROOT / "eval" / "quotes-negatives.jsonl", [bbc, ROOT / "seeds"])
    assert len(negatives) >= 5
    spans = {(q.article_id, q.start, q.end) for q in gold}
    for negative in negatives:
        assert (negative.article_id, negative.start, negative.end) not in spans
        assert negative.why in ("scare quote", "term", "title", "nickname", "label")


@pytest.mark.shared
def test_direct_quotes_sit_between_quotation_marks(gold: list) -> None:
    texts = qg.source_texts([require_shared("data", "bbc", "bbc_news.jsonl"), ROOT / "seeds"])
    for q in gold:
        if q.kind == "direct" and not q.optional:
            body = texts.get((q.source, q.article_id), texts.get((q.source, None)))
            assert body[: q.start].rstrip()[-1] in "\"“'‘", q.id
            assert body[q.end :].lstrip()[0] in "\"”'’", q.id
        assert q.text == q.text.strip() and q.text, q.id
        assert q.speaker not in ("he", "she", "they"), q.id


@pytest.mark.shared
def test_every_gold_quote_is_found_in_the_stored_article_text(gold: list) -> None:
    wanted = {q.article_id for q in gold}
    stored: dict[str, Article] = {}
    for path in (require_shared("data", "bbc", "bbc_news.jsonl"), SEED):
        for item in read_path(path):
            if isinstance(item, Article) and item.article_id in wanted:
                stored[item.article_id] = item
    assert set(stored) == wanted, "article ids differ from the ids rag stores"
    for q in gold:
        assert qg.locate(q.text, stored[q.article_id].text), q.id


def test_the_seed_records_carry_their_text_and_every_peskov_quote(tmp_path: Path) -> None:
    lines = [line for line in GOLD.read_text().splitlines() if f'"source": "{SEED.name}"' in line]
    seed = qg.load(_write(tmp_path / "seed.jsonl", [json.loads(x) for x in lines]), [SEED])
    peskov = [q for q in seed if q.speaker == "Dmitry Peskov"]
    assert len([q for q in peskov if q.kind == "direct"]) == 8
    assert all("the Kremlin" in q.aliases for q in peskov)
    assert any("should recall what the Americans have done" in q.text for q in peskov)
    assert {q.speaker for q in seed} >= {"Kemal Kilicdaroglu", "Sergey Lavrov"}
