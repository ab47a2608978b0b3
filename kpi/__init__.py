"""Operational KPIs and the 100 + 5 scorecard (docs/kpi.md). Pure: no I/O.

The store's rows come in as the plain records of :mod:`kpi.model`; :mod:`kpi.compute` turns
them into figures (numerator, denominator, the ids behind them) for a window, a scope and an
as-of instant; :mod:`kpi.score` gives points and the deduction in words.
"""
