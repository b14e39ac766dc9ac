"""``rag quotes``: who said what in the stored articles, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.settings import Settings
from rag.store import ChunkStore

runner = CliRunner()


def rag(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def seeded(seed_path: Path) -> str:
    code, out, _ = rag("ingest", str(seed_path.parent), "--embedding", "hash")
    assert code == 0, out
    [article] = json.loads(rag("list", "--json")[1])
    return str(article["article_id"])


def test_peskov_json_offsets_slice_the_stored_text(seeded: str) -> None:
    code, out, _ = rag("quotes", "Peskov", "--json")
    assert code == 0
    quotes = json.loads(out)["quotes"]
    assert len(quotes) >= 6
    stored = ChunkStore.open(Settings.load()).article_text(seeded)
    for q in quotes:
        assert q["speaker"] == "Dmitry Peskov"
        assert q["descriptors"] == ["Kremlin Spokesman"]
        assert stored[q["start"] : q["end"]] == q["text"]
        assert q["article_id"] == seeded
        assert q["title"] == "Erdogan's rival accuses Russia of election 'deep fake'"
        assert set(q) >= {"kind", "cue", "source", "published"}
    texts = [q["text"] for q in quotes]
    assert any("values bilateral relations" in t for t in texts)
    assert any("should recall what the Americans have done" in t for t in texts)
    assert any("tens of millions of dollars" in t for t in texts)


@pytest.mark.parametrize("speaker", ["the Kremlin", "KREMLIN SPOKESMAN", "dmitry peskov"])
def test_speaker_by_organisation_descriptor_or_name(seeded: str, speaker: str) -> None:
    quotes = json.loads(rag("quotes", speaker, "--json")[1])["quotes"]
    assert len(quotes) >= 6
    assert {q["speaker"] for q in quotes} == {"Dmitry Peskov"}


def test_text_groups_quotes_by_speaker(seeded: str) -> None:
    code, out, _ = rag("quotes", "--article", seeded)
    assert code == 0
    assert "Dmitry Peskov (Kremlin Spokesman)" in out
    assert "Sergey Lavrov (Russian Foreign Minister)" in out
    assert out.count("Dmitry Peskov") == 1  # one heading, the quotes under it
    assert "Erdogan's rival accuses Russia of election 'deep fake'" in out


def test_nothing_found_and_filters(seeded: str) -> None:
    assert rag("quotes", "Nobody Atall")[1].strip() == "no quotes found"
    assert rag("quotes", "Peskov", "--source", "reuters")[1].strip() == "no quotes found"
    # the seed is undated: a date filter leaves it out
    assert rag("quotes", "Peskov", "--until", "2030-01-01")[1].strip() == "no quotes found"
    code, _, err = rag("quotes", "Peskov", "--since", "yesterdayish")
    assert code == 1 and "--since" in err
