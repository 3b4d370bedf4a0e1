"""Probes and simulations run by hand, apart from the benchmark cases in benchmarks/: each is run as
``python scripts/NAME.py`` (``--help`` says how), and the tests import a few as ``scripts.NAME``."""
