"""Settings precedence, validation, origins and secret masking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag.errors import ConfigError
from rag.settings import OPTIONS, Settings


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


def _commands() -> list[tuple[str, Any]]:
    """(name, click command) for every rag command, eval's subcommands included."""
    import typer

    from rag.cli import app

    found = []
    group: Any = typer.main.get_command(app)
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a group: rag eval
            found += [(f"{name} {sub}", c) for sub, c in command.commands.items()]
        else:
            found.append((name, command))
    return found


def test_every_command_help_shows_each_setting_env_var_and_default() -> None:
    from typer.testing import CliRunner

    from rag.cli import app

    by_flag = {opt.flag.split("/")[0]: opt for opt in OPTIONS.values() if opt.flag}
    seen: set[str] = set()
    runner = CliRunner()
    for name, command in _commands():
        result = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "400"})
        assert result.exit_code == 0, name
        text = " ".join(result.stdout.split())
        for param in command.params:
            opt = next((by_flag[f] for f in getattr(param, "opts", []) if f in by_flag), None)
            if opt is None:
                assert "[env:" not in (getattr(param, "help", "") or ""), (name, param.name)
                continue
            seen.add(opt.name)
            expected = f"[env: {opt.env}; default: {opt.shown_default}]"
            assert expected in text, (name, opt.flag, expected)
    assert seen == {opt.name for opt in by_flag.values()}


def test_the_settings_table_agrees_with_the_dataclass() -> None:
    assert "hybrid" not in OPTIONS
    defaults = Settings()
    for name, opt in OPTIONS.items():
        if opt.default_text is None:
            assert getattr(defaults, name) == opt.default, name
        value = getattr(defaults, name)
        assert value is None or isinstance(value, opt.kind), name
    shown = {row[0] for row in Settings.load(env={}).shown()}
    assert shown == set(OPTIONS)


def test_cli_option_types_match_the_settings(tmp_path: Path) -> None:
    """Each settings option's typed value reaches Settings with the setting's type."""
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(
        app, ["config", "--json", "--data-dir", str(tmp_path), "--collection", "c"]
    )
    shown = json.loads(result.stdout)
    assert shown["data_dir"] == {"value": str(tmp_path), "origin": "flag"}
    assert shown["collection"] == {"value": "c", "origin": "flag"}


def test_readme_configuration_table_names_every_setting() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("| setting | flag | environment | default |", 1)[1].split("\n\n", 1)[0]
    rows = table.strip().splitlines()[1:]
    for opt in OPTIONS.values():
        [row] = [r for r in rows if f"`{opt.env}`" in r]
        flag = row.split("|")[2].strip()
        assert flag == (f"`{opt.flag.split('/')[0]}`" if opt.flag else ""), opt.name
