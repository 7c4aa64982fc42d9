"""Benchmarks: ``python -m bench [name ...]`` runs them; each prints one ``BENCH`` line.

A benchmark is a module ``bench/<name>.py`` with a top-level ``run() -> BenchResult``;
helper modules start with an underscore. See ``bench/README.md``.
"""
