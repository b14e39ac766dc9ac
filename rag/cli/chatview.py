"""``rag chat`` at a terminal: the rich ChatView and the prompt_toolkit loop."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from rag.chat import COMMANDS, ChatSession
from rag.cli.rendering import StreamPrinter, print_answer, print_sources, restatement

if TYPE_CHECKING:
    from rag.types import Answer


@dataclass
class ConsoleView:
    """A ChatView that renders with rich."""

    console: Console
    stream: bool = True
    _pieces: list[str] = field(default_factory=list)
    _printer: StreamPrinter | None = None

    def searching(self, standalone: str) -> None:
        """The searched question, dimmed."""
        self.console.print(Text(f"searching: {standalone}", style="dim"))

    def token(self, piece: str) -> None:
        """Print a streamed piece."""
        self._pieces.append(piece)
        if self._printer is None:
            self._printer = StreamPrinter(self.console)
        self._printer.write(piece)

    def end_stream(self) -> None:
        """Finish a streamed line (after an answer, an error or Ctrl-C)."""
        if self._printer is not None:
            self._printer.finish()
            self._printer = None
        if self._pieces:
            self.console.print()
        self._pieces.clear()

    def answer(self, answer: Answer, streamed: bool) -> None:
        """The answer (checked text shown again if the checker changed it) and citations."""
        raw = "".join(self._pieces)
        self.end_stream()
        if streamed and (again := restatement(raw, answer)) is not None:
            self.console.print(again)
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


def run_interactive(session: ChatSession, history_file: Path) -> None:
    """Prompt with line editing and history; Ctrl-C cancels, Ctrl-D or /exit leaves."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.completion import WordCompleter
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory

    history: History = InMemoryHistory()  # on a read-only data dir: this session's only
    if os.access(history_file.parent, os.W_OK) and (
        not history_file.exists() or os.access(history_file, os.W_OK)
    ):
        history = FileHistory(str(history_file))
    commands = [usage.split()[0] for usage in COMMANDS]
    prompt: PromptSession[str] = PromptSession(
        history=history,
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
