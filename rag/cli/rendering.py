"""Terminal rendering of answers, sources, ingest reports and progress with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rag.ingest import IngestReport
    from rag.store import ArticleInfo
    from rag.types import Answer, Citation


def passage_text(citation: Citation) -> Text:
    """The cited passage with its supporting span highlighted."""
    text = Text(citation.passage.text.strip(), style="dim")
    lead = len(citation.passage.text) - len(citation.passage.text.lstrip())
    start, end = citation.span_start - lead, citation.span_end - lead
    if 0 <= start < end:
        text.stylize("bold yellow", start, end)
    return text


def print_answer(
    console: Console, answer: Answer, *, streamed: bool = False, passages: bool = True
) -> None:
    """The answer (unless already streamed), then its sources."""
    if not streamed:
        style = "italic" if answer.refused else ""
        console.print(Text(answer.answer, style=style))
    print_sources(console, answer, passages=passages)
    for warning in answer.warnings:
        console.print(Text(f"note: {warning}", style="dim"))


def print_sources(console: Console, answer: Answer, *, passages: bool = True) -> None:
    """Numbered sources, each with its passage when asked."""
    if not answer.citations:
        return
    console.print()
    console.print(Text("Sources", style="bold"))
    for citation in answer.citations:
        console.print(Text(citation.source_line(), style="cyan"))
        if citation.passage.url:
            console.print(Text(f"    {citation.passage.url}", style="dim blue"))
        if passages:
            console.print(passage_text(citation), soft_wrap=False)
            console.print()


def ingest_summary(console: Console, report: IngestReport) -> None:
    """Counts, duplicates and failures of an ingest run."""
    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, skipped duplicates {len(report.duplicates)}, "
        f"failed {len(report.failed)} ({report.chunks} chunks, {report.seconds:.1f} s)"
    )
    for skipped, kept in report.duplicates[:20]:
        console.print(Text(f"duplicate: {skipped} has the same text as {kept}", style="yellow"))
    if len(report.duplicates) > 20:
        console.print(f"... and {len(report.duplicates) - 20} more duplicates")
    for failure in report.failed:
        console.print(Text(f"failed: {failure}", style="red"))


def articles_table(articles: list[ArticleInfo]) -> Table:
    """``rag list`` as a table."""
    table = Table(box=None, header_style="bold")
    for column in ("id", "date", "source", "title", "chunks"):
        table.add_column(column, overflow="fold" if column == "title" else "ellipsis")
    for a in articles:
        table.add_row(
            escape(a.article_id),
            a.published or "",
            escape(a.source),
            escape(a.title),
            str(a.chunks),
        )
    return table


def with_ingest_progress(err: Console, run: Any) -> Any:
    """Run with a progress bar on a terminal (stderr), silently otherwise."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files · {task.fields[articles]} articles"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None, articles=0)

        def update(articles: int, files_done: int, files_total: int) -> None:
            bar.update(task, completed=files_done, total=files_total, articles=articles)

        return run(update)


def with_eval_progress(err: Console, run: Any) -> Any:
    """Run with a progress bar (ingesting, then asking) on a terminal, silently otherwise."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=None)

        def update(phase: str, done: int, total: int | None) -> None:
            bar.update(task, description=phase, completed=done, total=total)

        return run(update)
