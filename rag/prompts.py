"""Prompt templates, loaded from the package's ``prompts/`` folder with checked placeholders."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources

from rag.errors import ConfigError

# Every template's placeholders, exactly: a missing or unknown one is an error at load time.
PLACEHOLDERS: dict[str, set[str]] = {
    "answer_system": {"refusal", "as_of"},
    # The question comes last, with no closing instruction: small local models obey the last
    # thing they read, and a closing "else reply: <refusal>" made Qwen2.5-1.5B refuse answerable
    # questions (measured on the seed; see prompts/README or the closing note of issue 15).
    "answer_user": {"sources", "question"},
    "condense": {"history", "question"},
    "judge_correctness": {"question", "reference", "answer"},
    "judge_faithfulness": {"sources", "answer"},
    "refusal": set(),
}


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


@cache
def load(name: str) -> str:
    """A template's text, after checking its placeholders."""
    if name not in PLACEHOLDERS:
        raise ConfigError(f"unknown prompt {name!r}")
    try:
        text = (
            resources.files("rag.prompt_templates")
            .joinpath(f"{name}.txt")
            .read_text(encoding="utf-8")
        )
    except (OSError, ModuleNotFoundError) as exc:
        raise ConfigError(f"prompt file {name}.txt is missing from the installation") from exc
    check(name, text)
    return text.strip()


def check(name: str, text: str) -> None:
    """Raise ConfigError unless the template has exactly the expected placeholders."""
    try:
        found = placeholders(text)
    except ValueError as exc:
        raise ConfigError(f"prompt {name}: malformed placeholder ({exc})") from exc
    expected = PLACEHOLDERS[name]
    if found != expected:
        missing = ", ".join(sorted(expected - found)) or "none"
        unknown = ", ".join(sorted(found - expected)) or "none"
        raise ConfigError(f"prompt {name}: missing placeholders {missing}; unknown {unknown}")


def render(name: str, **values: str) -> str:
    """Fill a template; values are inserted as data, never re-parsed as templates."""
    return load(name).format(**values)


def refusal() -> str:
    """The exact refusal sentence."""
    return load("refusal")
