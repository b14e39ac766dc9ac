"""The commands that manage the store and answer questions: ingest, list, remove, stats,
quotes, config, ask and chat."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from rag.cli.app import (
    AllowPrivate,
    AsOf,
    BaseUrl,
    ChromaUrl,
    Collection,
    DataDir,
    Embedding,
    JsonOut,
    Llm,
    Passages,
    Since,
    Source,
    Until,
    answer_settings,
    app,
    as_of_date,
    console,
    err,
    errors,
    ingest_settings,
    parse_filters,
    read_only_command,
    settings_from,
)
from rag.errors import RagError


@app.command()
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(metavar="PATH", help="Files, folders (recursive), globs or http(s) URLs."),
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Read every file as txt, md, html, json or jsonl."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Re-embed unchanged articles; keep pages that are not articles."
        ),
    ] = False,
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
    allow_private_urls: AllowPrivate = None,
) -> None:
    """Add articles (files or web pages) to the store; unchanged ones are skipped, changed
    ones replaced.

    Example: rag ingest seeds/ articles/*.html https://example.com/news/story.html
    """
    with errors():
        from rag.cli.rendering import ingest_summary, with_ingest_progress
        from rag.ingest import ingest as run_ingest

        settings = ingest_settings(data_dir, collection, chroma_url, embedding, allow_private_urls)
        if fmt and fmt not in {"txt", "md", "html", "json", "jsonl"}:
            raise RagError(f"unknown --format {fmt!r} (use txt, md, html, json or jsonl)")
        report = with_ingest_progress(
            err, lambda p: run_ingest(paths, settings, fmt=fmt, force=force, progress=p)
        )
        if as_json:
            console.print_json(json.dumps(report.to_dict()))
        else:
            ingest_summary(console, err, report)
        if not report.ok:
            raise typer.Exit(1)


@app.command("list")
def list_articles(
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """List stored articles: id, date, source, title, chunk count.

    Example: rag list --json
    """
    with errors():
        from dataclasses import asdict

        from rag.cli.rendering import article_lines
        from rag.store import ChunkStore

        settings = settings_from(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        articles = ChunkStore.open(settings).articles()
        if as_json:
            console.print_json(json.dumps([asdict(a) for a in articles]))
        elif not articles:
            console.print("no articles stored")
        else:
            width = None if console.soft_wrap else console.width
            for line in article_lines(articles, width):
                console.print(line, markup=False, highlight=False, soft_wrap=True)


@app.command()
def show(
    article_id: Annotated[
        str, typer.Argument(metavar="ID", help="An article id (see 'rag list').")
    ],
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Show a stored article as it is searched: metadata and the whole cleaned text.

    Example: rag show url-3f2a9c0d1e5b7a64 --json
    """
    read_only_command()
    with errors():
        from dataclasses import asdict

        from rag.cli.rendering import print_article
        from rag.store import ChunkStore

        settings = settings_from(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        shown = ChunkStore.open(settings).show(article_id)
        if as_json:
            console.print_json(json.dumps(asdict(shown)))
        else:
            print_article(console, shown)


@app.command()
def remove(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help="Article ids (see 'rag list').")],
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Remove articles and all their chunks.

    Example: rag remove txt-d3113602b612aa5b
    """
    with errors():
        from rag.ingest import remove as run_remove

        settings = settings_from(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
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
    """Articles, chunks, where the store is, and the embedding model that built it.

    Example: rag stats --json
    """
    with errors():
        from dataclasses import asdict

        from rag.store import ChunkStore

        settings = settings_from(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        info = asdict(ChunkStore.open(settings).stats())
        if as_json:
            console.print_json(json.dumps(info))
        else:
            shared = info.pop("collections")
            size = info.pop("size_bytes")
            for key, value in info.items():
                console.print(f"{key:11} {value}", markup=False)
            if size is not None:
                whose = "this collection" if shared == 1 else f"all {shared} collections"
                console.print(f"{'on disk':11} {size / 1e6:.1f} MB ({whose})", markup=False)


@app.command()
def quotes(
    speaker: Annotated[
        str | None,
        typer.Argument(
            metavar="SPEAKER", help="Full name, surname, descriptor or organisation (any case)."
        ),
    ] = None,
    article: Annotated[str | None, typer.Option("--article", help="Only this article.")] = None,
    since: Since = None,
    until: Until = None,
    source: Source = None,
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
) -> None:
    """Who said what: stored quotes by speaker, grouped with outlet, date and headline.

    Example: rag quotes Peskov --json
    """
    read_only_command()
    with errors():
        from rag.cli.rendering import print_quotes
        from rag.quotes.lookup import find_quotes

        settings = settings_from(data_dir=data_dir, collection=collection, chroma_url=chroma_url)
        found = find_quotes(
            settings, speaker, article_id=article, filters=parse_filters(since, until, source)
        )
        if as_json:
            console.print_json(json.dumps({"quotes": [q.to_dict() for q in found]}))
        elif not found:
            console.print("no quotes found")
        else:
            print_quotes(console, found)


@app.command()
def config(
    as_json: JsonOut = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Show the effective settings and where each came from (secrets masked).

    Example: RAG_K=8 rag config
    """
    with errors():
        settings = settings_from(
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


@app.command()
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question, in quotes.")],
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
    """Answer a question from the stored articles, citing the passages it used.

    Example: rag ask "What did the Kremlin say?" --since 2023-05-01
    """
    if not question.strip():
        raise typer.BadParameter("the question is empty", param_hint="QUESTION")
    read_only_command()
    with errors():
        from rag.cli.rendering import StreamPrinter, print_answer, restatement
        from rag.engine import EXTRACTIVE_NOTE, Asker, resolve_llm

        settings = answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        filters = parse_filters(since, until, source)
        day = as_of_date(as_of)
        spec = resolve_llm(settings)
        stream = not as_json and spec != "extractive"

        streamed: list[str] = []
        printer = StreamPrinter(console)  # wraps at word boundaries on a terminal
        # a spinner on a terminal while the model reads the sources, until its first words
        waiting = err.status("reading the sources…") if stream and err.is_terminal else None

        def on_token(piece: str) -> None:
            if waiting is not None:
                waiting.stop()
            streamed.append(piece)
            printer.write(piece)

        asker = Asker(settings)
        if waiting is not None:
            waiting.start()
        try:
            answer = asker.ask(
                question, as_of=day, filters=filters, on_token=on_token if stream else None
            )
        finally:
            if waiting is not None:
                waiting.stop()
        if as_json:
            console.print_json(json.dumps(answer.to_dict()))
            return
        if spec == "extractive":  # said with an answer, never before an error
            err.print(EXTRACTIVE_NOTE, style="dim")
        if stream:
            printer.finish()
            console.print()
            if (again := restatement("".join(streamed), answer)) is not None:
                console.print(again)
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

    Example: rag chat --llm local

    With stdin not a terminal, reads one question or /command per line.
    """
    with errors():
        from rag.chat import ChatSession, run_piped
        from rag.cli.chatview import ConsoleView, run_interactive
        from rag.engine import EXTRACTIVE_NOTE, Asker

        settings = answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        filters = parse_filters(since, until, source)
        day = as_of_date(as_of)
        interactive = sys.stdin.isatty()
        view = ConsoleView(console, stream=interactive)
        session = ChatSession(Asker(settings), view, filters=filters, as_of=day)
        if session.llm == "extractive":
            err.print(EXTRACTIVE_NOTE, style="dim")
        if interactive:
            run_interactive(session, settings.data_dir / "chat_history")
        elif run_piped(session, sys.stdin):
            raise typer.Exit(1)
