"""The one settings object, and the one place that reads the environment.

Precedence: command-line flag > environment variable > config file > default.
Secrets (API keys, the Chroma token) come from the environment only and are masked
whenever settings are shown.
"""

from __future__ import annotations

import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from rag.errors import ConfigError

APP_NAME = "rag-news"
CONFIG_ENV = "RAG_CONFIG"
MIN_K, MAX_K = 1, 50  # passages shown to the answerer: one rule for --k, RAG_K and /k


def default_data_dir() -> Path:
    """The per-user data directory."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def default_config_path() -> Path:
    """The per-user config file."""
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml"


@dataclass(frozen=True)
class Option:
    """One setting: its environment variable, type, default, description, secrecy and flag."""

    name: str
    env: str
    kind: type
    default: Any
    help: str
    secret: bool = False
    flag: str | None = None  # the command-line option, for settings that have one
    aliases: tuple[str, ...] = ()  # other environment variables read, after ``env``
    default_text: str | None = None  # how a computed default is described

    @property
    def shown_default(self) -> str:
        """The default as ``--help`` shows it."""
        if self.default_text:
            return self.default_text
        return "none" if self.default is None else str(self.default)

    def help_text(self) -> str:
        """The help line for the setting's command-line option."""
        return f"{self.help} [env: {self.env}; default: {self.shown_default}]"


def setting(env: str, default: Any, help: str, **more: Any) -> Any:
    """A Settings field that carries its row of the settings table (``more``: the
    optional columns of Option). A callable default is computed when settings load."""
    meta = {"env": env, "help": help, **more}
    if callable(default):
        return field(default_factory=default, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class Settings:
    """Effective settings; ``origins`` says where each value came from.

    The fields are the one table of settings: each names its environment variable, default
    and help, and ``OPTIONS`` (used by ``rag config`` and the CLI's options) is read from them.
    """

    data_dir: Path = setting(
        "RAG_DATA_DIR",
        default_data_dir,
        "Where the store, BM25 index and history live.",
        flag="--data-dir",
        default_text="the per-user data dir",
    )
    collection: str = setting(
        "RAG_COLLECTION", "news", "Chroma collection name.", flag="--collection"
    )
    chroma_url: str | None = setting(
        "RAG_CHROMA_URL",
        None,
        "Chroma server URL; unset = embedded store in the data dir.",
        flag="--chroma-url",
    )
    chroma_token: str | None = setting(
        "RAG_CHROMA_TOKEN",
        None,
        "Chroma server auth token (env only).",
        secret=True,
        aliases=("CHROMA_AUTH_TOKEN",),
    )
    embedding: str = setting(
        "RAG_EMBEDDING",
        "wordllama",
        "Embedding backend: wordllama, minilm, openai[:MODEL].",
        flag="--embedding",
    )
    chunk_size: int = setting("RAG_CHUNK_SIZE", 200, "Chunk size in tokens (words and marks).")
    chunk_overlap: int = setting("RAG_CHUNK_OVERLAP", 40, "Overlap between chunks in tokens.")
    k: int = setting("RAG_K", 5, "Passages shown to the answerer.", flag="--k")
    llm: str = setting(
        "RAG_LLM",
        "auto",
        "Answerer: auto, extractive, openai[:MODEL], local[:NAME or PATH.gguf].",
        flag="--llm",
    )
    openai_model: str = setting("RAG_OPENAI_MODEL", "gpt-4.1-mini", "Default OpenAI chat model.")
    openai_embedding_model: str = setting(
        "RAG_OPENAI_EMBEDDING_MODEL", "text-embedding-3-small", "OpenAI embedding model."
    )
    openai_base_url: str | None = setting(
        "OPENAI_BASE_URL",
        None,
        "OpenAI-compatible server URL (Ollama, vLLM, llama.cpp).",
        flag="--base-url",
    )
    openai_api_key: str | None = setting(
        "OPENAI_API_KEY", None, "OpenAI API key (env only).", secret=True
    )
    timeout: float = setting(
        "RAG_TIMEOUT",
        60.0,
        "Seconds before a model call is abandoned (unset: 300 for a local model).",
    )
    max_retries: int = setting("RAG_MAX_RETRIES", 2, "Retries of a failed model call.")
    allow_private_urls: bool = setting(
        "RAG_ALLOW_PRIVATE_URLS",
        False,
        "Fetch URLs on private and loopback addresses (intranet feeds, tests).",
        flag="--allow-private-urls/--no-allow-private-urls",
        default_text="off",
    )
    models_dir: Path = setting(
        "RAG_MODELS_DIR",
        lambda: default_data_dir() / "models",
        "Where pulled local models live (shared by every store).",
        default_text="models/ in the per-user data dir",
    )
    llm_threads: int = setting(
        "RAG_LLM_THREADS", 0, "CPU threads for a local model; 0 = half the cores, at least 1."
    )
    focus_sentences: int = setting(
        "RAG_FOCUS_SENTENCES",
        12,
        "Sentences of the shown passages a local model reads: the extractive answerer's best "
        "for the question, in article order; 0 = whole passages.",
    )
    local_gate: bool = setting(
        "RAG_LOCAL_GATE",
        True,
        "Refuse before a local model reads anything when the extractive answerer's "
        "answerability model finds the passages far from answering (under its gate).",
        default_text="on",
    )
    local_fallback: bool = setting(
        "RAG_LOCAL_FALLBACK",
        True,
        "When a local model finds no answer but the extractive answerer does (above its "
        "operating point), answer with the extractive answerer's sentences, with a note.",
        default_text="on",
    )
    origins: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def load(
        cls,
        flags: Mapping[str, Any] | None = None,
        env: Mapping[str, str] | None = None,
        config_path: Path | None = None,
    ) -> Settings:
        """Resolve every option: flag > env var > config file > default."""
        env = os.environ if env is None else env
        flags = {k: v for k, v in (flags or {}).items() if v is not None}
        unknown = set(flags) - set(OPTIONS)
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        path = config_path or _config_path(env)
        config = _read_config(path)
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for name, opt in OPTIONS.items():
            value, origin = _resolve(name, opt, flags, env, config, path)
            if value is not None:
                values[name] = _coerce(name, opt, value, origin)
            origins[name] = origin
        settings = cls(**values)
        settings.origins = origins
        settings.validate()
        return settings

    def validate(self) -> None:
        """Reject values that cannot work."""
        if self.chunk_size < 16:
            raise ConfigError("chunk_size must be at least 16 tokens")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError("chunk_overlap must be between 0 and chunk_size - 1")
        if not MIN_K <= self.k <= MAX_K:
            raise ConfigError(f"k must be a whole number from {MIN_K} to {MAX_K}")
        if self.llm_threads < 0:
            raise ConfigError("llm_threads must be 0 (automatic) or more")
        if self.focus_sentences < 0:
            raise ConfigError("focus_sentences must be 0 (whole passages) or more")
        if self.timeout <= 0:
            raise ConfigError("timeout must be positive")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (marked as set by flag)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "origins"}
        data.update(changes)
        new = Settings(**data)
        new.origins = {**self.origins, **dict.fromkeys(changes, "flag")}
        new.validate()
        return new

    @property
    def store_dir(self) -> Path:
        """Where the embedded Chroma store lives."""
        return self.data_dir / "chroma"

    @property
    def server_mode(self) -> bool:
        """True when a Chroma server is used instead of the embedded store."""
        return bool(self.chroma_url)

    def shown(self) -> list[tuple[str, str, str]]:
        """(name, value, origin) rows for ``rag config``, secrets masked."""
        rows = []
        for name, opt in OPTIONS.items():
            value = getattr(self, name)
            text = mask(value) if opt.secret else ("" if value is None else str(value))
            rows.append((name, text, self.origins.get(name, "default")))
        return rows


def _options() -> dict[str, Option]:
    """The settings table, read from the fields of Settings."""
    kinds = get_type_hints(Settings)
    table = {}
    for f in fields(Settings):
        if f.name == "origins":
            continue
        kind = kinds[f.name]
        if isinstance(kind, types.UnionType):  # X | None: coerce to X
            kind = next(t for t in get_args(kind) if t is not type(None))
        default = None if f.default is MISSING else f.default
        table[f.name] = Option(f.name, kind=kind, default=default, **f.metadata)
    return table


OPTIONS: dict[str, Option] = _options()


def mask(secret: str | None) -> str:
    """Show that a secret is set without showing any of it."""
    return "" if not secret else "**** (set)"


def _config_path(env: Mapping[str, str]) -> Path:
    explicit = env.get(CONFIG_ENV)
    return Path(explicit).expanduser() if explicit else default_config_path()


def config_table(name: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A table of the config file other than the settings (e.g. ``[feeds]``), or {}."""
    path = _config_path(os.environ if env is None else env)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [{name}] must be a table")
    return table


def _read_config(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from exc
    tables = {"feeds"}  # read by their own modules (config_table)
    section = data.get("rag", {k: v for k, v in data.items() if k not in tables})
    if not isinstance(section, dict):
        raise ConfigError(f"config file {path}: [rag] must be a table")
    unknown = set(section) - set(OPTIONS)
    if unknown:
        raise ConfigError(f"config file {path}: unknown setting(s) {', '.join(sorted(unknown))}")
    secrets = [k for k in section if OPTIONS[k].secret]
    if secrets:
        raise ConfigError(
            f"config file {path}: {', '.join(secrets)} must come from the environment, not a file"
        )
    return section


def _resolve(
    name: str,
    opt: Option,
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config: Mapping[str, Any],
    path: Path,
) -> tuple[Any, str]:
    if name in flags:
        return flags[name], "flag"
    for var in (opt.env, *opt.aliases):
        if env.get(var):
            return env[var], f"env {var}"
    if name in config:
        return config[name], f"config {path}"
    return opt.default, "default"


def _coerce(name: str, opt: Option, value: Any, origin: str) -> Any:
    try:
        if opt.kind is bool and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(value)
            return lowered in {"1", "true", "yes", "on"}
        if opt.kind is Path:
            return Path(str(value)).expanduser()
        return opt.kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{name} ({origin}): expected {opt.kind.__name__}, got {value!r}"
        ) from exc
