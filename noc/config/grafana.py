"""The ``grafana:`` section: where the NOC's Grafana serves the shipped dashboards.

With ``grafana: {url: https://grafana.example/}`` the console's asset pages link each asset to
its panels on the boards of ``grafana/dashboards`` (by their uids and panel ids, see
``grafana.build.asset_panels``); without the section no link is shown. The URL is shown to every
signed-in user, so it may not carry a user name, password, query or fragment.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from noc.core.validation import StrictModel


def _check_base_url(value: str) -> str:
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"cannot read the URL: {exc}") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password (it is shown on pages)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, not {value!r}")
    if parts.query or parts.fragment:
        raise ValueError("must be Grafana's base URL, without ?query or #fragment")
    if port == 0:
        raise ValueError("port must be 1 to 65535")
    return text.rstrip("/")


class GrafanaSettings(StrictModel):
    """Grafana's base URL as the NOC's browsers reach it (a sub-path such as ``/grafana`` kept)."""

    url: Annotated[str, AfterValidator(_check_base_url)]
