"""The CLI's store commands on the seed and on bad input: ingest, list, remove, stats, config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


def rag(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def seeded(seed_path: Path) -> str:
    code, out, _ = rag("ingest", str(seed_path.parent))
    assert code == 0, out
    [article] = json.loads(rag("list", "--json")[1])
    return str(article["article_id"])


def test_ingest_seed_summary_and_list(seed_path: Path) -> None:
    code, out, _ = rag("ingest", str(seed_path.parent))
    assert code == 0
    assert "added 1, updated 0, unchanged 0, skipped duplicates 0, failed 0" in out
    code, out, _ = rag("list", "--json")
    [article] = json.loads(out)
    assert article["title"] == "Erdogan's rival accuses Russia of election 'deep fake'"
    assert article["chunks"] >= 2


def test_reingest_is_unchanged_and_force_reembeds(seeded: str, seed_path: Path) -> None:
    out = rag("ingest", str(seed_path))[1]
    assert "added 0, updated 0, unchanged 1" in out
    out = rag("ingest", "--force", str(seed_path))[1]
    assert "updated 1" in out
    [article] = json.loads(rag("list", "--json")[1])
    assert article["chunks"] == json.loads(rag("stats", "--json")[1])["chunks"]


def test_changed_article_replaces_its_chunks(tmp_path: Path) -> None:
    doc = tmp_path / "story.txt"
    doc.write_text(
        "Title: Harbour vote\nURL: https://news.example.com/harbour\n\n"
        + "The council voted. " * 300
    )
    rag("ingest", str(doc))
    before = json.loads(rag("stats", "--json")[1])["chunks"]
    doc.write_text(
        "Title: Harbour vote\nURL: https://news.example.com/harbour\n\nThe council voted again."
    )
    out = rag("ingest", str(doc))[1]
    assert "updated 1" in out
    stats = json.loads(rag("stats", "--json")[1])
    assert stats["articles"] == 1
    assert stats["chunks"] == 1 < before


def test_an_edited_file_without_id_or_url_replaces_its_earlier_version(tmp_path: Path) -> None:
    """A text file with neither an id nor a URL is known by its text: after an edit it has a
    new id, and re-ingesting it must update the article, not keep the old text beside it."""
    folder = tmp_path / "notes"
    folder.mkdir()
    doc = folder / "bridge.txt"
    doc.write_text("Harbour bridge reopens\n\nThe bridge reopened after two years of repairs.\n")
    (folder / "library.txt").write_text("Library hours\n\nThe library opens on Sundays.\n")
    assert json.loads(rag("ingest", "--json", str(folder))[1])["counts"]["added"] == 2
    doc.write_text("Harbour bridge reopens\n\nThe bridge reopened after three years of repairs.\n")
    report = json.loads(rag("ingest", "--json", str(folder))[1])
    counts = report["counts"]
    assert (counts["added"], counts["updated"], counts["unchanged"]) == (0, 1, 1)
    listed = json.loads(rag("list", "--json")[1])
    assert sorted(a["title"] for a in listed) == ["Harbour bridge reopens", "Library hours"]
    code, out, _ = rag("ask", "How many years of repairs did the bridge need?")
    assert code == 0 and "three years" in out and "two years" not in out
    assert "unchanged 2" in rag("ingest", str(folder))[1]


def test_duplicate_under_another_id_is_reported(tmp_path: Path, seed_path: Path) -> None:
    copy = tmp_path / "copy.txt"
    copy.write_bytes(seed_path.read_bytes())
    twin = tmp_path / "twin.json"
    text = seed_path.read_text(encoding="utf-8").split("\n", 1)
    twin.write_text(json.dumps({"id": "other-id", "title": text[0], "text": text[1]}))
    code, out, _ = rag("ingest", str(seed_path), str(twin))
    assert code == 0
    assert "skipped duplicates 1" in out
    assert "duplicate: other-id has the same text as" in out


def test_two_identical_files_are_one_article_and_a_rerun_is_unchanged(
    tmp_path: Path, seed_path: Path
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_bytes(seed_path.read_bytes())
    first = json.loads(rag("ingest", "--json", str(folder))[1])
    assert first["counts"]["added"] == 1 and first["counts"]["updated"] == 0
    [duplicate] = first["duplicates"]
    assert duplicate["path"].endswith("b.txt") and duplicate["same_as_path"].endswith("a.txt")
    for _ in range(2):
        code, out, _ = rag("ingest", str(folder))
        assert code == 0
        assert "added 0, updated 0, unchanged 1, skipped duplicates 1" in out
        assert "(0 chunks" in out  # nothing embedded again
        assert "b.txt is the same article as" in out and out.count("duplicate:") == 1
    assert len(json.loads(rag("list", "--json")[1])) == 1


def test_added_counts_what_list_shows_when_an_id_comes_twice_in_parallel_ingest(
    tmp_path: Path,
) -> None:
    """Over 2 MB, a worker process prepares one batch while the next is looked up: an article
    read twice under one id (its text changed) was counted as added twice, and ``rag list``
    showed it once. A new process, as the parallel path is not taken with threads running."""
    import os
    import subprocess
    import sys

    filler = "The council met again on Monday to discuss the harbour budget. " * 120
    rows = [{"id": "same-id", "title": "Harbour bridge", "text": "It opens on Monday. " + filler}]
    rows += [{"id": f"a{i}", "title": f"Item {i}", "text": f"{i}. {filler}"} for i in range(300)]
    rows += [{"id": "same-id", "title": "Harbour bridge", "text": "It opens on Tuesday. " + filler}]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert corpus.stat().st_size > 2_000_000  # rag.ingest.PARALLEL_BYTES
    done = subprocess.run(
        [str(Path(sys.executable).with_name("rag")), "ingest", str(corpus), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "RAG_EMBEDDING": "hash"},
    )
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert (counts["added"], counts["updated"]) == (301, 1)
    assert len(json.loads(rag("list", "--json")[1])) == 301


def test_ingest_json_lists_every_outcome_and_counts_them(tmp_path: Path, seed_path: Path) -> None:
    first = json.loads(rag("ingest", "--json", str(seed_path))[1])
    [seed_id] = first["added"]
    assert first["updated"] == first["unchanged"] == first["duplicates"] == first["failed"] == []
    assert first["counts"] == {
        "added": 1,
        "updated": 0,
        "unchanged": 0,
        "duplicates": 0,
        "failed": 0,
        "skipped": 0,
        "unquoted": 0,
    }
    assert first["chunks"] >= 2

    twin = tmp_path / "twin.json"
    title, body = seed_path.read_text(encoding="utf-8").split("\n", 1)
    twin.write_text(json.dumps({"id": "other-id", "title": title, "text": body}))
    (tmp_path / "empty.txt").write_text("")
    code, out, _ = rag("ingest", "--json", str(seed_path), str(twin), str(tmp_path / "empty.txt"))
    assert code == 1
    again = json.loads(out)
    assert again["added"] == again["updated"] == []
    assert again["unchanged"] == [seed_id]
    assert again["duplicates"] == [{"id": "other-id", "same_as": seed_id}]
    [failure] = again["failed"]
    assert failure["path"].endswith("empty.txt") and failure["reason"]
    assert again["counts"] == {
        "added": 0,
        "updated": 0,
        "unchanged": 1,
        "duplicates": 1,
        "failed": 1,
        "skipped": 0,
        "unquoted": 0,
    }


def test_bad_inputs_fail_one_by_one_and_good_files_still_ingest(
    tmp_path: Path, seed_path: Path
) -> None:
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "bad.jsonl").write_text(
        '{"id": "x", "title": "T", "text": "Body text here."}\n{oops\n'
    )
    code, out, err = rag(
        "ingest", str(seed_path), str(tmp_path / "empty.txt"), str(tmp_path / "binary.txt"),
        str(tmp_path / "bad.jsonl"), str(tmp_path / "missing.txt"), str(tmp_path / "x.docx"),
    )  # fmt: skip
    assert code == 1
    assert "added 2" in out and "failed 5" in out
    # each failure is a diagnostic: on stderr, one line each, none on stdout
    failed = [line for line in err.splitlines() if line.startswith("failed: ")]
    assert len(failed) == 5 and "failed: " not in out
    assert "empty.txt" in err and "binary.txt" in err and "bad.jsonl:2" in err
    assert "missing.txt" in err and "x.docx" in err
    assert len(json.loads(rag("list", "--json")[1])) == 2


def test_an_article_whose_quotes_cannot_be_read_is_stored_without_them(
    tmp_path: Path, seed_path: Path, break_quotes: Callable[[str], None]
) -> None:
    """A fault in the quote extractor on one article's text (the newsqa corpus once had
    one) is a warning for that article, not the end of the ingest."""
    break_quotes("fees will rise")
    (tmp_path / "harbour.txt").write_text(
        'Harbour fees rise\n\n"The fees will rise in June," the port said on Monday.\n'
    )
    code, out, err = rag("ingest", str(seed_path), str(tmp_path / "harbour.txt"))
    assert code == 0 and "added 2" in out
    [warning] = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert "stored without its quotes: RecursionError" in warning
    assert len(json.loads(rag("list", "--json")[1])) == 2
    assert "Peskov" in rag("ask", "What did the Kremlin say?")[1]  # the seed's quotes are in


def test_remove_and_remove_unknown(seeded: str) -> None:
    code, out, err = rag("remove", seeded, "no-such-id")
    assert code == 1
    assert f"removed {seeded}" in out
    assert "no article with id no-such-id" in err
    assert json.loads(rag("stats", "--json")[1])["chunks"] == 0


def test_stats_names_store_and_embedding(seeded: str, isolated_env: Path) -> None:
    stats = json.loads(rag("stats", "--json")[1])
    assert stats["articles"] == 1
    assert stats["embedding"].startswith("wordllama")
    assert str(isolated_env) in stats["store"]


def test_embedding_mismatch_is_one_clear_line(seeded: str) -> None:
    code, _, err = rag("ask", "What did the Kremlin say?", "--embedding", "hash")
    assert code == 1
    assert "built with embedding" in err
    assert "Traceback" not in err


def test_list_before_ingest_says_what_to_do() -> None:
    code, _, err = rag("list")
    assert code == 1
    assert "rag ingest" in err


def test_config_shows_origins_and_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-canary-0123456789")
    monkeypatch.setenv("RAG_COLLECTION", "mine")
    code, out, _ = rag("config", "--json", "--embedding", "hash")
    shown = json.loads(out)
    assert code == 0
    assert shown["collection"] == {"value": "mine", "origin": "env RAG_COLLECTION"}
    assert shown["embedding"]["origin"] == "flag"
    assert shown["data_dir"]["origin"] == "env RAG_DATA_DIR"
    assert "sk-canary" not in out


def test_unknown_format_is_rejected(seed_path: Path) -> None:
    code, _, err = rag("ingest", "--format", "pdf", str(seed_path))
    assert code == 1
    assert "unknown --format" in err


def test_home_pages_are_skipped_with_a_reason_and_force_keeps_them(tmp_path: Path) -> None:
    web = Path(__file__).parent / "fixtures" / "web"
    for name in ("yahoo_main_site.html", "cnn_main_site.html", "time_001.html"):
        (tmp_path / name).write_bytes((web / name).read_bytes())
    code, out, _ = rag("ingest", str(tmp_path))
    assert code == 0
    assert "added 1," in out
    assert "skipped: " in out and "yahoo_main_site.html: not an article: a front page" in out
    assert "cnn_main_site.html: not an article: mostly links" in out
    report = json.loads(rag("ingest", "--json", "--force", str(tmp_path))[1])
    assert report["counts"]["skipped"] == 0
    assert len(report["added"]) == 2 and len(report["updated"]) == 1


def test_show_prints_the_stored_article_as_it_is_searched(seeded: str, seed_path: Path) -> None:
    from rag.readers import read_path
    from rag.types import Article

    [article] = [a for a in read_path(seed_path) if isinstance(a, Article)]
    code, out, _ = rag("show", "--json", seeded)
    assert code == 0
    shown = json.loads(out)
    assert list(shown) == [
        "article_id",
        "title",
        "source",
        "published",
        "url",
        "authors",
        "path",
        "text",
        "chunks",
    ]
    assert shown["article_id"] == seeded == article.article_id
    assert shown["text"] == article.text
    assert (shown["title"], shown["source"], shown["published"]) == (
        article.title,
        article.source,
        article.published,
    )
    assert shown["authors"] == article.authors and shown["path"] == article.path
    assert shown["chunks"] >= 2
    code, out, _ = rag("show", seeded)
    assert code == 0 and article.title in out and article.text.split("\n")[0] in out
    code, out, err = rag("show", "no-such-id")
    assert code == 1 and "no article with id no-such-id" in out + err


def test_show_help_has_an_example() -> None:
    assert "Example: rag show" in rag("show", "--help")[1]


def test_show_keeps_paragraph_breaks_between_chunks(tmp_path: Path) -> None:
    from rag.readers import read_path
    from rag.types import Article

    page = tmp_path / "time_001.html"
    page.write_bytes((Path(__file__).parent / "fixtures" / "web" / "time_001.html").read_bytes())
    [article] = [a for a in read_path(page) if isinstance(a, Article)]
    assert rag("ingest", str(page))[0] == 0
    shown = json.loads(rag("show", "--json", article.article_id)[1])
    assert shown["chunks"] > 2
    assert shown["text"] == article.text
