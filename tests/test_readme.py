"""The README's examples run, and .ci/run uses the README's test command."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.DOTALL)


def _rag(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "rag"
    return subprocess.run([str(exe), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _bash_blocks()[1].strip()
    assert "pytest" in test_command
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_main_job_command_runs_as_written_after_install() -> None:
    main_job = _bash_blocks()[0].strip()
    _, _, tail = main_job.partition("pip install . && ")
    for step in tail.split(" && "):
        result = _rag(shlex.split(step)[1:], ROOT)
        assert result.returncode == 0, result.stderr
    assert "there is no interference" in _rag(["ask", "What did the Kremlin say?"], ROOT).stdout


def test_tour_commands_run() -> None:
    tour = README.split("## A short tour", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = [line[2:] for line in tour.splitlines() if line.startswith("$ rag ")]
    assert len(commands) >= 5
    for command in commands:
        result = _rag(shlex.split(command)[1:], ROOT)
        assert result.returncode == 0, (command, result.stderr)


def test_readme_names_every_command() -> None:
    for command in ("ingest", "ask", "chat", "eval", "list", "remove", "stats", "config"):
        assert f"rag {command}" in README


# --- the scaling figures ----------------------------------------------------------------

SCALING = json.loads((ROOT / "bench" / "results" / "scaling.json").read_text(encoding="utf-8"))
_Row = dict[str, Any]
# Each scaling table's columns, and where each column's figures sit in a committed result row.
_INGEST = {
    "articles (chunks)": lambda r: [r["size"], r["ingest"]["chunks"]],
    "ingest, LlamaIndex": lambda r: [r["baseline_ingest"]["wall_s"]],
    "ingest, rag": lambda r: [r["ingest"]["wall_s"]],
    "speed-up": lambda r: [r["ingest"]["speedup_vs_baseline"]],
    "peak RSS, LlamaIndex / rag": lambda r: [
        r["baseline_ingest"]["peak_rss_mb"],
        r["ingest"]["peak_rss_mb"],
    ],
    "store, LlamaIndex / rag": lambda r: [
        r["baseline_ingest"]["store_mb"],
        r["ingest"]["store_mb"],
    ],
}
_QUERY = {  # r is the row's "embedded" or "server" part (named in the "store" column)
    "articles": lambda r: [r["size"]],
    "store": lambda r: [],
    "retrieval p50 / p95": lambda r: [r["retrieval"]["p50_ms"], r["retrieval"]["p95_ms"]],
    "extractive `ask` p50 / p95": lambda r: [r["ask"]["p50_ms"], r["ask"]["p95_ms"]],
    "peak RSS": lambda r: [r["peak_rss_mb"]],
    "cold `rag ask` to first output": lambda r: [r["cold"]["first_byte_s"]],
}
_CATCHUP = {
    "articles": lambda r: [r["size"]],
    "catch-up after another client adds 10": lambda r: [r["server"]["catchup"]["catchup_s"]],
    "revision moved, nothing changed": lambda r: [r["server"]["catchup"]["unchanged_s"]],
    "full rebuild (the old way)": lambda r: [r["server"]["catchup"]["rebuild_s"]],
}


def _scaling_tables() -> list[tuple[list[str], list[list[str]]]]:
    """(header, rows) of every table in the README's Scaling section."""
    section = README.split("\n## Scaling\n", 1)[1].split("\n## ", 1)[0]
    tables = re.findall(r"((?:^\|.*\|\n)+)", section, re.M)
    out = []
    for table in tables:
        lines = [[c.strip() for c in line.strip().strip("|").split("|")] for line in
                 table.splitlines()]  # fmt: skip
        out.append((lines[0], lines[2:]))
    return out


def _numbers(cell: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"\d[\d,]*(?:\.\d+)?", cell)]


def _committed(size: float) -> _Row:
    rows = [r for r in SCALING["rows"] if r["size"] == size]
    assert rows, f"no committed bench result for {size:,.0f} articles"
    return rows[0]


def test_every_scaling_table_figure_is_in_the_committed_results() -> None:
    known = {frozenset(columns): columns for columns in (_INGEST, _QUERY, _CATCHUP)}
    tables = _scaling_tables()
    assert [frozenset(header) for header, _ in tables] == list(known)
    checked = 0
    for header, rows in tables:
        columns = known[frozenset(header)]
        for cells in rows:
            row = _committed(_numbers(cells[0])[0])
            if columns is _QUERY:
                row = {**row[cells[header.index("store")]], "size": row["size"]}
            for name, cell in zip(header, cells, strict=True):
                expected = [float(v) for v in columns[name](row)]
                assert _numbers(cell) == expected, (name, cells[0], cell, expected)
                checked += len(expected)
    assert checked >= 100


def _committed_numbers(value: Any) -> set[float]:
    """Every number in the committed results, including those inside its strings."""
    if isinstance(value, dict):
        return set().union(*map(_committed_numbers, value.values()))
    if isinstance(value, list):
        return set().union(set(), *map(_committed_numbers, value))
    if isinstance(value, str):
        return set(_numbers(value))
    return {float(value)} if isinstance(value, int | float) else set()


def test_every_scaling_prose_figure_is_in_the_committed_results() -> None:
    section = README.split("\n## Scaling\n", 1)[1].split("\n### When one machine", 1)[0]
    prose = "\n".join(line for line in section.splitlines() if not line.startswith("|"))
    committed = _committed_numbers(SCALING)
    megabytes = {v for v in committed if v >= 1000}
    found = re.findall(r"(\d[\d,.]*)(?:–(\d[\d,.]*))?\s?(ms|s|x|MB|GB)\b", prose)
    assert len(found) >= 8
    for low, high, unit in found:
        for figure in filter(None, (low, high)):
            value = float(figure.replace(",", ""))
            if unit == "GB" and value not in committed:  # 2.9 GB quotes 2,944 MB
                assert any(round(mb / 1000, 1) == value for mb in megabytes), figure + unit
            else:
                assert value in committed, figure + unit
