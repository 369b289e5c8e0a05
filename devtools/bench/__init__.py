"""Benchmarks' seeders and helpers (``manage.py bench_inbox``, ``bench_email``)."""
