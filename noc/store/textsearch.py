"""Substring search in SQL, for the two backends (the meaning is in ``noc.ingest.search``).

SQLite: an FTS5 table with the trigram tokenizer (``tickets_fts``, ``kb_fts``, kept in step by
triggers) finds every term of three or more characters through its index. PostgreSQL:
``ILIKE '%term%'`` on each column, served by ``pg_trgm`` GIN indexes.

A term of one or two characters cannot be found by trigrams. For tickets it is looked up in the
short-gram index (migration 0009: ``tickets_grams`` on SQLite, filled by :func:`index_tickets`;
an expression GIN index over ``noc_grams()`` on PostgreSQL), which holds every character and
pair of characters of the searched fields, lower-cased; the text is then checked with LIKE as
before, so the index narrows and the LIKE decides. (The knowledge base, a few hundred entries,
is scanned.) The tier (exact, phrase, terms) is computed in SQL so the database orders and pages.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, column, func, or_, select, table, text
from sqlalchemy.orm import InstrumentedAttribute

from noc.ingest.search import (
    TRIGRAM,
    Query,
    fts_phrase,
    gram_token,
    like_pattern,
    short_grams,
)


def contains(dialect: str, col, needle: str) -> ColumnElement[bool]:
    """``col`` holds ``needle``, ignoring ASCII case."""
    finder = func.strpos if dialect == "postgresql" else func.instr
    return finder(func.lower(col), needle.lower()) > 0


GRAMS_TABLE = "tickets_grams"
GRAMS_EXPRESSION = (
    "(noc_grams(tickets.ticket_no) || noc_grams(tickets.town) || noc_grams(tickets.content))"
)


def _short_gram(term: str) -> str | None:
    """The gram the short-gram index holds for ``term``, when it can hold one (lower-casing
    must keep it one or two characters long)."""
    low = term.lower()
    return low if 1 <= len(term) == len(low) <= 2 else None


def uncased(term: str) -> bool:
    """No character of ``term`` has a case, or comes out of another's lower case (the one
    such uncased character is U+0307, from İ): every lower-casing finds it as it is."""
    return all(c.lower() == c == c.upper() and c != "\u0307" for c in term)


def simple_case(term: str) -> bool:
    """Each character is ASCII or :func:`uncased`: Python's, SQLite's and PostgreSQL's
    lower-casing agree on the term."""
    return all(c.isascii() or uncased(c) for c in term)


def _gram_lookups(
    dialect: str, id_column: InstrumentedAttribute, query: Query
) -> list[tuple[str, ColumnElement[bool]]]:
    """(term, condition) for each short term the short-gram index can find."""
    out: list[tuple[str, ColumnElement[bool]]] = []
    if dialect == "postgresql" and query.long_terms:
        # the trigram indexes of the long terms find few enough tickets; testing noc_grams()
        # on each of them again (a lossy bitmap is rechecked) would cost more than it saves
        return out
    for n, term in enumerate(query.short_terms):
        gram = _short_gram(term)
        if gram is None:
            continue
        name = f"short_gram_{n}"
        if dialect == "sqlite":
            out.append((term, id_column.in_(_gram_rowids(gram_token(gram), name))))
        else:  # lower-cased by PostgreSQL, as noc_grams() and ILIKE do
            found = text(f"{GRAMS_EXPRESSION} @> ARRAY[lower(CAST(:{name} AS TEXT))]")
            out.append((term, found.bindparams(**{name: term})))
    return out


def _gram_rowids(token: str, name: str = "short_gram"):
    grams = table(GRAMS_TABLE, column("rowid"))
    return select(grams.c.rowid).where(
        text(f"{GRAMS_TABLE} MATCH :{name}").bindparams(**{name: f'"{token}"'})
    )


def index_count(dialect: str, fts_table: str, query: Query):
    """``SELECT count(*)`` of the rows matching a one-term ``query`` counted in an FTS5 index
    alone (SQLite), when that count is exactly the number of matches; else ``None``.

    A term of three or more characters is matched by ``fts_table`` itself, so its count is the
    count. A short term is matched by LIKE, which folds ASCII case only, while the short-gram
    index folds all case: the two agree when the term has no case at all (Chinese, digits).
    """
    if dialect != "sqlite" or len(query.terms) != 1:
        return None
    term = query.terms[0]
    if len(term) >= TRIGRAM:
        fts = table(fts_table, column("rowid"))
        return (
            select(func.count())
            .select_from(fts)
            .where(text(f"{fts_table} MATCH :fts_query").bindparams(fts_query=fts_phrase(term)))
        )
    gram = _short_gram(term)
    if gram is None or not uncased(term):
        return None
    return select(func.count()).select_from(_gram_rowids(gram_token(gram)).subquery())


async def prefer_indexes(session, query: Query) -> None:  # noqa: ANN001
    """PostgreSQL, for the rest of this search's transaction, when ``query`` has a term for the
    trigram indexes: no sequential scans. Its cost model counts ``ILIKE`` on a ticket's text
    as nearly free, so with fresh statistics it reads and lower-cases every ticket (~0.3 s a
    year of them) rather than use the trigram index."""
    if session.bind.dialect.name == "postgresql" and query.long_terms:
        await session.execute(text("SET LOCAL enable_seqscan = off"))


async def index_tickets(session, tickets: Sequence[tuple[int, str, str | None, str]]) -> None:  # noqa: ANN001
    """Write the short grams of new tickets ``(id, ticket_no, town, content)`` (SQLite; on
    PostgreSQL the expression index keeps itself)."""
    if not tickets or session.bind.dialect.name != "sqlite":
        return
    rows = [(tid, " ".join(map(gram_token, short_grams(*fields)))) for tid, *fields in tickets]
    connection = await session.connection()
    await connection.exec_driver_sql(f"INSERT INTO {GRAMS_TABLE}(rowid, grams) VALUES (?, ?)", rows)


def match(
    dialect: str,
    fts_table: str,
    id_column: InstrumentedAttribute,
    columns: Sequence[InstrumentedAttribute],
    query: Query,
    short_grams_index: bool = False,
) -> list[ColumnElement[bool]]:
    """Conditions true for a row that holds every term of ``query`` in one of ``columns``
    (``short_grams_index``: the table is ``tickets``, whose short terms have an index).

    On PostgreSQL a short term found in the short-gram index needs no ``ILIKE`` after: both
    lower-case with the same ``lower()`` (PostgreSQL's ``ILIKE`` on UTF-8 compares the lower
    cases), so "``lower(field)`` holds ``lower(term)``" is what ``ILIKE '%term%'`` tests.
    """
    conditions: list[ColumnElement[bool]] = []
    indexed: set[str] = set()
    if short_grams_index:
        lookups = _gram_lookups(dialect, id_column, query)
        conditions += [found for _, found in lookups]
        if dialect == "postgresql":
            indexed = {term for term, _ in lookups}
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
        terms = [t for t in query.terms if t not in indexed]
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
