"""The ``rag`` command, the terminal side of the project: only this package draws.

``app`` holds the typer app, the shared options and how errors and exits are handled;
``commands``, ``eval_commands``, ``web_commands`` (``rag feeds``) and ``model_commands``
(``rag models``) define the commands (each parses, calls the library and renders);
``rendering`` and ``chatview`` draw with rich and prompt_toolkit, which nothing outside this
package imports.
"""

from rag.cli import commands, eval_commands, model_commands, web_commands
from rag.cli.app import app, main

__all__ = ["app", "commands", "eval_commands", "main", "model_commands", "web_commands"]
