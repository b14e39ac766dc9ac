"""Check or build the quote gold set from the terminal (the format and its loader are
``rag.eval.quote_gold``; ``eval/README.md`` describes them).

    python eval/quote_gold.py check eval/quotes-gold.jsonl \\
        --corpus ../shared/data/bbc/bbc_news.jsonl --corpus seeds/
    python eval/quote_gold.py build ANNOTATIONS.jsonl --out eval/quotes-gold.jsonl \\
        --corpus ../shared/data/bbc/bbc_news.jsonl --corpus seeds/
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence

from rag.eval.quote_gold import QuoteGoldError, build, load, load_negatives, records, summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check or build the quote gold set.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="resolve every record and print counts")
    check.add_argument("gold")
    make = commands.add_parser("build", help="locate annotated texts in the corpus")
    make.add_argument("annotations")
    make.add_argument("--out", required=True)
    for command in (check, make):
        command.add_argument("--corpus", action="append", required=True)
        command.add_argument(
            "--negatives", action="store_true", help="the records are negative examples"
        )
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            _, notes = zip(*records(args.annotations), strict=True)
            written = build(notes, args.corpus, negatives=args.negatives)
            with open(args.out, "w", encoding="utf-8") as out:
                for record in written:
                    out.write(json.dumps(record, ensure_ascii=False) + "\n")
            print(f"{len(written)} records written to {args.out}")
        gold = args.gold if args.command == "check" else args.out
        if args.negatives:
            negatives = load_negatives(gold, args.corpus)
            print(
                f"{len(negatives)} negative examples: "
                + ", ".join(
                    f"{why} {n}" for why, n in sorted(Counter(x.why for x in negatives).items())
                )
            )
            return 0
        quotes = load(gold, args.corpus)
    except QuoteGoldError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(quotes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
