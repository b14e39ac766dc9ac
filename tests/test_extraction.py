"""HTML extraction on real pages: the committed bench result is the README's table."""

from __future__ import annotations

import json
import re

from conftest import ROOT

RESULT = json.loads((ROOT / "bench" / "results" / "extraction.json").read_text(encoding="utf-8"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
COLUMNS = ("precision", "recall", "f1", "title", "date", "authors")


def test_readme_extraction_table_is_the_committed_bench_result() -> None:
    table = README.split("<!-- extraction table: bench/results/extraction.json -->", 1)[1]
    rows = re.findall(r"^\| (rag|trafilatura) \|(.*)\|$", table.split("\n\n", 1)[0], re.M)
    assert [name for name, _ in rows] == ["rag", "trafilatura"]
    for name, cells in rows:
        shown = [float(c) for c in cells.split("|")]
        assert shown == [RESULT["summary"][name][c] for c in COLUMNS], name
