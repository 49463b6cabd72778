"""The operator's command line, ``peerconsult``:

* ``serve`` runs the web interface and the API (``serve.py``, its worker processes in
  ``workers.py``);
* ``migrate``, ``import``, ``export``, ``reindex``, ``backup``, ``restore`` look after the
  network's data (``data.py``);
* ``evaluate`` and ``bench`` measure matching quality and speed, with the lab's code
  (``quality.py``).
"""

from __future__ import annotations

import typer

from api.cli import data, quality, serve

app = typer.Typer(
    help="peerconsult: peer consultation matching for municipal participation officers.",
    no_args_is_help=True,
    add_completion=False,
)
app.command()(serve.serve)
app.command()(data.migrate)
app.command("import")(data.import_members)
app.command()(data.export)
app.command()(data.reindex)
app.command()(data.backup)
app.command()(data.restore)
app.command()(quality.evaluate)
app.command()(quality.bench)
