"""Evaluation of the rag system against gold questions (EVAL.md): the CLI's ``rag eval``.

Nothing in the core library imports this package; it imports the core.

- ``dataset``: gold questions (JSON Lines or LlamaIndex ``rag_dataset.json``)
- ``metrics``: metric definitions as pure functions
- ``scoring``: which metrics apply to one answer, and their values
- ``judge``: optional LLM-judge scores, cached
- ``run``: ask every question, merge scores into rows, summarize, write and load runs
- ``compare``: two runs side by side with paired bootstrap deltas
- ``report``: the headline and the HTML report (``rag.cli.rendering`` draws the tables)
"""
