"""Calls, tickets, the knowledge base and the KPI registers on their way in: parsing and
validation, no I/O.

Every way in (HTTP, CSV/XLSX files, Asterisk ``queue_log``) turns its input into the same
validated records (``records``) through the same field parsers (``fields``), with the caller's
number protected on the way (``privacy``). The store (``noc.store.calls``, ``tickets``, ``kb``)
takes those records in bulk; nothing here imports SQLAlchemy or aiohttp, so every rule is
tested table-driven and a data generator can build records directly.

Modules: ``fields`` (one parser per value kind, exact error texts), ``records`` (the record
types and ``validate_*``), ``privacy`` (hash, mask, encrypt), ``tabular`` (CSV/XLSX rows and
mapping files), ``registers`` (staff, report submissions, emergencies), ``queue_log`` (Asterisk
lines → calls), ``lifecycle`` (a ticket's latest state
from its events), ``search`` (query terms, ranking tiers, highlighted snippets).
"""
