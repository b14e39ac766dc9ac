"""Settings precedence, validation, origins and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.errors import ConfigError
from rag.settings import Settings


def test_defaults_when_nothing_is_set(tmp_path: Path) -> None:
    s = Settings.load(env={}, config_path=tmp_path / "none.toml")
    assert s.collection == "news"
    assert s.embedding == "wordllama"
    assert s.chroma_url is None
    assert s.origins["collection"] == "default"


def test_flag_beats_env_beats_config_beats_default(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[rag]\ncollection = "from-config"\nk = 7\nchunk_size = 300\n')
    env = {"RAG_COLLECTION": "from-env", "RAG_K": "9"}
    s = Settings.load(flags={"collection": "from-flag"}, env=env, config_path=config)
    assert (s.collection, s.origins["collection"]) == ("from-flag", "flag")
    assert (s.k, s.origins["k"]) == (9, "env RAG_K")
    assert s.chunk_size == 300
    assert s.origins["chunk_size"] == f"config {config}"
    assert s.origins["chunk_overlap"] == "default"


def test_none_flags_do_not_override(tmp_path: Path) -> None:
    s = Settings.load(flags={"collection": None}, env={"RAG_COLLECTION": "e"}, config_path=tmp_path)
    assert s.collection == "e"


def test_config_file_found_through_env(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('embedding = "hash"\n')
    s = Settings.load(env={"RAG_CONFIG": str(config)})
    assert s.embedding == "hash"


def test_secrets_refused_in_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('openai_api_key = "sk-in-a-file"\n')
    with pytest.raises(ConfigError, match="environment"):
        Settings.load(env={}, config_path=config)


def test_secret_is_masked_when_shown(tmp_path: Path) -> None:
    key = "sk-canary-1234567890"
    s = Settings.load(env={"OPENAI_API_KEY": key}, config_path=tmp_path / "x")
    shown = repr(s.shown())
    assert key not in shown
    assert "**** (set)" in shown


def test_bad_values_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="k"):
        Settings.load(env={"RAG_K": "many"}, config_path=tmp_path / "x")
    with pytest.raises(ConfigError, match="chunk_overlap"):
        Settings.load(flags={"chunk_size": 50, "chunk_overlap": 50}, env={})
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.load(flags={"nonsense": 1}, env={})


def test_unknown_key_in_config_file(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("colection = 'typo'\n")
    with pytest.raises(ConfigError, match="colection"):
        Settings.load(env={}, config_path=config)


def test_chroma_token_alias(tmp_path: Path) -> None:
    s = Settings.load(env={"CHROMA_AUTH_TOKEN": "t0k"}, config_path=tmp_path / "x")
    assert s.chroma_token == "t0k"
    assert s.origins["chroma_token"] == "env CHROMA_AUTH_TOKEN"
