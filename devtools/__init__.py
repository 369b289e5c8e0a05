"""Development tools, above every other app: the demo seed (its conversation data apart from
the code that plays it), the launcher of ``make run``, the benchmarks (``bench_*``) with their
seeders, and the app-level import graph. Nothing in the product imports this app."""
