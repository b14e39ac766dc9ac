"""Invented news articles for reliability tests and benches: deterministic, any size."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOWNS = ["Riverton", "Ashford", "Millbrook", "Castlegate", "Dunmore", "Elmstead", "Fairhaven"]
PEOPLE = ["Mara Quill", "Tobias Fenn", "Ines Marlow", "Ravi Okonkwo", "Lena Brask", "Oskar Vale"]
TOPICS = [
    ("council", "approved a budget for road repairs and a new library wing"),
    ("harbour", "reopened the north pier after storm damage was repaired"),
    ("orchard", "reported frost losses across the apple and pear harvest"),
    ("transit", "added night buses on three routes after rider complaints"),
    ("school", "opened a science lab funded by a local engineering firm"),
    ("hospital", "extended emergency ward hours during the winter season"),
    ("festival", "drew record crowds to the river parade and food market"),
]
OUTLETS = ["Valley Herald", "Coastal Ledger", "Daily Lantern", "Northern Post"]
FILLER = (
    "Officials said the plan had been discussed for months. Residents at a public meeting "
    "asked about costs and timing. A spokesperson promised regular updates on the project. "
    "Local businesses welcomed the decision, while some critics urged more consultation. "
    "The next review is scheduled for the spring, when figures will be published. "
)


def article(n: int, size: int = 1500) -> dict[str, str]:
    """Article number n: a unique fact in its first sentence, filler up to ``size`` chars."""
    rng = random.Random(n)
    town, person = rng.choice(TOWNS), rng.choice(PEOPLE)
    topic, action = TOPICS[n % len(TOPICS)]
    lead = (
        f"The {town} {topic} office {action}, {person} said on Tuesday, "
        f"citing a figure of {1000 + n} units in case number {n}. "
    )
    body = lead
    while len(body) < size:
        body += FILLER
    return {
        "id": f"art-{n:05d}",
        "title": f"{town} {topic} update number {n}",
        "text": body[:size],
        "source": OUTLETS[n % len(OUTLETS)],
        "published": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "url": f"https://news.example/{town.lower()}/{n}",
    }


def write_jsonl(path: Path, count: int, size: int = 1500, start: int = 0) -> Path:
    """``count`` articles, one JSON object per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for n in range(start, start + count):
            out.write(json.dumps(article(n, size)) + "\n")
    return path
