"""Showing eval runs: a headline, formatted numbers and a self-contained HTML page
(the terminal tables are drawn by ``rag.cli.rendering``).

The HTML page has no external assets (inline CSS and SVG) and every piece of text that
comes from a dataset, an article or an answer goes through ``html.escape``.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.eval.run import EvalRun, QuestionResult

TAG_COLUMNS = {
    "hit@5": "hit@5",
    "mrr@10": "mrr@10",
    "contains": "contains",
    "token_f1": "f1",
    "citation_recall": "cite rec",
    "rejection_rate": "reject",
    "false_refusal_rate": "false ref",
}
BAR_W, ROW_H, LABEL_W = 360, 22, 170


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; an em dash for None."""
    return "—" if value is None else f"{value:.{digits}f}"


def headline(summary: dict[str, Any]) -> str:
    """One line: counts, errors, wall time."""
    meta = summary.get("meta", {})
    corpus = meta.get("corpus")
    store = (
        f"fresh store of {corpus['articles']} articles ({corpus['failed']} unreadable)"
        if corpus
        else "current store"
    )
    line = (
        f"{summary['questions']} questions ({summary['answerable']} answerable, "
        f"{summary['unanswerable']} unanswerable), {summary['errors']} errors, "
        f"k={meta.get('k')}, answerer {meta.get('models', {}).get('answerer')}, "
        f"{store}, {meta.get('seconds', 0):.1f} s"
    )
    if agreement := summary.get("judge_agreement"):
        line += (
            f"; judge agrees with contains on {agreement['agree']} of "
            f"{agreement['questions']} answerable questions"
        )
    return line


# --- HTML --------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border-bottom:1px solid #ddd;padding:4px 8px;
vertical-align:top;text-align:left}th{background:#f4f4f4}td.num{text-align:right}
.meta td{border:0;padding:1px 8px}.failed td{max-width:340px;overflow-wrap:anywhere}
details{margin:2px 0}summary{cursor:pointer;color:#245}pre{white-space:pre-wrap;margin:2px 0}
.why{color:#a11}
"""


def html_report(run: EvalRun) -> str:
    """One self-contained HTML page for a run."""
    s = run.summary
    title = escape(_dataset_name(s))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>rag eval: {title}</title><style>{_CSS}</style></head><body>",
        f"<h1>rag eval: {title}</h1>",
        f"<p>{escape(headline(s))}</p>",
        _meta_table(s),
        "<h2>Metrics (mean with bootstrap 95% interval)</h2>",
        metric_bars(s["metrics"]),
        _metric_table(s["metrics"]),
        "<h2>By tag</h2>",
        _tag_html(s),
        "<h2>Failed questions</h2>",
        _failed_html(run.results),
        "</body></html>",
    ]
    return "\n".join(parts)


def _tr(cells: list[Any], *, head: bool = False, raw: frozenset[int] = frozenset()) -> str:
    """A table row; every cell is escaped unless its index is in ``raw`` (pre-built HTML)."""
    tag = "th" if head else "td"
    tds = (f"<{tag}>{c if i in raw else escape(str(c))}</{tag}>" for i, c in enumerate(cells))
    return f"<tr>{''.join(tds)}</tr>"


def metric_bars(metrics: dict[str, Any]) -> str:
    """Inline SVG: one bar per 0-1 metric, with whiskers for the interval."""
    rows = [(n, s) for n, s in metrics.items() if s["mean"] is not None and _unit(n)]
    height = ROW_H * len(rows) + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + BAR_W + 140}" '
        f'height="{height}" role="img" aria-label="metric means with intervals">'
    ]
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = LABEL_W + tick * BAR_W
        out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 16}" stroke="#eee"/>')
        out.append(_text(x, height - 4, f"{tick:g}", size=10, anchor="middle"))
    for i, (name, s) in enumerate(rows):
        out.append(_bar(i * ROW_H + 4, name, s))
    out.append("</svg>")
    return "\n".join(out)


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#222"/>'


def _bar(y: int, name: str, s: dict[str, Any]) -> str:
    mid = y + (ROW_H - 8) / 2
    lo = LABEL_W + (s["mean"] if s["ci_low"] is None else s["ci_low"]) * BAR_W
    hi = LABEL_W + (s["mean"] if s["ci_high"] is None else s["ci_high"]) * BAR_W
    width = s["mean"] * BAR_W
    return "".join(
        [
            _text(LABEL_W - 6, mid + 4, name, anchor="end"),
            f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{ROW_H - 8}" '
            'fill="#6a9fd4"/>',
            _line(lo, mid, hi, mid),
            _line(lo, mid - 5, lo, mid + 5),
            _line(hi, mid - 5, hi, mid + 5),
            _text(LABEL_W + BAR_W + 8, mid + 4, f"{s['mean']:.3f} (n={s['n']})"),
        ]
    )


def _unit(name: str) -> bool:
    return name not in ("latency_s", "judge_correctness")


def _dataset_name(s: dict[str, Any]) -> str:
    return str(s.get("meta", {}).get("dataset", {}).get("path", "dataset"))


def _meta_table(s: dict[str, Any]) -> str:
    meta = s.get("meta", {})
    models = meta.get("models", {})
    rows = [
        ("dataset sha256", meta.get("dataset", {}).get("sha256")),
        ("git commit", meta.get("git_commit")),
        ("started", meta.get("started")),
        ("answerer", models.get("answerer")),
        ("embedding", models.get("embedding")),
        ("judge", models.get("judge")),
        ("k", meta.get("k")),
        ("corpus", ", ".join((meta.get("corpus") or {}).get("paths", [])) or "current store"),
    ]
    cells = [[k, "—" if v is None else v] for k, v in rows]
    return f'<table class="meta">{"".join(_tr(c) for c in cells)}</table>'


def _metric_table(metrics: dict[str, Any]) -> str:
    rows = [_tr(["metric", "mean", "95% CI", "n", "skipped", "invalid"], head=True)]
    for name, s in metrics.items():
        ci = f"{fmt(s['ci_low'])}–{fmt(s['ci_high'])}" if s["mean"] is not None else "—"
        rows.append(_tr([name, fmt(s["mean"]), ci, s["n"], s["skipped"], s["invalid"]]))
    return f"<table>{''.join(rows)}</table>"


def _tag_html(s: dict[str, Any]) -> str:
    rows = [_tr(["tag", "questions", *TAG_COLUMNS.values()], head=True)]
    for tag, group in s["by_tag"].items():
        means = [fmt(group["metrics"].get(n, {}).get("mean"), 2) for n in TAG_COLUMNS]
        rows.append(_tr([tag, group["questions"], *means]))
    return f"<table>{''.join(rows)}</table>"


def failure_reason(row: QuestionResult) -> str | None:
    """Why a question counts as failed, or None when it passed."""
    if row.error is not None:
        return f"error: {row.error}"
    if not row.answerable:
        return None if row.refused else "answered an unanswerable question"
    reasons = []
    if row.refused:
        reasons.append("refused")
    elif row.metrics.get("contains") == 0.0:
        reasons.append("answer does not contain the reference")
    if row.metrics.get("hit@5") == 0.0:
        reasons.append("no gold article in the top 5")
    return "; ".join(reasons) or None


def _failed_html(results: list[QuestionResult]) -> str:
    failed = [(r, why) for r in results if (why := failure_reason(r))]
    if not failed:
        return "<p>None.</p>"
    rows = [_tr(["id", "question", "reference", "answer", "cited passages"], head=True)]
    rows += [_failed_row(r, why) for r, why in failed]
    return f'<p>{len(failed)} of {len(results)}.</p><table class="failed">{"".join(rows)}</table>'


def _failed_row(r: QuestionResult, why: str) -> str:
    cited = "".join(
        f"<details><summary>[{escape(str(c.get('n')))}] "
        f"{escape(str(c.get('title') or c.get('article_id')))}</summary>"
        f"<pre>{escape(str(c.get('passage', '')))}</pre></details>"
        for c in r.citations
    )
    cells = [
        f"{escape(r.id)}<br><small>{escape(', '.join(r.tags))}</small>",
        f'{escape(r.query)}<div class="why">{escape(why)}</div>',
        escape(r.reference_answer),
        f"<pre>{escape(r.answer or '')}</pre>",
        cited or "—",
    ]
    return _tr(cells, raw=frozenset(range(5)))
