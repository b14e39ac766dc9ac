"""Terminal rendering with rich: answers, sources, ingest reports, progress, eval tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from rag.eval.compare import Comparison
    from rag.feeds import FeedInfo, UpdateReport
    from rag.ingest import IngestReport
    from rag.quotes.index import StoredQuote
    from rag.store import ArticleInfo, ShownArticle
    from rag.types import Answer, Citation


def passage_text(citation: Citation) -> Text:
    """The cited passage with its supporting spans highlighted."""
    text = Text(citation.passage.text.strip(), style="dim")
    lead = len(citation.passage.text) - len(citation.passage.text.lstrip())
    for span_start, span_end in citation.supporting_spans():
        start, end = span_start - lead, span_end - lead
        if 0 <= start < end:
            text.stylize("bold yellow", start, end)
    return text


def print_url(console: Console, url: str, indent: str = "    ") -> None:
    """A URL on its own line, never broken by rich (a terminal may still fold it, which a
    click or a copy follows)."""
    console.print(Text(f"{indent}{url}", style="dim blue"), soft_wrap=True)


class StreamPrinter:
    """Prints streamed pieces of an answer wrapped at word boundaries on a terminal of the
    console's width (a word is held back until it is complete); unwrapped elsewhere."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = console.width if console.is_terminal else None
        self.column = 0
        self.spaces = ""
        self.word = ""

    def write(self, piece: str) -> None:
        """Print what can be printed of ``piece``: whole words and line breaks."""
        if self.width is None:
            self._out(piece)
            return
        out: list[str] = []
        for char in piece:
            if char == "\n":
                out += [self._word(), "\n"]
                self.column, self.spaces = 0, ""
            elif char.isspace():
                out.append(self._word())
                self.spaces += char
            else:
                self.word += char
        self._out("".join(out))

    def finish(self) -> None:
        """Print the word held back, if any."""
        if self.width is not None:
            self._out(self._word())

    def _word(self) -> str:
        if not self.word:
            return ""
        word, self.word = self.word, ""
        assert self.width is not None
        if self.column and self.column + len(self.spaces) + len(word) > self.width:
            self.column, self.spaces = len(word), ""
            return "\n" + word
        lead, self.spaces = ("" if self.column == 0 else self.spaces), ""
        self.column += len(lead) + len(word)
        return lead + word

    def _out(self, text: str) -> None:
        if text:
            self.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)


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


def restatement(streamed: str, answer: Answer) -> Text | None:
    """What follows a streamed reply that is not the final answer: the checked text, or,
    where the local model's streamed refusal gave way to the extractive answerer's
    sentences (the fallback), those under a label that says so; None when they agree."""
    if " ".join(streamed.split()) == " ".join(answer.answer.split()):
        return None
    from rag.engine import FALLBACK_NOTES

    fallback = any(note in answer.warnings for note in FALLBACK_NOTES)
    label = "instead, the extractive answerer: " if fallback else "checked: "
    return Text(label, style="dim") + Text(answer.answer)


def print_sources(console: Console, answer: Answer, *, passages: bool = True) -> None:
    """Numbered sources, each with its passage when asked."""
    if not answer.citations:
        return
    console.print()
    console.print(Text("Sources", style="bold"))
    for citation in answer.citations:
        console.print(Text(citation.source_line(), style="cyan"))
        if citation.passage.url:
            print_url(console, citation.passage.url)
        if passages:
            console.print(passage_text(citation), soft_wrap=False)
            console.print()


def print_article(console: Console, shown: ShownArticle) -> None:
    """A stored article: a header of its metadata, then its text."""
    console.print(Text(shown.title or "(no title)", style="bold"))
    fields = [
        ("id", shown.article_id),
        ("source", shown.source),
        ("published", shown.published or ""),
        ("authors", ", ".join(shown.authors)),
        ("url", shown.url),
        ("path", shown.path),
        ("chunks", str(shown.chunks)),
    ]
    for name, value in fields:
        if value:  # soft-wrapped: a URL or a path stays whole
            console.print(
                Text(f"{name:10} {value}", style="dim"), soft_wrap=name in {"url", "path"}
            )
    console.print()
    console.print(shown.text, markup=False, highlight=False)


def ingest_summary(console: Console, err: Console, report: IngestReport) -> None:
    """Counts and duplicates of an ingest run on stdout; failures are diagnostics, on stderr."""

    console.print(
        f"added {len(report.added)}, updated {len(report.updated)}, "
        f"unchanged {len(report.unchanged)}, skipped duplicates {len(report.duplicates)}, "
        f"failed {len(report.failed)} ({report.chunks} chunks, {report.seconds:.1f} s)"
    )
    if report.requoted:
        console.print(
            f"quotes extracted for {report.requoted} stored "
            f"{'article' if report.requoted == 1 else 'articles'} (a store from before "
            "the quote index, or from before today's quote rules)"
        )
    for d in report.duplicates[:20]:
        line = (
            f"duplicate: {d.path} is the same article as {d.same_as_path} ({d.same_as})"
            if d.article_id == d.same_as
            else f"duplicate: {d.article_id} has the same text as {d.same_as}"
        )
        console.print(Text(line, style="yellow"))
    if len(report.duplicates) > 20:
        console.print(f"... and {len(report.duplicates) - 20} more duplicates")
    for failure in report.failed:
        err.print(Text(f"failed: {failure}", style="red"))
    for page in report.skipped:
        console.print(Text(f"skipped: {page} (--force keeps it)", style="yellow"))
    for article_id, why in report.unquoted.items():
        err.print(Text(f"warning: {article_id} stored without its quotes: {why}", style="yellow"))


def update_summary(console: Console, err: Console, report: UpdateReport) -> None:
    """One line of counts for ``rag feeds update``, then each failure on its own line."""
    ingest = report.ingest
    console.print(
        f"feeds {report.feeds} ({report.not_modified} not modified), "
        f"new entries {report.new_entries}, pages {report.pages}, "
        f"added {len(ingest.added) if ingest else 0}, "
        f"updated {len(ingest.updated) if ingest else 0}, "
        f"failed {len(report.failures)} ({report.seconds:.1f} s)",
        markup=False,
    )
    for failure in report.failures:
        err.print(Text(f"failed: {failure}", style="red"))


def update_dict(report: UpdateReport) -> dict[str, Any]:
    """The ``--json`` shape of ``rag feeds update``."""
    ingest = report.ingest
    return {
        "feeds": report.feeds,
        "not_modified": report.not_modified,
        "new_entries": report.new_entries,
        "pages": report.pages,
        "added": ingest.added if ingest else [],
        "updated": ingest.updated if ingest else [],
        "unchanged": len(ingest.unchanged) if ingest else 0,
        "duplicates": [[d.article_id, d.same_as] for d in ingest.duplicates] if ingest else [],
        "failed": report.failures,
        "requests": report.requests,
        "seconds": round(report.seconds, 3),
    }


def feeds_table(rows: list[FeedInfo]) -> Table:
    """``rag feeds list`` as a table."""
    table = Table(box=None, header_style="bold")
    for column in ("name", "url", "ingested", "waiting", "checked"):
        table.add_column(column, overflow="fold" if column == "url" else "ellipsis")
    for row in rows:
        table.add_row(
            escape(row.name), escape(row.url), str(row.seen), str(row.pending), row.checked or ""
        )
    return table


def article_lines(articles: list[ArticleInfo], width: int | None) -> list[str]:
    """``rag list`` as aligned lines. Ids are never cut (``rag remove`` needs them whole); in
    a terminal of ``width`` columns the title gives way, elsewhere (a pipe) nothing is cut."""
    sections = any(a.section for a in articles)
    columns: list[tuple[str, list[str], int | None]] = [
        ("id", [a.article_id for a in articles], None),
        ("date", [a.published or "" for a in articles], None),
        ("source", [a.source for a in articles], 20),
    ]
    if sections:
        columns.append(("section", [a.section for a in articles], 14))
    columns.append(("chunks", [str(a.chunks) for a in articles], None))
    widths = [
        min(max(cell_len(h), *(cell_len(v) for v in values)), cap or 10**6)
        for h, values, cap in columns
    ]
    titles = [a.title for a in articles]
    used = sum(widths) + 2 * len(widths)
    title_width = max(len("title"), *(cell_len(t) for t in titles))
    if width is not None:
        title_width = max(10, min(title_width, width - used))

    def cut(text: str, size: int) -> str:
        """``text`` in ``size`` terminal cells: a CJK character takes two, a combining mark
        none; what does not fit ends in an ellipsis."""
        if cell_len(text) > size:
            text = set_cell_size(text, size - 1).rstrip() + "…"
        return text + " " * (size - cell_len(text))

    rows = [[h for h, _, _ in columns]] + [
        list(r) for r in zip(*(v for _, v, _ in columns), strict=True)
    ]
    head_titles = ["title", *titles]
    lines = []
    for n, row in enumerate(rows):
        cells = [cut(v, w) if h != "chunks" else v.rjust(w)
                 for (h, _, _), v, w in zip(columns, row, widths, strict=True)]  # fmt: skip
        chunks = cells.pop()
        title = cut(head_titles[n], title_width)
        lines.append("  ".join([*cells, title, chunks]).rstrip())
    return lines


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


def with_update_progress(err: Console, run: Any) -> Any:
    """Feeds checked, pages fetched and articles stored, on a terminal (stderr)."""
    if not err.is_terminal:
        return run(None)
    from rich.progress import Progress, TextColumn

    with Progress(
        TextColumn("feeds {task.fields[feeds]} · pages {task.fields[pages]}"),
        TextColumn("· stored {task.fields[stored]}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("update", total=None, feeds="0", pages="0", stored=0)

        def show(p: Any) -> None:
            bar.update(
                task,
                feeds=f"{p.feeds_done}/{p.feeds}",
                pages=f"{p.pages_done}/{p.pages}",
                stored=p.articles,
            )

        return run(show)


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


def print_quotes(console: Console, quotes: list[StoredQuote]) -> None:
    """Quotes grouped by speaker: who, then each quote with outlet, date and headline."""
    groups: dict[str, list[StoredQuote]] = {}
    for q in quotes:
        groups.setdefault(q.quote.speaker, []).append(q)
    for speaker, said in groups.items():
        descriptors = said[0].quote.descriptors
        head = Text(speaker, style="bold")
        if descriptors:
            head.append(f" ({'; '.join(descriptors)})", style="dim")
        console.print(head)
        for q in said:
            text = " ".join(q.quote.text.split())
            line = f'"{text}"' if q.quote.kind == "direct" else f"({q.quote.cue}) {text}"
            console.print(Text("  " + line))
            where = [q.source or "unknown outlet", q.published or "undated", q.title]
            console.print(Text("    " + " · ".join(where), style="dim"))
        console.print()


def summary_table(summary: dict[str, Any]) -> Table:
    """Every metric: mean, 95% interval, n, skipped, invalid."""
    from rag.eval.report import fmt

    table = Table(box=None, header_style="bold")
    for column in ("metric", "mean", "95% CI", "n", "skipped", "invalid"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for name, s in summary["metrics"].items():
        ci = f"{fmt(s['ci_low'])}–{fmt(s['ci_high'])}" if s["mean"] is not None else "—"
        table.add_row(name, fmt(s["mean"]), ci, str(s["n"]), str(s["skipped"]), str(s["invalid"]))
    return table


def tag_table(summary: dict[str, Any]) -> Table:
    """Key metrics per tag."""
    from rag.eval.report import TAG_COLUMNS, fmt

    # fits 80 columns: numbers and headers are never wrapped, a long tag folds onto a
    # second line instead of being cut
    table = Table(box=None, header_style="bold", collapse_padding=True)
    table.add_column("tag", overflow="fold", min_width=10)
    table.add_column("n", justify="right", no_wrap=True)
    for label in TAG_COLUMNS.values():
        table.add_column(label, justify="right", no_wrap=True)
    for tag, group in summary["by_tag"].items():
        cells = [fmt(group["metrics"].get(n, {}).get("mean"), 2) for n in TAG_COLUMNS]
        table.add_row(tag, str(group["questions"]), *cells)
    return table


def comparison_table(comparison: Comparison) -> Table:
    """Per metric: A, B, paired delta with its interval, and a regression mark."""
    from rag.eval.report import fmt

    table = Table(box=None, header_style="bold")
    for column in ("metric", "A", "B", "delta (B-A)", "95% CI", "n", ""):
        table.add_column(column, justify="left" if column in ("metric", "") else "right")
    failing = {d.name for d in comparison.regressions}
    for d in comparison.deltas:
        ci = f"{fmt(d.delta.ci_low)}–{fmt(d.delta.ci_high)}" if d.delta.mean is not None else "—"
        mark = "DROP" if d.name in failing else ("" if d.gated else "not gated")
        delta = "—" if d.delta.mean is None else f"{d.delta.mean:+.3f}"
        table.add_row(d.name, fmt(d.a), fmt(d.b), delta, ci, str(d.delta.n), mark)
    return table


def quote_table(result: dict[str, Any]) -> Table:
    """``rag eval quotes``: one row a metric, one column a system; hits/n beside each value."""
    from rag.eval.report import fmt

    table = Table(
        title=f"quotes: {result['gold']} gold quotes in {result['articles']} articles",
        title_justify="left",
    )
    rows = [
        ("direct recall", "recall", "direct"),
        ("indirect recall", "recall", "indirect"),
        ("precision", "precision", None),
        ("attribution", "attribution", "all"),
        ("  by name", "attribution", "name"),
        ("  by pronoun", "attribution", "pronoun"),
        ("  by role", "attribution", "role"),
        ("  continuation", "attribution", "continuation"),
    ]
    table.add_column("metric")
    for system in result["systems"]:
        table.add_column(system["system"], justify="right")
    for name, group, part in rows:
        cells = [name]
        for system in result["systems"]:
            rate = system[group] if part is None else system[group].get(part, {})
            cells.append(f"{fmt(rate.get('value'), 2)} ({rate.get('hits', 0)}/{rate.get('n', 0)})")
        table.add_row(*cells)
    return table
