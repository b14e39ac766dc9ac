"""The one settings object, and the one place that reads the environment.

Precedence: command-line flag > environment variable > config file > default.
Secrets (API keys, the Chroma token) come from the environment only and are masked
whenever settings are shown.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

APP_NAME = "rag-news"
CONFIG_ENV = "RAG_CONFIG"


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
    """One setting: its environment variable, type, default, description and secrecy."""

    env: str
    kind: type
    default: Any
    help: str
    secret: bool = False


OPTIONS: dict[str, Option] = {
    "data_dir": Option("RAG_DATA_DIR", Path, None, "Where the store, BM25 index and history live."),
    "collection": Option("RAG_COLLECTION", str, "news", "Chroma collection name."),
    "chroma_url": Option(
        "RAG_CHROMA_URL", str, None, "Chroma server URL; unset = embedded store in data_dir."
    ),
    "chroma_token": Option(
        "RAG_CHROMA_TOKEN", str, None, "Chroma server auth token (env only).", secret=True
    ),
    "embedding": Option(
        "RAG_EMBEDDING",
        str,
        "wordllama",
        "Embedding backend: wordllama, minilm, openai[:MODEL], hash (test twin).",
    ),
    "chunk_size": Option("RAG_CHUNK_SIZE", int, 200, "Chunk size in tokens (words and marks)."),
    "chunk_overlap": Option("RAG_CHUNK_OVERLAP", int, 40, "Overlap between chunks in tokens."),
    "k": Option("RAG_K", int, 5, "Passages shown to the answerer."),
    "llm": Option(
        "RAG_LLM",
        str,
        "auto",
        "Answerer: auto, extractive, openai[:MODEL], local[:PATH.gguf], scripted (test twin).",
    ),
    "openai_model": Option("RAG_OPENAI_MODEL", str, "gpt-4.1-mini", "Default OpenAI chat model."),
    "openai_embedding_model": Option(
        "RAG_OPENAI_EMBEDDING_MODEL", str, "text-embedding-3-small", "OpenAI embedding model."
    ),
    "openai_base_url": Option(
        "OPENAI_BASE_URL", str, None, "OpenAI-compatible server URL (Ollama, vLLM, llama.cpp)."
    ),
    "openai_api_key": Option("OPENAI_API_KEY", str, None, "OpenAI API key (env only).", True),
    "timeout": Option("RAG_TIMEOUT", float, 60.0, "Seconds before a model call is abandoned."),
    "max_retries": Option("RAG_MAX_RETRIES", int, 2, "Retries of a failed model call."),
    "hybrid": Option("RAG_HYBRID", bool, True, "Fuse BM25 with dense retrieval."),
    "allow_private_urls": Option(
        "RAG_ALLOW_PRIVATE_URLS",
        bool,
        False,
        "Fetch URLs on private, loopback and link-local addresses (intranet feeds, tests).",
    ),
}

SECRET_ENV_ALIASES = {"chroma_token": ("CHROMA_AUTH_TOKEN",)}


@dataclass
class Settings:
    """Effective settings; ``origins`` says where each value came from."""

    data_dir: Path = field(default_factory=default_data_dir)
    collection: str = "news"
    chroma_url: str | None = None
    chroma_token: str | None = None
    embedding: str = "wordllama"
    chunk_size: int = 200
    chunk_overlap: int = 40
    k: int = 5
    llm: str = "auto"
    openai_model: str = "gpt-4.1-mini"
    openai_embedding_model: str = "text-embedding-3-small"
    openai_base_url: str | None = None
    openai_api_key: str | None = None
    timeout: float = 60.0
    max_retries: int = 2
    hybrid: bool = True
    allow_private_urls: bool = False
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
        if self.k < 1:
            raise ConfigError("k must be at least 1")
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
    for var in (opt.env, *SECRET_ENV_ALIASES.get(name, ())):
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
