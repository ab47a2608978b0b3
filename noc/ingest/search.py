"""Substring search (模糊查询) without the database: what a query means, how results rank, and
the highlighted snippet shown for each hit.

A query is one or more terms separated by spaces; a record matches when every term appears
somewhere in its searched fields (as a substring: Chinese has no spaces between words, so a
term matches in the middle of a sentence). Ranking, best first:

- tier 0: the ticket number (or KB title) *is* the query;
- tier 1: the query appears as one exact phrase (its terms adjacent, in order);
- tier 2: every term appears, apart.

Within a tier the newest record comes first. The store implements the match with SQLite FTS5
(trigram tokenizer) or PostgreSQL ``pg_trgm`` GIN indexes for terms of three characters or more.
A trigram index cannot find a term of one or two characters (停水, 水), so tickets also have a
*short-gram* index: every distinct character and pair of adjacent characters of each searched
field, lower-cased (:func:`short_grams`); a short term is looked up there and then checked
against the text, so the index only narrows, it never decides.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

from noc.core.errors import InputError

MAX_QUERY = 100
MAX_TERMS = 8
TRIGRAM = 3  # shortest term a trigram index can find
_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class Query:
    text: str
    terms: tuple[str, ...]
    phrases: tuple[str, ...]  # the exact-phrase forms: "路灯 不亮" → ("路灯 不亮", "路灯不亮")

    @property
    def short_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) < TRIGRAM)

    @property
    def long_terms(self) -> tuple[str, ...]:
        return tuple(t for t in self.terms if len(t) >= TRIGRAM)


def parse_query(text: str) -> Query:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise InputError("search text is empty")
    if len(cleaned) > MAX_QUERY:
        raise InputError(f"search text is longer than {MAX_QUERY} characters")
    terms: list[str] = []
    for term in cleaned.split(" "):
        if term.lower() not in (t.lower() for t in terms):
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise InputError(f"at most {MAX_TERMS} search terms")
    phrases = [cleaned]
    joined = "".join(terms)
    if len(terms) > 1 and any(_CJK.search(t) for t in terms) and joined not in phrases:
        phrases.append(joined)
    return Query(text=cleaned, terms=tuple(terms), phrases=tuple(phrases))


def tier(query: Query, exact_field: str | None, texts: list[str | None]) -> int:
    """The tier of a record (see the module doc); ``texts`` are its searched fields."""
    if exact_field is not None and exact_field.lower() == query.text.lower():
        return 0
    lowered = [t.lower() for t in texts if t]
    if any(p.lower() in t for p in query.phrases for t in lowered):
        return 1
    return 2


@dataclass(frozen=True)
class Snippet:
    text: str
    spans: tuple[tuple[int, int], ...]  # [start, end) of each highlighted part of ``text``

    def marked(self, start: str = "【", end: str = "】") -> str:
        out, last = [], 0
        for a, b in self.spans:
            out += [self.text[last:a], start, self.text[a:b], end]
            last = b
        out.append(self.text[last:])
        return "".join(out)

    def html(self) -> str:
        out, last = [], 0
        for a, b in self.spans:
            out += [
                html.escape(self.text[last:a]),
                "<mark>",
                html.escape(self.text[a:b]),
                "</mark>",
            ]
            last = b
        out.append(html.escape(self.text[last:]))
        return "".join(out)


def _find_all(haystack: str, needle: str) -> list[tuple[int, int]]:
    out, start = [], 0
    while needle:
        i = haystack.find(needle, start)
        if i < 0:
            break
        out.append((i, i + len(needle)))
        start = i + 1
    return out


def snippet(text: str | None, query: Query, width: int = 60) -> Snippet | None:
    """A window of about ``width`` characters around the first hit, with every hit marked;
    ``None`` when the text holds no term."""
    if not text:
        return None
    flat = " ".join(text.split())
    low = flat.lower()
    hits = [h for p in query.phrases for h in _find_all(low, p.lower())]
    first = min(hits)[0] if hits else None
    term_hits = [h for t in query.terms for h in _find_all(low, t.lower())]
    if first is None:
        if not term_hits:
            return None
        first = min(term_hits)[0]
    start = max(0, first - width // 4)
    end = min(len(flat), start + width)
    start = max(0, min(start, end - width))
    window = flat[start:end]
    spans = sorted((a - start, b - start) for a, b in hits + term_hits if a >= start and b <= end)
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    shift = len(prefix)
    return Snippet(
        text=prefix + window + suffix,
        spans=tuple((a + shift, b + shift) for a, b in merged),
    )


def short_grams(*texts: str | None) -> set[str]:
    """Every character and every pair of adjacent characters of each text, lower-cased (never
    a pair across two texts): the keys of the short-gram index."""
    out: set[str] = set()
    for text in texts:
        if not text:
            continue
        low = text.lower()
        out.update(low)
        out.update(low[i : i + 2] for i in range(len(low) - 1))
    return out


@functools.lru_cache(maxsize=1 << 16)
def gram_token(gram: str) -> str:
    """A gram as one ASCII word (its UTF-32 code units in hex), so SQLite's FTS5 ``ascii``
    tokenizer keeps exactly the grams given, whatever characters they hold. (Memoised: a
    year of tickets uses a few thousand distinct grams, eighty per ticket.)"""
    return gram.encode("utf-32-be").hex()


def like_pattern(term: str) -> str:
    """``%term%`` with LIKE's wildcards escaped (escape character: backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def fts_phrase(term: str) -> str:
    """A term as an FTS5 string (double quotes doubled), matched as a substring by trigrams."""
    return '"' + term.replace('"', '""') + '"'
