"""What a new user tripped over at the terminal (issue 16): each test failed before its fix."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.eval.compare import MetricDelta
from rag.eval.metrics import MetricSummary
from rag.text import likely_english

runner = CliRunner()


def rag(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def seeded(seed_path: Path) -> None:
    assert rag("ingest", str(seed_path.parent))[0] == 0


def test_version() -> None:
    code, out, _ = rag("--version")
    assert code == 0
    assert re.fullmatch(r"rag-news \d+\.\d+\.\d+\S*", out.strip())


@pytest.mark.parametrize("question", ["", "   "])
def test_an_empty_question_is_a_usage_error(question: str) -> None:
    code, out, err = rag("ask", question)
    assert code == 2
    assert "the question is empty" in err
    assert "The articles don't say." not in out


def test_k_has_one_rule_for_flags_env_and_chat(seeded: None, seed_path: Path) -> None:
    code, _, err = rag("ask", "Who withdrew?", "--k", "100000")
    assert code == 1 and err.strip() == "error: k must be a whole number from 1 to 50"
    code, _, err = rag("ask", "Who withdrew?", env={"RAG_K": "0"})
    assert code == 1 and "k must be a whole number from 1 to 50" in err
    assert rag("chat", "--k", "50")[0] == 0
    result = runner.invoke(app, ["chat"], input="/k 51\n/k 50\n")
    assert "from 1 to 50" in result.output and "k 50" in result.output


def test_compare_says_a_rate_rose_when_it_rose() -> None:
    delta = MetricSummary(mean=0.043, n=23, skipped=0, invalid=0, ci_low=0.0, ci_high=0.1)
    rose = MetricDelta("false_refusal_rate", 0.261, 0.304, delta, True, 0.043)
    assert rose.describe() == "false_refusal_rate rose from 0.261 to 0.304 (worse by 0.043)"
    fell = MetricDelta("contains", 0.739, 0.696, delta, True, 0.043)
    assert fell.describe() == "contains fell from 0.739 to 0.696 (worse by 0.043)"


def test_extractive_note_only_with_an_answer(seeded: None, tmp_path: Path) -> None:
    code, _, err = rag("ask", "Who withdrew from the race?")
    assert code == 0 and "extractive answer (no LLM configured)" in err
    code, _, err = rag("ask", "Who withdrew?", "--data-dir", str(tmp_path / "empty"))
    assert code == 1
    assert err.strip().splitlines() == [err.strip()]  # the error alone, no notice before it
    assert err.startswith("error: no articles yet")


@pytest.mark.parametrize("command", [["list"], ["stats"], ["ask", "Who?"], ["remove", "x"]])
def test_reading_commands_do_not_create_a_mistyped_data_dir(
    command: list[str], tmp_path: Path
) -> None:
    typo = tmp_path / "typo"
    code, _, err = rag(*command, "--data-dir", str(typo))
    assert code == 1 and "no articles yet" in err and "check --data-dir" in err
    assert not typo.exists()


def test_filters_that_leave_nothing_say_so(seeded: None) -> None:
    code, out, _ = rag("ask", "Who withdrew from the race?", "--since", "2005-01-01", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["refused"] and answer["retrieved"] == []
    assert answer["warnings"][0] == (
        "no stored article matches the filters (since 2005-01-01); "
        "1 of 1 articles have no date and date filters skip them"
    )


def test_a_non_english_question_gets_a_hint(seeded: None) -> None:
    code, out, _ = rag("ask", "¿Qué dijo el Kremlin sobre las elecciones?", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["refused"]
    assert any("English only" in w for w in answer["warnings"])
    assert likely_english("Who withdrew from the race?")
    assert likely_english("Peskov's comments?")
    assert not likely_english("Что сказал Кремль о выборах?")


def test_list_never_cuts_ids_and_shows_sections(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.cli.app import console

    rows = [
        {"id": f"politics/{n:03d}", "category": "politics",
         "title": "A headline long enough to need cutting in a narrow terminal " * 2,
         "body": f"Story number {n} is about the council vote. It passed easily."}
        for n in range(3)
    ]  # fmt: skip
    path = tmp_path / "a.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert rag("ingest", str(path))[0] == 0
    monkeypatch.setattr(console, "size", (80, 25))  # an 80-column terminal
    monkeypatch.setattr(console, "soft_wrap", False)
    code, out, _ = rag("list")
    assert code == 0
    assert max(len(line) for line in out.splitlines()) <= 80
    for row in rows:
        assert row["id"] in out
    assert "section" in out.splitlines()[0] and "politics" in out.splitlines()[1]
    # an id longer than the terminal is still printed whole: the line runs on instead
    long_id = "x" * 90
    path.write_text(json.dumps({"id": long_id, "title": "T", "body": "A body. It is short."}))
    assert rag("ingest", str(path))[0] == 0
    assert long_id in rag("list")[1]


def test_list_aligns_wide_characters_and_cuts_titles_by_terminal_cells() -> None:
    """Chinese and Japanese characters take two terminal cells, Thai vowel marks none: the
    columns line up by what a terminal shows, and a cut title fits its cells."""
    from rich.cells import cell_len

    from rag.cli.rendering import article_lines
    from rag.store import ArticleInfo

    articles = [
        ArticleInfo(
            "a1", "港特首梁振英就住宅违建事件道歉", "两岸三地", "2012-12-10", "", "", "", 2
        ),
        ArticleInfo(
            "a2", "ผล DNA ยืนยัน ศพลอยแม่น้ำโขงเป็นคนสนิท", "ประชาไท", "2019-01-21", "", "", "", 3
        ),
        ArticleInfo(
            "a3", "Council approves the budget", "Valley Herald", "2024-05-01", "", "", "", 1
        ),
    ]
    for width in (None, 60):
        lines = article_lines(articles, width)
        title_at = {
            cell_len(line[: line.index(a.title[:2])])
            for line, a in zip(lines[1:], articles, strict=True)
        }
        assert len(title_at) == 1, lines  # every title starts in the same terminal column
        if width is not None:
            assert all(cell_len(line) <= width for line in lines), lines
            assert "…" in lines[1]  # the Chinese title was cut, by cells


def command_paths() -> list[list[str]]:
    """Every command and sub-command of the CLI."""
    import typer.main

    group = typer.main.get_command(app)
    paths: list[list[str]] = []

    def walk(command: object, prefix: list[str]) -> None:
        subs = getattr(command, "commands", None)
        if not subs:
            paths.append(prefix)
            return
        for name, sub in subs.items():
            walk(sub, [*prefix, name])

    walk(group, [])
    return paths


def test_every_command_help_has_an_example_and_no_test_twins() -> None:
    paths = command_paths()
    assert ["ask"] in paths and ["models", "pull"] in paths and len(paths) >= 12
    for path in paths:
        code, out, _ = rag(*path, "--help")
        assert code == 0, path
        assert "Example: rag " in out or "Example: RAG_" in out, path
        assert "scripted" not in out and "hash" not in out.replace("sha256", ""), path


def test_unknown_backends_do_not_offer_test_twins(seeded: None) -> None:
    _, _, err = rag("ask", "Who?", "--llm", "nonsense")
    assert "scripted" not in err and "local[:NAME or PATH.gguf]" in err
    _, _, err = rag("ask", "Who?", "--embedding", "nonsense")
    assert "hash" not in err and "wordllama, minilm or openai[:MODEL]" in err


def test_stats_says_whose_disk_size_it_is(seeded: None) -> None:
    code, out, _ = rag("stats")
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith("on disk")]
    assert line.endswith("(this collection)")
    info = json.loads(rag("stats", "--json")[1])
    assert info["collections"] == 1 and info["size_bytes"] > 0


# --- rendering -------------------------------------------------------------------------------

LONG_URL = "https://www.example.com/news/2023/05/12/a-very-long-path-to-an-article-about-a-bridge"
PASSAGE = (
    "The council approved the harbour bridge on Tuesday. The vote was close. "
    "Construction starts in the spring, the mayor said."
)


def _terminal(width: int) -> Any:
    from io import StringIO

    from rich.console import Console

    return Console(file=StringIO(), width=width, force_terminal=True, color_system="standard")


def _citation(spans: list[tuple[int, int]] | None = None) -> Any:
    from rag.types import Citation, Passage

    passage = Passage("c#0", "c", PASSAGE, title="Bridge", url=LONG_URL)
    return Citation(1, passage, 0, 51, spans=spans or [])


def test_urls_are_never_broken_at_the_terminal_width() -> None:
    from rag.cli.rendering import print_answer, print_article
    from rag.store import ShownArticle
    from rag.types import Answer

    console = _terminal(40)
    answer = Answer("q", "The bridge was approved. [1]", False, "x", citations=[_citation()])
    print_answer(console, answer)
    shown = ShownArticle("c", "Bridge", "", None, LONG_URL, [], "/x.txt", PASSAGE, 1)
    print_article(console, shown)
    plain = re.sub(r"\x1b\[[0-9;]*m", "", console.file.getvalue())
    assert plain.count(LONG_URL) == 2


def test_streamed_answers_wrap_at_word_boundaries() -> None:
    from io import StringIO

    from rich.console import Console

    from rag.cli.chatview import ConsoleView
    from rag.cli.rendering import StreamPrinter

    text = "Candela spoke about his relationship with the club and its supporters at length."
    pieces = ["Candela spoke about his rela", "tionship with the cl", "ub and its", " supporters a",
              "t length."]  # fmt: skip
    console = _terminal(30)
    printer = StreamPrinter(console)
    for piece in pieces:
        printer.write(piece)
    printer.finish()
    view_console = _terminal(30)
    view = ConsoleView(view_console)
    for piece in pieces:
        view.token(piece)
    view.end_stream()
    for out in (console.file.getvalue(), view_console.file.getvalue()):
        lines = out.rstrip("\n").split("\n")
        assert len(lines) > 1 and all(len(line) <= 30 for line in lines), lines
        assert " ".join(line.strip() for line in lines) == text  # no word cut in two
    piped = StreamPrinter(Console(file=StringIO()))  # not a terminal
    for piece in pieces:
        piped.write(piece)
    assert piped.console.file.getvalue() == text  # a pipe gets the text as it came


def test_both_cited_sentences_of_a_passage_are_highlighted() -> None:
    from rag.chat import marked_passage
    from rag.citations import check_answer
    from rag.cli.rendering import passage_text
    from rag.types import Passage

    passage = Passage("c#0", "c", PASSAGE, title="Bridge")
    checked = check_answer(
        "The council approved the harbour bridge on Tuesday. [1] Construction starts in the "
        "spring, the mayor said. [1]",
        [passage],
        refusal_phrase="The articles don't say.",
    )
    [citation] = checked.citations
    assert [PASSAGE[a:b] for a, b in citation.supporting_spans()] == [
        "The council approved the harbour bridge on Tuesday.",
        "Construction starts in the spring, the mayor said.",
    ]
    rendered = passage_text(citation)
    bold = [rendered.plain[s.start : s.end] for s in rendered.spans if "bold" in str(s.style)]
    assert bold == [PASSAGE[a:b] for a, b in citation.supporting_spans()]
    assert marked_passage(citation) == (
        "**The council approved the harbour bridge on Tuesday.** The vote was close. "
        "**Construction starts in the spring, the mayor said.**"
    )


def test_save_says_the_filters_the_saved_turns_ran_under(seeded: None, tmp_path: Path) -> None:
    saved = tmp_path / "chat.md"
    lines = ["/since 2005-01-01", "What did the Kremlin say?", "/filters clear",
             f"/save {saved}"]  # fmt: skip
    assert runner.invoke(app, ["chat"], input="\n".join(lines) + "\n").exit_code == 0
    header = saved.read_text(encoding="utf-8").splitlines()[2]
    assert header.endswith("filters: since 2005-01-01"), header
    lines[-1:] = ["What did the Kremlin say?", f"/save {saved}"]
    assert runner.invoke(app, ["chat"], input="\n".join(lines) + "\n").exit_code == 0
    text = saved.read_text(encoding="utf-8")
    assert "filters: changed between turns" in text.splitlines()[2]
    assert "*Filters: since 2005-01-01*" in text and "*Filters: none*" in text


def test_the_eval_tag_table_fits_80_columns_without_cutting_tags() -> None:
    from io import StringIO

    from rich.console import Console

    from rag.cli.rendering import tag_table
    from rag.eval.report import TAG_COLUMNS

    tags = ["answerable", "unanswerable", "temporal-reasoning", "query_by:ai_generated_long_label"]
    metrics = {name: {"mean": 0.5} for name in TAG_COLUMNS}
    summary = {"by_tag": {tag: {"questions": 120, "metrics": metrics} for tag in tags}}
    console = Console(file=StringIO(), width=80)
    console.print(tag_table(summary))
    lines = console.file.getvalue().splitlines()
    assert all(len(line) <= 80 for line in lines) and "…" not in console.file.getvalue()
    assert all(label in lines[0] for label in ["tag", *TAG_COLUMNS.values()]), lines[0]
    for tag in tags[:3]:
        assert any(line.split()[0] == tag for line in lines[1:]), tag
    folded = "".join(line.split()[0] for line in lines if line.split()[0].startswith(("q", "_")))
    assert folded == tags[3]  # a tag wider than its column folds onto the next line, whole
