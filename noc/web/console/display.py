"""How a stored record's values are shown on a console page: site time, the vocabularies' labels
(Chinese, or the code in English), and callers masked unless the role may see them."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web

from noc.appkeys import CONFIG
from noc.ingest import fields as f
from noc.web.console.context import can, lang
from noc.web.console.messages import has, translate


class Shown:
    """How a row's values are shown to this request: site time, labels, callers."""

    def __init__(self, request: web.Request):
        self.tz = ZoneInfo(request.app[CONFIG].site.timezone)
        self.language = lang(request)
        self.reveal = None
        if can(request, "caller.read"):
            protector = request.app[CONFIG].privacy.protector()
            if protector.encrypts:
                self.reveal = protector.reveal

    def time(self, value: dt.datetime | None) -> str:
        return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M:%S") if value else "–"

    def caller(self, masked: str | None, encrypted: str | None) -> str:
        """The masked number; the number itself only for a role holding ``caller.read`` and only
        where the store keeps it encrypted."""
        if encrypted and self.reveal is not None:
            try:
                return self.reveal(encrypted)
            except ValueError:
                pass
        return masked or "–"

    def label(self, vocab: f.Vocabulary, code: str | None) -> str:
        if not code:
            return "–"
        return code if self.language == "en" else (vocab.label(code) or code)

    def ticket_status(self, code: str | None) -> str:
        if not code:
            return "–"
        return translate(f"tstatus.{code}", self.language) if has(f"tstatus.{code}") else code

    def fault(self, fault_type: str) -> str:
        key = f"fault.{fault_type}"
        return translate(key, self.language) if has(key) else fault_type

    def t(self, key: str) -> str:
        return translate(key, self.language)
