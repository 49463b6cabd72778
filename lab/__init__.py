"""The lab: how matching quality and speed are measured, apart from the product.

* ``lab.evaluation``: judged sets in the schema of ``shared/data/dev`` (``dataset``), their
  metrics (``metrics``), the service's answers over HTTP (``over_http``: what
  ``peerconsult evaluate`` reports), the ranker offline with ablations, baselines and
  cross-validation (``offline``), and the calibration of gap detection (``gaps``);
* ``lab.bench``: synthetic networks (``synthetic``) and the measurements of
  ``peerconsult bench`` (``runner``).

The product (``api``, ``service``, ``models``) never imports the lab: only the two thin
commands in ``api/cli/quality.py`` do, when they run (``tests/test_layout.py``).
"""
