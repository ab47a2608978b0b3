"""Substring search in SQL, for the two backends (the meaning is in ``noc.ingest.search``).

SQLite: an FTS5 table with the trigram tokenizer (``tickets_fts``, ``kb_fts``, kept in step by
triggers) finds every term of three or more characters through its index; a term of one or two
characters cannot be found by trigrams and is matched with LIKE on the row (a scan, narrowed by
the other terms and filters when there are any). PostgreSQL: ``ILIKE '%term%'`` on each column,
served by ``pg_trgm`` GIN indexes. The tier (exact, phrase, terms) is computed in SQL so the
database orders and pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, column, func, or_, select, table, text
from sqlalchemy.orm import InstrumentedAttribute

from noc.ingest.search import Query, fts_phrase, like_pattern


def contains(dialect: str, col, needle: str) -> ColumnElement[bool]:
    """``col`` holds ``needle``, ignoring ASCII case."""
    finder = func.strpos if dialect == "postgresql" else func.instr
    return finder(func.lower(col), needle.lower()) > 0


def match(
    dialect: str,
    fts_table: str,
    id_column: InstrumentedAttribute,
    columns: Sequence[InstrumentedAttribute],
    query: Query,
) -> list[ColumnElement[bool]]:
    """Conditions true for a row that holds every term of ``query`` in one of ``columns``."""
    conditions: list[ColumnElement[bool]] = []
    if dialect == "sqlite":
        if query.long_terms:
            fts = table(fts_table, column("rowid"))
            expr = " AND ".join(fts_phrase(t) for t in query.long_terms)
            conditions.append(
                id_column.in_(
                    select(fts.c.rowid).where(
                        text(f"{fts_table} MATCH :fts_query").bindparams(fts_query=expr)
                    )
                )
            )
        terms: Sequence[str] = query.short_terms
    else:
        terms = query.terms
    for term in terms:
        pattern = like_pattern(term)
        if dialect == "postgresql":
            conditions.append(or_(*[c.ilike(pattern, escape="\\") for c in columns]))
        else:
            conditions.append(or_(*[c.like(pattern, escape="\\") for c in columns]))
    return conditions


def tier(
    dialect: str,
    query: Query,
    exact: InstrumentedAttribute,
    phrase_columns: Sequence[InstrumentedAttribute],
):
    """0 when ``exact`` is the query, 1 when a phrase form appears, else 2."""
    phrase = or_(*[contains(dialect, c, p) for p in query.phrases for c in phrase_columns])
    return case((func.lower(exact) == query.text.lower(), 0), (phrase, 1), else_=2)
