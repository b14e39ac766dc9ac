"""Chat: a conversation over the articles, where follow-ups are understood in context.

``ChatSession.handle(line)`` takes one line (a question or a slash command). A follow-up is
condensed into a standalone question before retrieval: by the chat model when the answerer is
an LLM, else by ``fallback_condense`` (carry the previous question's key terms, resolve
pronouns to the last named person or organisation). The session prints nothing itself:
everything goes through a ``ChatView``; ``ConsoleView`` renders with rich. ``run_piped`` and
``run_interactive`` are the two loops the ``rag chat`` command uses.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.text import Text

from rag import prompts
from rag.dates import parse_date
from rag.engine import LLMAnswerer, make_answerer
from rag.errors import RagError
from rag.extractive import QUESTION_WORDS, key_terms
from rag.llm import ChatModel
from rag.render import print_answer, print_sources, source_line
from rag.retrieve import Filters
from rag.text import sentence_spans

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
    "/llm NAME": "switch answerer: extractive, openai[:MODEL], local[:PATH.gguf], scripted",
    "/new": "forget the conversation (filters stay)",
    "/save FILE": "write the conversation as Markdown, with sources",
    "/exit": "leave (Ctrl-D works too)",
}
OFF = {"off", "clear", "none"}
PRONOUNS = {"he", "she", "him", "his", "her", "they", "them", "their", "it", "its"}
POSSESSIVES = {"his", "their", "its"}
CONNECTIVES = ("and ", "but ", "also ", "so ", "then ")
ABOUT = ("what about ", "how about ")
EXPLETIVE_IT = {"is", "was", "be", "been", "seems", "true", "possible", "likely"}
TITLES = {
    "president", "spokesman", "spokeswoman", "spokesperson", "minister", "secretary",
    "chancellor", "senator", "governor", "mayor", "leader", "chief", "general", "prime",
    "foreign", "mr", "mrs", "ms", "dr", "prof", "sen", "rep", "gov", "king", "queen", "pope",
}  # fmt: skip
STARTERS = {"according", "asked", "because", "but", "if", "in", "on", "after", "while", "i"}
NOT_NAMES = QUESTION_WORDS | STARTERS
OPENERS = {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do",
    "is", "are", "was", "were", "will", "would", "can", "could", "should", "has", "have", "had",
}  # fmt: skip
_CAPITALISED = re.compile(r"[A-Z][\w'’-]*(?: +[A-Z][\w'’-]*)*")
_WORDS = re.compile(r"[\w'’-]+")
_MARKERS = re.compile(r"\s*\[\d+\]")
_PAREN_TAIL = re.compile(r"\s*\([^()]*\)\s*$")
MAX_CARRIED = 4


@dataclass
class Turn:
    """One exchange: what was asked, what was searched, and the checked answer."""

    question: str
    standalone: str
    answer: Answer


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
        turn = Turn(question, standalone, answer)
        self.turns.append(turn)
        self.view.answer(answer, stream)
        return turn

    def condense(self, question: str) -> str:
        """The question rewritten to stand alone, given the conversation."""
        if not self.turns:
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
        if not arg.isdigit() or not 1 <= int(arg) <= 50:
            self.view.error("usage: /k N with N a whole number from 1 to 50")
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
        answer = _MARKERS.sub("", turn.answer.answer).strip()
        entry = f"User: {turn.question}\nAssistant: {_clip(answer, budget // 2)}"
        if lines and used + len(entry) > budget:
            break
        lines.insert(0, _clip(entry, budget))
        used += len(entry) + 1
    return "\n".join(lines)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_line(reply: str) -> str:
    """The first non-empty line of a model reply, without quotes or a label."""
    for line in reply.splitlines():
        line = line.strip().removeprefix("Standalone question:").strip().strip("\"'“”")
        if line:
            return line
    return ""


def plausible_rewrite(question: str, condensed: str) -> bool:
    """A model's rewrite is used if it changed the question and kept most of its key terms."""
    if not condensed or condensed.lower() == question.lower():
        return False
    own = set(key_terms(question))
    kept = own & set(key_terms(condensed))
    return 2 * len(kept) >= len(own)


def fallback_condense(question: str, previous: Turn) -> str:
    """Rewrite a follow-up without a model: resolve pronouns, carry the previous key terms."""
    if not looks_like_follow_up(question):
        return question
    name = last_named(previous)
    core = _PAREN_TAIL.sub("", previous.standalone).rstrip(" ?.")
    rest = _strip_connective(question.strip())
    topic = _topic(rest)
    if topic is not None:
        return f"{_about(core, resolve_pronouns(topic, name))}?"
    resolved = resolve_pronouns(rest[:1].upper() + rest[1:], name)
    have = set(key_terms(resolved))
    carried = [w for w in content_words(core) if key_terms(w)[0] not in have]
    return f"{resolved} ({' '.join(carried[:MAX_CARRIED])})" if carried else resolved


def looks_like_follow_up(question: str) -> bool:
    """A leading 'and…'/'what about…', a pronoun before any name, or too vague to search."""
    text = question.strip()
    if text.lower().startswith(CONNECTIVES + ABOUT):
        return True
    pronoun = next((start for start, _, _ in pronouns(text)), -1)
    name = _first_name_at(text)
    if pronoun >= 0 and (name < 0 or pronoun < name):
        return True
    return len(key_terms(text)) <= 1 and (name < 0 or _topic(text) is not None)


def _first_name_at(text: str) -> int:
    """Where the first name in ``text`` starts, or -1."""
    for match in _CAPITALISED.finditer(text):
        if names_in(match.group(0)):
            return match.start()
    return -1


def _strip_connective(text: str) -> str:
    for word in CONNECTIVES:
        if text.lower().startswith(word):
            return text[len(word) :].strip()
    return text


def _topic(rest: str) -> str | None:
    """What a fragment like 'what about the Americans?' or 'the Americans?' asks about."""
    text = rest.rstrip(" ?.")
    for lead in ABOUT:
        if text.lower().startswith(lead):
            return text[len(lead) :].strip()
    words = text.lower().split()
    if words and words[0] not in OPENERS and len(words) <= 4:
        return text
    return None


def _about(core: str, topic: str) -> str:
    """The previous question, now about ``topic``."""
    at = core.lower().rfind(" about ")
    return f"{core[:at]} about {topic}" if at >= 0 else f"{core} about {topic}"


def content_words(text: str) -> list[str]:
    """Words of ``text`` that are key terms, in order, once each."""
    seen: set[str] = set()
    out: list[str] = []
    for word in _WORDS.findall(text):
        terms = key_terms(word)
        if terms and terms[0] not in seen:
            seen.add(terms[0])
            out.append(word)
    return out


def names_in(text: str) -> list[str]:
    """Capitalised name sequences, without titles or sentence-opening words."""
    names = []
    for match in _CAPITALISED.finditer(text):
        words = [re.sub(r"['’]s$", "", w) for w in match.group(0).split()]
        while words and words[0].lower() in NOT_NAMES:
            words.pop(0)
        titled = [i for i, w in enumerate(words) if w.lower() in TITLES]
        if titled:
            words = words[titled[-1] + 1 :]
        if words:
            names.append(" ".join(words))
    return names


def last_named(turn: Turn) -> str | None:
    """The person or organisation a pronoun most likely means, from the previous turn."""
    answer = "" if turn.answer.refused else _MARKERS.sub("", turn.answer.answer).strip()
    spans = sentence_spans(answer)
    first = answer[spans[0][0] : spans[0][1]] if spans else ""
    for names in (names_in(first), names_in(turn.standalone)[::-1], names_in(answer)):
        if names:
            return names[0]
    return None


def resolve_pronouns(text: str, name: str | None) -> str:
    """Replace he/she/they/it/his/her/their with the name (possessives get 's)."""
    if not name:
        return text
    out, at = [], 0
    for start, end, possessive in pronouns(text):
        out += [text[at:start], name + ("'s" if possessive else "")]
        at = end
    return "".join([*out, text[at:]])


def pronouns(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, possessive) of each pronoun that refers to someone (not 'is it true')."""
    words = list(_WORDS.finditer(text))
    lowered = [w.group(0).lower() for w in words]
    found = []
    for i, word in enumerate(lowered):
        near = set(lowered[max(i - 1, 0) : i + 2])
        if word not in PRONOUNS or (word == "it" and near & EXPLETIVE_IT):
            continue
        follows = lowered[i + 1] if i + 1 < len(words) else ""
        noun_next = bool(follows) and follows not in QUESTION_WORDS
        possessive = word in POSSESSIVES or (word == "her" and noun_next)
        found.append((words[i].start(), words[i].end(), possessive))
    return found


def transcript_markdown(session: ChatSession) -> str:
    """The conversation as Markdown: each question, the answer, and its sources."""
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M")
    out = [
        "# rag chat",
        "",
        f"Saved {stamp} · answerer {session.llm} · filters: {session.filters.describe()}",
    ]
    for turn in session.turns:
        out += ["", f"## {turn.question}", ""]
        if turn.standalone != turn.question:
            out += [f"*Searched as: {turn.standalone}*", ""]
        out.append(turn.answer.answer)
        if turn.answer.citations:
            out += ["", "**Sources**"]
        for citation in turn.answer.citations:
            out += ["", source_line(citation)]
            if citation.passage.url:
                out.append(f"<{citation.passage.url}>")
            out.append("")
            out += [f"> {line}".rstrip() for line in marked_passage(citation).splitlines()]
    return "\n".join(out) + "\n"


def marked_passage(citation: Citation) -> str:
    """The passage text with the supporting span in **bold**."""
    text = citation.passage.text
    start, end = citation.span_start, citation.span_end
    span = text[start:end].strip()
    if not span or "\n" in span:
        return text.strip()
    start = text.index(span, start)
    return f"{text[:start]}**{span}**{text[start + len(span) :]}".strip()


@dataclass
class ConsoleView:
    """A ChatView that renders with rich."""

    console: Console
    stream: bool = True
    _pieces: list[str] = field(default_factory=list)

    def searching(self, standalone: str) -> None:
        """The searched question, dimmed."""
        self.console.print(Text(f"searching: {standalone}", style="dim"))

    def token(self, piece: str) -> None:
        """Print a streamed piece."""
        self._pieces.append(piece)
        self.console.print(piece, end="", markup=False, highlight=False)

    def end_stream(self) -> None:
        """Finish a streamed line (after an answer, an error or Ctrl-C)."""
        if self._pieces:
            self.console.print()
        self._pieces.clear()

    def answer(self, answer: Answer, streamed: bool) -> None:
        """The answer (checked text shown again if the checker changed it) and citations."""
        raw = " ".join("".join(self._pieces).split())
        self.end_stream()
        if streamed and raw != " ".join(answer.answer.split()):
            self.console.print(Text("checked: ", style="dim") + Text(answer.answer))
        print_answer(self.console, answer, streamed=streamed, passages=False)
        self.console.print()

    def sources(self, answer: Answer) -> None:
        """Full passages."""
        print_sources(self.console, answer, passages=True)

    def info(self, text: str) -> None:
        """A plain line."""
        self.end_stream()
        self.console.print(Text(text))

    def error(self, text: str) -> None:
        """A one-line error."""
        self.end_stream()
        self.console.print(Text(f"error: {text}", style="red"))


def run_piped(session: ChatSession, lines: Iterable[str]) -> int:
    """One question or command per line; the number of failed answers."""
    for line in lines:
        if line.strip():
            session.view.info(f"> {line.strip()}")
            if not session.handle(line):
                break
    return session.failures


def run_interactive(session: ChatSession, history_file: Path) -> None:
    """Prompt with line editing and history; Ctrl-C cancels, Ctrl-D or /exit leaves."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory

    history_file.parent.mkdir(parents=True, exist_ok=True)
    commands = [usage.split()[0] for usage in COMMANDS]
    prompt: PromptSession[str] = PromptSession(
        history=FileHistory(str(history_file)),
        completer=WordCompleter(commands, sentence=True),
    )
    session.view.info(f"rag chat · answerer {session.llm} · /help for commands, Ctrl-D to leave")
    while True:
        try:
            line = prompt.prompt("› ")
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        try:
            if not session.handle(line):
                break
        except KeyboardInterrupt:
            session.view.info(" cancelled")
