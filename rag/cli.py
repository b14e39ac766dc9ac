"""The ``rag`` command: parses arguments, calls one library function, renders the result."""

from __future__ import annotations

import atexit
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.retrieve import Filters
    from rag.settings import Settings

app = typer.Typer(
    name="rag",
    help="Ask questions of a pile of news articles and get answers you can check.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    rich_markup_mode=None,
)
# wordllama calls logging.basicConfig(level=INFO) on import; configure logging first
logging.basicConfig(level=logging.WARNING)
# piped output is not wrapped at 80 columns (scripts and pipes get whole lines)
console = Console(highlight=False, soft_wrap=not sys.stdout.isatty())
err = Console(stderr=True, highlight=False)

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Data directory [env: RAG_DATA_DIR].", show_default=False),
]
Collection = Annotated[
    str | None,
    typer.Option("--collection", help="Collection name [env: RAG_COLLECTION; default: news]."),
]
ChromaUrl = Annotated[
    str | None,
    typer.Option("--chroma-url", help="Use a Chroma server at this URL [env: RAG_CHROMA_URL]."),
]
Embedding = Annotated[
    str | None,
    typer.Option(
        "--embedding",
        help="wordllama, minilm, openai[:MODEL] [env: RAG_EMBEDDING; default: wordllama].",
    ),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Passages = Annotated[int | None, typer.Option("--k", help="Passages shown to the answerer.")]
Llm = Annotated[
    str | None,
    typer.Option(help="auto, extractive, openai[:MODEL], local[:PATH.gguf] [env: RAG_LLM]."),
]
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", help="OpenAI-compatible server URL [env: OPENAI_BASE_URL]."),
]
Since = Annotated[str | None, typer.Option(help="Only articles from this date.")]
Until = Annotated[str | None, typer.Option(help="Only articles up to this date.")]
Source = Annotated[str | None, typer.Option(help="Only this outlet (e.g. cnn).")]
AsOf = Annotated[
    str | None,
    typer.Option("--as-of", help="Answer as of this date; resolves 'this week' etc."),
]


@contextmanager
def _errors() -> Iterator[None]:
    """Expected failures become one line on stderr and exit code 1."""
    try:
        yield
    except RagError as exc:
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise typer.Exit(130) from None


def _settings(**flags: Any) -> Settings:
    from rag.settings import Settings

    return Settings.load(flags=flags)


@app.command()
def ingest(
    paths: Annotated[list[str], typer.Argument(help="Files, folders (recursive) or globs.")],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Read every file as txt, md, html, json or jsonl."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Re-embed unchanged articles.")] = False,
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Add articles to the store; unchanged ones are skipped, changed ones replaced."""
    with _errors():
        from rag.ingest import ingest as run_ingest
        from rag.render import ingest_summary

        settings = _settings(
            data_dir=data_dir, collection=collection, chroma_url=chroma_url, embedding=embedding
        )
        if fmt and fmt not in {"txt", "md", "html", "json", "jsonl"}:
            raise RagError(f"unknown --format {fmt!r} (use txt, md, html, json or jsonl)")
        report = _with_progress(
            lambda p: run_ingest(paths, settings, fmt=fmt, force=force, progress=p)
        )
        if as_json:
            console.print_json(
                json.dumps(
                    {
                        "added": report.added,
                        "updated": report.updated,
                        "unchanged": len(report.unchanged),
                        "duplicates": [list(d) for d in report.duplicates],
                        "failed": [str(f) for f in report.failed],
                        "chunks": report.chunks,
                        "seconds": round(report.seconds, 3),
                    }
                )
            )
        else:
            ingest_summary(console, report)
        if not report.ok:
            raise typer.Exit(1)


def _with_progress(run: Any) -> Any:
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


@app.command("list")
def list_articles(
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """List stored articles: id, date, source, title, chunk count."""
    with _errors():
        from dataclasses import asdict

        from rag.render import articles_table
        from rag.store import ChunkStore

        settings = _settings(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        articles = ChunkStore.open(settings).articles()
        if as_json:
            console.print_json(json.dumps([asdict(a) for a in articles]))
        elif not articles:
            console.print("no articles stored")
        else:
            console.print(articles_table(articles))


@app.command()
def remove(
    ids: Annotated[list[str], typer.Argument(help="Article ids (see 'rag list').")],
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Remove articles and all their chunks."""
    with _errors():
        from rag.ingest import remove as run_remove

        settings = _settings(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        removed, missing = run_remove(ids, settings)
        for article_id in removed:
            console.print(f"removed {article_id}", markup=False)
        for article_id in missing:
            err.print(f"error: no article with id {article_id}", markup=False)
        if missing:
            raise typer.Exit(1)


@app.command()
def stats(
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Articles, chunks, where the store is, and the embedding model that built it."""
    with _errors():
        from rag.store import ChunkStore, describe

        settings = _settings(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        store = ChunkStore.open(settings)
        articles = store.articles()
        info = {
            "collection": settings.collection,
            "store": ("server " if settings.server_mode else "embedded ") + describe(settings),
            "articles": len(articles),
            "chunks": store.count(),
            "embedding": store.embedding_name,
            "size_bytes": _dir_size(settings.store_dir) if not settings.server_mode else None,
        }
        if as_json:
            console.print_json(json.dumps(info))
        else:
            for key, value in info.items():
                if value is not None:
                    console.print(f"{key:11} {value}", markup=False)


def _dir_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


@app.command()
def config(
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Show the effective settings and where each came from (secrets masked)."""
    with _errors():
        settings = _settings(
            data_dir=data_dir, collection=collection, chroma_url=chroma_url, embedding=embedding
        )
        rows = settings.shown()
        if as_json:
            console.print_json(json.dumps({n: {"value": v, "origin": o} for n, v, o in rows}))
            return
        from rich.table import Table

        table = Table(box=None, header_style="bold")
        for column in ("setting", "value", "origin"):
            table.add_column(column)
        for row in rows:
            table.add_row(*row)
        console.print(table)


def parse_filters(since: str | None, until: str | None, source: str | None) -> Filters:
    """Filters from command-line text."""
    from rag.dates import parse_date
    from rag.retrieve import Filters

    return Filters(
        since=parse_date(since, "--since") if since else None,
        until=parse_date(until, "--until") if until else None,
        source=source,
    )


def _answer_settings(
    data_dir: Path | None,
    collection: str | None,
    chroma_url: str | None,
    embedding: str | None,
    k: int | None,
    llm: str | None,
    base_url: str | None,
) -> Settings:
    """Settings for the commands that answer questions: ask, chat and eval."""
    return _settings(
        data_dir=data_dir,
        collection=collection,
        chroma_url=chroma_url,
        embedding=embedding,
        k=k,
        llm=llm,
        openai_base_url=base_url,
    )


def _as_of(text: str | None) -> date | None:
    """--as-of: the day relative dates and the recency prior count from (default today)."""
    from rag.dates import parse_date

    return parse_date(text, "--as-of") if text else None


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    k: Passages = None,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    as_of: AsOf = None,
    llm: Llm = None,
    base_url: BaseUrl = None,
    passages: Annotated[
        bool, typer.Option("--passages/--no-passages", help="Show cited passages.")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Answer a question from the stored articles, citing the passages it used."""
    _quick_exit.append(True)  # read-only: nothing to tear down once the output is out
    with _errors():
        from rag.engine import EXTRACTIVE_NOTE, Asker, resolve_llm
        from rag.render import print_answer

        settings = _answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        filters = parse_filters(since, until, source)
        day = _as_of(as_of)
        spec = resolve_llm(settings)
        if not as_json and spec == "extractive":
            err.print(EXTRACTIVE_NOTE, style="dim")
        stream = not as_json and spec != "extractive"

        streamed: list[str] = []

        def on_token(piece: str) -> None:
            streamed.append(piece)
            console.print(piece, end="", markup=False, highlight=False)

        answer = Asker(settings).ask(
            question, as_of=day, filters=filters, on_token=on_token if stream else None
        )
        if as_json:
            console.print_json(json.dumps(answer.to_dict()))
            return
        if stream:
            console.print()
            if " ".join("".join(streamed).split()) != " ".join(answer.answer.split()):
                console.print("[dim]checked:[/dim]", end=" ")
                console.print(answer.answer, markup=False)
        print_answer(console, answer, streamed=stream, passages=passages)


@app.command()
def chat(
    k: Passages = None,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    as_of: AsOf = None,
    llm: Llm = None,
    base_url: BaseUrl = None,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Chat with the articles: follow-up questions, sources on demand, /help for commands.

    With stdin not a terminal, reads one question or /command per line.
    """
    with _errors():
        from rag.chat import ChatSession, ConsoleView, run_interactive, run_piped
        from rag.engine import EXTRACTIVE_NOTE, Asker

        settings = _answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        filters = parse_filters(since, until, source)
        day = _as_of(as_of)
        interactive = sys.stdin.isatty()
        view = ConsoleView(console, stream=interactive)
        session = ChatSession(Asker(settings), view, filters=filters, as_of=day)
        if session.llm == "extractive":
            err.print(EXTRACTIVE_NOTE, style="dim")
        if interactive:
            run_interactive(session, settings.data_dir / "chat_history")
        elif run_piped(session, sys.stdin):
            raise typer.Exit(1)


# --- rag eval ------------------------------------------------------------------------------


class _EvalGroup(TyperGroup):
    """``rag eval DATASET ...`` is short for ``rag eval run DATASET ...``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Route anything that is not a subcommand or --help to ``run``."""
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


eval_app = typer.Typer(
    cls=_EvalGroup,
    help=(
        "Evaluate against gold Q&A: 'rag eval DATASET' (same as 'rag eval run DATASET') "
        "or 'rag eval compare A B'."
    ),
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("run")
def eval_run(
    dataset: Annotated[
        Path, typer.Argument(metavar="DATASET", help="Gold JSONL (EVAL.md) or rag_dataset.json.")
    ],
    corpus: Annotated[
        list[str] | None,
        typer.Option(
            "--corpus",
            metavar="PATH",
            help="Ingest these files/folders into a fresh temporary store first (repeatable); "
            "without it the current store is used.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder [default: ./eval/out/<timestamp>]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    k: Passages = None,
    llm: Llm = None,
    base_url: BaseUrl = None,
    judge: Annotated[
        str | None,
        typer.Option(help="Judge model for correctness/faithfulness, e.g. openai:gpt-4.1-mini."),
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Also write report.html.")] = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, help="Only the first N questions.")
    ] = None,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Ask every question of DATASET and score retrieval, answers, citations and refusals."""
    with _errors():
        from rag.eval.dataset import load_dataset
        from rag.eval.report import headline, html_report, summary_table, tag_table
        from rag.eval.run import run_eval, write_run

        settings = _answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        gold = load_dataset(dataset)
        folder = out or _default_out()
        run = _with_eval_progress(
            lambda p: run_eval(
                gold, settings, corpus=corpus, judge_spec=judge, limit=limit, progress=p
            )
        )
        write_run(run, folder)
        if html:
            (folder / "report.html").write_text(html_report(run), encoding="utf-8")
        if as_json:
            console.print_json(json.dumps(run.summary))
        else:
            console.print(headline(run.summary), markup=False)
            console.print(summary_table(run.summary))
            console.print()
            console.print(tag_table(run.summary))
        err.print(f"wrote {folder}", markup=False)


def _default_out() -> Path:
    from datetime import datetime

    base = Path("eval") / "out" / datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def _with_eval_progress(run: Any) -> Any:
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


@eval_app.command("compare")
def eval_compare(
    a: Annotated[Path, typer.Argument(help="Output folder of the baseline run.")],
    b: Annotated[Path, typer.Argument(help="Output folder of the new run.")],
    fail_on_drop: Annotated[
        float | None,
        typer.Option(
            "--fail-on-drop",
            min=0.0,
            help="Exit 1 when a deterministic metric drops by more than this (e.g. 0.02).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Per-metric deltas of B against A with paired bootstrap intervals, and flipped questions."""
    with _errors():
        from dataclasses import asdict

        from rag.eval.compare import compare
        from rag.eval.report import comparison_table

        result = compare(a, b, fail_on_drop)
        if as_json:
            console.print_json(json.dumps({**asdict(result), "regressions": [
                d.name for d in result.regressions
            ]}))  # fmt: skip
        else:
            console.print(f"{result.questions} questions in both runs", markup=False)
            console.print(comparison_table(result))
            for flip in result.flips:
                console.print(
                    f"flipped {flip.id} {flip.metric}: {flip.a:g} -> {flip.b:g}  {flip.query}",
                    markup=False,
                )
        for d in result.regressions:
            err.print(f"drop: {d.name} fell by {d.drop:.3f} (> {fail_on_drop:g})", markup=False)
        if result.regressions:
            raise typer.Exit(1)


# Read-only commands append here. When one has run, main() ends the process without
# tearing down the interpreter (about 0.25 s of module and GC clean-up for llama_index
# and chromadb), after running the atexit handlers and flushing the output.
_quick_exit: list[bool] = []


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except RagError as exc:  # raised outside a command's guard
        err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    except SystemExit as exc:
        if _quick_exit and (exc.code is None or isinstance(exc.code, int)):
            atexit._run_exitfuncs()
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except OSError:  # a closed pipe: nothing more can be said
                pass
            os._exit(exc.code or 0)
        raise
