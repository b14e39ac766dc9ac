"""``rag feeds``: follow news feeds and ingest their new pages (``rag ingest URL`` is in
``commands``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from rag.cli.app import (
    AllowPrivate,
    ChromaUrl,
    Collection,
    DataDir,
    Embedding,
    JsonOut,
    app,
    console,
    err,
    errors,
    ingest_settings,
    settings_from,
)

feeds_app = typer.Typer(
    help="Follow news feeds (RSS, Atom, JSON Feed, news sitemaps) and ingest their new pages.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("add")
def feeds_add(
    url: Annotated[
        str, typer.Argument(metavar="URL", help="A feed, a sitemap, or a site that links its feed.")
    ],
    name: Annotated[
        str | None, typer.Option(help="A short name (default: from the title).")
    ] = None,
    data_dir: DataDir = None,
    allow_private_urls: AllowPrivate = None,
) -> None:
    """Follow a feed; 'rag feeds update' ingests its pages.

    Example: rag feeds add https://feeds.bbci.co.uk/news/rss.xml --name bbc
    """
    with errors():
        from rag.feeds import add_feed

        settings = settings_from(data_dir=data_dir, allow_private_urls=allow_private_urls)
        feed = add_feed(settings, url, name)
        console.print(f"following {feed.name}: {feed.url}", markup=False)


@feeds_app.command("list")
def feeds_list(as_json: JsonOut = False, data_dir: DataDir = None) -> None:
    """The feeds followed: name, URL, entries ingested, entries waiting, last checked.

    Example: rag feeds list --json
    """
    with errors():
        from dataclasses import asdict

        from rag.cli.rendering import feeds_table
        from rag.feeds import list_feeds

        rows = list_feeds(settings_from(data_dir=data_dir))
        if as_json:
            console.print_json(json.dumps([asdict(r) for r in rows]))
        elif not rows:
            console.print("no feeds followed (add one with 'rag feeds add URL')")
        else:
            console.print(feeds_table(rows))


@feeds_app.command("remove")
def feeds_remove(
    key: Annotated[str, typer.Argument(metavar="NAME|URL", help="The feed's name or URL.")],
    data_dir: DataDir = None,
) -> None:
    """Stop following a feed (its articles stay in the store).

    Example: rag feeds remove bbc
    """
    with errors():
        from rag.feeds import remove_feed

        feed = remove_feed(settings_from(data_dir=data_dir), key)
        console.print(f"removed {feed.name}: {feed.url}", markup=False)


@feeds_app.command("update")
def feeds_update(
    names: Annotated[
        list[str] | None, typer.Argument(metavar="NAME", help="Feeds to update (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
    allow_private_urls: AllowPrivate = None,
) -> None:
    """Fetch new entries of the feeds and ingest their pages; exit 1 if any failed.

    Example: rag feeds update --json
    """
    with errors():
        from rag.cli.rendering import update_dict, update_summary, with_update_progress
        from rag.feeds import update

        settings = ingest_settings(data_dir, collection, chroma_url, embedding, allow_private_urls)
        report = with_update_progress(err, lambda p: update(settings, names or None, progress=p))
        if as_json:
            console.print_json(json.dumps(update_dict(report)))
        else:
            update_summary(console, err, report)
        if not report.ok:
            raise typer.Exit(1)
