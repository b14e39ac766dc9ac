"""Chat: a conversation over the articles, where follow-ups are understood in context.

``ChatSession.handle(line)`` takes one line (a question or a slash command). A follow-up is
condensed into a standalone question before retrieval: by the chat model when the answerer is
an LLM, else by rule (``rag.followup``). The session prints nothing itself:
everything goes through a ``ChatView`` (the terminal's is ``rag.cli.chatview.ConsoleView``).
``run_piped`` runs a session over lines of text.
"""

from __future__ import annotations

import difflib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rag import prompts
from rag.dates import parse_date
from rag.engine import LLMAnswerer, make_answerer
from rag.errors import RagError
from rag.followup import (
    Turn,
    fallback_condense,
    first_line,
    looks_like_follow_up,
    plausible_rewrite,
)
from rag.llm import ChatModel
from rag.retrieve import Filters
from rag.settings import MAX_K, MIN_K
from rag.text import clip, strip_markers

if TYPE_CHECKING:
    from datetime import date

    from rag.engine import Asker
    from rag.types import Answer, Citation

COMMANDS: dict[str, str] = {
    "/help": "this list",
    "/sources [n]": "full cited passages of the last answer (or only source n)",
    "/since DATE": "only articles from DATE on (YYYY-MM-DD, today, yesterday; 'off' removes)",
    "/until DATE": "only articles up to DATE ('off' removes)",
    "/source OUTLET": "only this outlet, e.g. cnn ('off' removes)",
    "/as-of DATE": "answer as of DATE; resolves 'this week' etc. ('off' = today)",
    "/filters [clear]": "show the filters and settings, or clear the filters",
    "/k N": "passages shown to the answerer",
    "/llm NAME": "switch answerer: extractive, openai[:MODEL], local[:NAME or PATH.gguf]",
    "/new": "forget the conversation (filters stay)",
    "/save FILE": "write the conversation as Markdown, with sources",
    "/exit": "leave (Ctrl-D works too)",
}
OFF = {"off", "clear", "none"}


class ChatView(Protocol):
    """Where a chat session shows things."""

    stream: bool

    def searching(self, standalone: str) -> None:
        """The standalone question actually searched (shown dimmed)."""

    def token(self, piece: str) -> None:
        """A streamed piece of an LLM answer."""

    def answer(self, answer: Answer, streamed: bool) -> None:
        """The checked answer and its citation lines."""

    def sources(self, answer: Answer) -> None:
        """Full cited passages, span highlighted."""

    def info(self, text: str) -> None:
        """A line of information."""

    def error(self, text: str) -> None:
        """A one-line failure; the session goes on."""


@dataclass
class ChatSession:
    """A bounded conversation with the articles, plus the filters and answerer it uses."""

    asker: Asker
    view: ChatView
    filters: Filters = field(default_factory=Filters)
    as_of: date | None = None
    k: int | None = None
    max_turns: int = 20
    history_chars: int = 2000
    turns: deque[Turn] = field(init=False)
    failures: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.turns = deque(maxlen=self.max_turns)

    @property
    def llm(self) -> str:
        """The answerer's name."""
        return self.asker.answerer.name if self.asker.answerer else "none"

    @property
    def model(self) -> ChatModel | None:
        """The chat model behind the answerer, if it is an LLM."""
        answerer = self.asker.answerer
        return answerer.model if isinstance(answerer, LLMAnswerer) else None

    @property
    def last(self) -> Answer | None:
        """The last answer, if any."""
        return self.turns[-1].answer if self.turns else None

    def handle(self, line: str) -> bool:
        """Answer a question or run a slash command; False means leave."""
        line = line.strip()
        if not line:
            return True
        if line.startswith("/"):
            return self.command(line)
        self.ask(line)
        return True

    def ask(self, question: str) -> Turn | None:
        """Condense, retrieve, answer and remember; a failure is shown as one line."""
        try:
            standalone = self.condense(question)
            if standalone != question:
                self.view.searching(standalone)
            stream = self.view.stream and self.model is not None
            answer = self.asker.ask(
                standalone,
                as_of=self.as_of,
                filters=self.filters,
                k=self.k,
                on_token=self.view.token if stream else None,
            )
        except RagError as exc:
            self.failures += 1
            self.view.error(str(exc))
            return None
        answer.question, answer.search_query = question, standalone
        turn = Turn(question, standalone, answer, self._filters_said())
        self.turns.append(turn)
        self.view.answer(answer, stream)
        return turn

    def _filters_said(self) -> str:
        """The filters in force (and the as-of day when one is set), for a saved turn."""
        said = self.filters.describe()
        return f"{said} · as of {self.as_of}" if self.as_of else said

    def condense(self, question: str) -> str:
        """The question rewritten to stand alone, given the conversation. A question that
        stands alone already (no pronoun before a name, no "and…"/"what about…", not too
        vague to search) is searched as asked: Qwen2.5-1.5B rewrote "After which date must
        Russia withdraw its hand?" as "When did Russia withdraw its hand…?" and answered
        that."""
        if not self.turns or not looks_like_follow_up(question):
            return question
        model = self.model
        if model is not None:
            text = prompts.render(
                "condense", history=history_text(self.turns, self.history_chars), question=question
            )
            condensed = first_line(model.complete([{"role": "user", "content": text}]))
            if plausible_rewrite(question, condensed):
                return condensed
        return fallback_condense(question, self.turns[-1])

    def command(self, line: str) -> bool:
        """Run a slash command; False means leave."""
        name, _, arg = line[1:].partition(" ")
        name, arg = name.lower(), arg.strip()
        if name in {"exit", "quit", "q"}:
            return False
        handler = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if handler is None:
            known = [c.split()[0] for c in COMMANDS]
            close = difflib.get_close_matches("/" + name, known, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            self.view.error(f"unknown command /{name}{hint}; /help lists the commands")
        else:
            handler(arg)
        return True

    def cmd_help(self, arg: str) -> None:
        """List the commands."""
        width = max(map(len, COMMANDS))
        for usage, text in COMMANDS.items():
            self.view.info(f"{usage:<{width}}  {text}")

    def cmd_sources(self, arg: str) -> None:
        """Full passages of the last answer's citations."""
        answer = self.last
        if answer is None or not answer.citations:
            self.view.error("no sources yet: the last answer cites nothing")
            return
        if not arg:
            self.view.sources(answer)
            return
        chosen = [c for c in answer.citations if str(c.n) == arg.lstrip("[").rstrip("]")]
        if not chosen:
            self.view.error(f"usage: /sources [n] with n from 1 to {len(answer.citations)}")
            return
        self.view.sources(replace(answer, citations=chosen))

    def cmd_since(self, arg: str) -> None:
        """Only articles from a date on."""
        self._date_filter("since", arg)

    def cmd_until(self, arg: str) -> None:
        """Only articles up to a date."""
        self._date_filter("until", arg)

    def _date_filter(self, which: str, arg: str) -> None:
        if not arg:
            self.view.error(f"usage: /{which} YYYY-MM-DD (or today, yesterday, off)")
            return
        try:
            day = None if arg.lower() in OFF else parse_date(arg, f"/{which} date")
        except RagError as exc:
            self.view.error(str(exc))
            return
        setattr(self.filters, which, day)
        self.view.info(f"filters: {self.filters.describe()}")

    def cmd_source(self, arg: str) -> None:
        """Only one outlet."""
        if not arg:
            self.view.error("usage: /source OUTLET (e.g. cnn, or off)")
            return
        self.filters.source = None if arg.lower() in OFF else arg
        self.view.info(f"filters: {self.filters.describe()}")

    def cmd_as_of(self, arg: str) -> None:
        """Answer as of a date."""
        if not arg:
            self.view.error("usage: /as-of YYYY-MM-DD (or off for today)")
            return
        try:
            self.as_of = None if arg.lower() in OFF else parse_date(arg, "/as-of date")
        except RagError as exc:
            self.view.error(str(exc))
            return
        self.view.info(f"as of {self.as_of or 'today'}")

    def cmd_filters(self, arg: str) -> None:
        """Show the filters and settings, or clear the filters."""
        if arg.lower() in OFF:
            self.filters = Filters()
        elif arg:
            self.view.error("usage: /filters or /filters clear")
            return
        self.view.info(
            f"filters: {self.filters.describe()} · as of {self.as_of or 'today'} · "
            f"k {self.k or self.asker.settings.k} · llm {self.llm}"
        )

    def cmd_k(self, arg: str) -> None:
        """Passages shown to the answerer."""
        if not arg.isdigit() or not MIN_K <= int(arg) <= MAX_K:
            self.view.error(f"usage: /k N with N a whole number from {MIN_K} to {MAX_K}")
            return
        self.k = int(arg)
        self.view.info(f"k {self.k}")

    def cmd_llm(self, arg: str) -> None:
        """Switch the answerer."""
        if not arg:
            self.view.info(f"llm {self.llm} (usage: /llm NAME to switch)")
            return
        try:
            assert self.asker.searcher is not None
            settings = self.asker.settings.replace(llm=arg)
            self.asker.answerer = make_answerer(settings, self.asker.searcher)
        except RagError as exc:
            self.view.error(str(exc))
            return
        self.asker.settings = settings
        self.view.info(f"llm {self.llm}")

    def cmd_new(self, arg: str) -> None:
        """Forget the conversation."""
        self.turns.clear()
        self.view.info("new conversation (filters kept)")

    def cmd_save(self, arg: str) -> None:
        """Write the conversation as Markdown."""
        if not arg:
            self.view.error("usage: /save FILE.md")
            return
        if not self.turns:
            self.view.error("nothing to save yet")
            return
        path = Path(arg).expanduser()
        try:
            path.write_text(transcript_markdown(self), encoding="utf-8")
        except OSError as exc:
            self.view.error(f"cannot write {path}: {exc.strerror or exc}")
            return
        self.view.info(f"saved {len(self.turns)} turn(s) to {path}")


def history_text(turns: Iterable[Turn], budget: int) -> str:
    """The newest turns as 'User:/Assistant:' lines, oldest dropped to fit the budget."""
    lines: list[str] = []
    used = 0
    for turn in reversed(list(turns)):
        answer = strip_markers(turn.answer.answer)
        entry = f"User: {turn.question}\nAssistant: {clip(answer, budget // 2)}"
        if lines and used + len(entry) > budget:
            break
        lines.insert(0, clip(entry, budget))
        used += len(entry) + 1
    return "\n".join(lines)


def transcript_markdown(session: ChatSession) -> str:
    """The conversation as Markdown: each question, the answer, and its sources."""
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    used = list(dict.fromkeys(turn.filters for turn in session.turns))
    said = used[0] if len(used) == 1 else "changed between turns (each turn says its own)"
    out = ["# rag chat", "", f"Saved {stamp} · answerer {session.llm} · filters: {said}"]
    for turn in session.turns:
        out += ["", f"## {turn.question}", ""]
        if len(used) > 1:
            out += [f"*Filters: {turn.filters}*", ""]
        if turn.standalone != turn.question:
            out += [f"*Searched as: {turn.standalone}*", ""]
        out.append(turn.answer.answer)
        if turn.answer.citations:
            out += ["", "**Sources**"]
        for citation in turn.answer.citations:
            out += ["", citation.source_line()]
            if citation.passage.url:
                out.append(f"<{citation.passage.url}>")
            out.append("")
            out += [f"> {line}".rstrip() for line in marked_passage(citation).splitlines()]
    return "\n".join(out) + "\n"


def marked_passage(citation: Citation) -> str:
    """The passage text with the supporting spans in **bold**."""
    text = citation.passage.text
    out, at = [], 0
    for start, end in citation.supporting_spans():
        span = text[start:end].strip()
        if not span or "\n" in span or start < at:
            continue
        start = text.index(span, start)
        out += [text[at:start], f"**{span}**"]
        at = start + len(span)
    return "".join([*out, text[at:]]).strip()


def run_piped(session: ChatSession, lines: Iterable[str]) -> int:
    """One question or command per line; the number of failed answers."""
    for line in lines:
        if line.strip():
            session.view.info(f"> {line.strip()}")
            if not session.handle(line):
                break
    return session.failures
