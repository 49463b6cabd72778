"""``python -m api.cli``: the same command line as ``peerconsult``."""

from api.cli import app

app()
