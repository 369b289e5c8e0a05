"""The desk's configuration models, below ``tickets``: departments, schedules and business
time, templates, metadata fields, tenant settings, channel accounts and their kinds.

Not a Django app of its own: each model keeps the app label (and migrations) it had."""
