"""The benchmark harness: the bridge against the raw-Kafka limit of this machine (issue 9).

Not a test suite: ``python -m bench --quick`` (a small run) or ``python -m bench`` (the full
one) writes ``bench/results/report.md``, ``results.json`` and ``throughput.png``. See
``bench/README.md`` for what each figure means and how it is measured.
"""
