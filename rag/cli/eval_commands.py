"""``rag eval``: run a gold set, compare two runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from rag.cli.app import (
    BaseUrl,
    ChromaUrl,
    Collection,
    DataDir,
    Embedding,
    Llm,
    Passages,
    answer_settings,
    app,
    console,
    err,
    errors,
)
from rag.errors import ConfigError

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
        "or 'rag eval compare A B'; 'rag eval quotes GOLD --corpus PATH' scores quotes."
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
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            min=1,
            metavar="N",
            help="Only N questions drawn at random (reproducible with --seed), in dataset order.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed for --sample.")] = 0,
    data_dir: DataDir = None,
    collection: Collection = None,
    chroma_url: ChromaUrl = None,
    embedding: Embedding = None,
) -> None:
    """Ask every question of DATASET and score retrieval, answers, citations and refusals.

    Example: rag eval eval/seed-gold.jsonl --corpus seeds/
    """
    with errors():
        from rag.cli.rendering import summary_table, tag_table, with_eval_progress
        from rag.eval.dataset import load_dataset
        from rag.eval.report import headline, html_report
        from rag.eval.run import run_eval, write_run

        settings = answer_settings(data_dir, collection, chroma_url, embedding, k, llm, base_url)
        gold = load_dataset(dataset)
        if limit and sample:
            raise ConfigError("use --limit or --sample, not both")
        folder = out or _default_out()
        run = with_eval_progress(
            err,
            lambda p: run_eval(
                gold,
                settings,
                corpus=corpus,
                judge_spec=judge,
                limit=limit,
                sample=sample,
                seed=seed,
                progress=p,
            ),
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


@eval_app.command("quotes")
def eval_quotes(
    gold: Annotated[
        Path, typer.Argument(metavar="GOLD", help="Quote gold set (eval/quotes-gold.jsonl).")
    ],
    corpus: Annotated[
        list[str],
        typer.Option(
            "--corpus", metavar="PATH", help="Files/folders holding the gold articles (repeatable)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score quote extraction (recall, precision) and attribution against GOLD, beside the
    nearest-name baseline.

    Example: rag eval quotes eval/quotes-gold.jsonl --corpus seeds/ --corpus bbc_news.jsonl
    """
    with errors():
        from rag.cli.rendering import quote_table
        from rag.eval.quotes import evaluate_quotes

        result = evaluate_quotes(gold, corpus).to_dict()
        if as_json:
            console.print_json(json.dumps(result))
        else:
            console.print(quote_table(result))


@eval_app.command("compare")
def eval_compare(
    a: Annotated[Path, typer.Argument(metavar="A", help="Output folder of the baseline run.")],
    b: Annotated[Path, typer.Argument(metavar="B", help="Output folder of the new run.")],
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
    """Per-metric deltas of B against A with paired bootstrap intervals, and flipped questions.

    Example: rag eval compare eval/out/before eval/out/after --fail-on-drop 0.02
    """
    with errors():
        from dataclasses import asdict

        from rag.cli.rendering import comparison_table
        from rag.eval.compare import compare

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
            err.print(f"regression: {d.describe()} (tolerance {fail_on_drop:g})", markup=False)
        if result.regressions:
            raise typer.Exit(1)
