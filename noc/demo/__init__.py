"""A synthetic Lingshui 12345 history for demos, tests and benchmarks (``noc demo generate``).

``generate`` builds the records (pure: seeded, deterministic, no I/O); ``load`` hands them to
the store through the same repositories every other way in uses. Nothing here is real: the
caller numbers are synthetic ranges, the texts come from templates (``vocab``).
"""
