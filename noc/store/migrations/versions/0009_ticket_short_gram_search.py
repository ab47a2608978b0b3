"""ticket search: an index for terms of one or two characters (short grams)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 14:00:00

A trigram index (0003) cannot find a term shorter than three characters, so such terms (停水,
水, 公交) were matched by scanning every ticket. This revision indexes every character and
every pair of adjacent characters of a ticket's number, town and content, lower-cased
(``noc.ingest.search.short_grams``); search looks a short term up there and checks the text of
the tickets found, so the results are the same as before, only found by index.

SQLite: a contentless FTS5 table ``tickets_grams`` (``detail=none``: rowids only) whose
document for a ticket is its grams written as ASCII words (``gram_token``). SQLite cannot
compute them in a trigger, so the ticket repository writes them when it creates a ticket
(``noc.store.textsearch.index_tickets``); tickets' number, town and content never change after,
and tickets are never deleted. PostgreSQL: a function ``noc_grams(text)`` and a GIN index on the
expression over the three fields, kept by PostgreSQL itself. Both get an index on
``lower(ticket_no)``, so the first tier of a search (the number *is* the query) is found
without reading every hit.

Note for whoever renumbers: this revision touches only ``tickets`` search.
"""

from alembic import op

from noc.ingest.search import gram_token, short_grams

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BACKFILL = 2000

GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION noc_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_split_to_array(s, '')
         || coalesce((SELECT array_agg(substr(s, i, 2)) FROM generate_series(1, length(s) - 1) AS i),
                     '{}')
  FROM (SELECT lower(coalesce(t, '')) AS s) AS low
$$
"""
GRAMS_EXPRESSION = "(noc_grams(ticket_no) || noc_grams(town) || noc_grams(content))"


def upgrade() -> None:
    # the exact-number tier of a search (``lower(ticket_no) = …``) by index
    op.execute("CREATE INDEX ix_tickets_ticket_no_lower ON tickets (lower(ticket_no))")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GRAMS_FUNCTION)
        op.execute(f"CREATE INDEX ix_tickets_short_grams ON tickets USING gin ({GRAMS_EXPRESSION})")
        op.execute("ANALYZE tickets")  # the statistics of the new expression
        return
    op.execute(
        "CREATE VIRTUAL TABLE tickets_grams USING fts5(grams, content='', detail='none', "
        "columnsize=0, tokenize='ascii')"
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.exec_driver_sql(
            "SELECT id, ticket_no, town, content FROM tickets WHERE id > ? ORDER BY id LIMIT ?",
            (last, BACKFILL),
        ).all()
        if not rows:
            break
        bind.exec_driver_sql(
            "INSERT INTO tickets_grams(rowid, grams) VALUES (?, ?)",
            [(r[0], " ".join(gram_token(g) for g in short_grams(*r[1:]))) for r in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tickets_ticket_no_lower")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_tickets_short_grams")
        op.execute("DROP FUNCTION IF EXISTS noc_grams(text)")
        return
    op.execute("DROP TABLE IF EXISTS tickets_grams")
