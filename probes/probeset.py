"""The probe kinds, and a ``ProbeSet``: one long-lived client of each, with its probe function.

The service makes one ``ProbeSet`` when it starts (one ICMP pinger, one SNMP poller with its
one pysnmp engine, one SIP client with its shared sockets) and closes it when it stops; a CLI
command makes a short-lived one. There are no module-level clients: whoever probes is handed
the set, so two services (or two tests) in one process never share sockets by accident.

A new probe kind is its package (client, params, codec, render and a ``ProbeKind``) and one
line in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from probes import icmp, sip, snmp
from probes.base import ProbeFunc
from probes.kind import ProbeClient, ProbeKind

KINDS: Mapping[str, ProbeKind] = {
    kind.name: kind
    for kind in (
        icmp.KIND,
        snmp.KIND,
        sip.KIND,
    )
}


def probe_kind(name: str) -> ProbeKind:
    """The kind called ``name``; a KeyError naming the known kinds otherwise."""
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"no probe kind {name!r}; known: {sorted(KINDS)}") from None


class ProbeSet(Mapping[str, ProbeFunc]):
    """Kind name → probe function bound to the set's one client of that kind.

    ``ProbeSet()`` makes a client of every kind in ``KINDS``; ``clients`` hands in ready ones
    by kind name (``ProbeSet(icmp=IcmpPinger(netns="lab"))``), ``kinds`` replaces the kinds
    (tests). Clients open their sockets on first use, on the running event loop. Close the
    set with ``await aclose()`` (or ``async with``).
    """

    def __init__(self, kinds: Iterable[ProbeKind] | None = None, **clients: ProbeClient) -> None:
        self.kinds: dict[str, ProbeKind] = (
            dict(KINDS) if kinds is None else {kind.name: kind for kind in kinds}
        )
        unknown = set(clients) - set(self.kinds)
        if unknown:
            raise TypeError(f"no probe kind {sorted(unknown)}; known: {sorted(self.kinds)}")
        self._clients: dict[str, ProbeClient] = {
            name: clients[name] if name in clients else kind.client()
            for name, kind in self.kinds.items()
        }

    def __getitem__(self, kind: str) -> ProbeFunc:
        try:
            return self._clients[kind].probe
        except KeyError:
            raise KeyError(f"no probe kind {kind!r}; known: {sorted(self.kinds)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._clients)

    def __len__(self) -> int:
        return len(self._clients)

    def client(self, kind: str) -> Any:
        """The one client of ``kind`` (``IcmpPinger``, ``SnmpPoller``, ``SipClient`` …)."""
        return self._clients[kind]

    def confirm_params(self, kind: str, params: Any, recent_rtt: float | None = None) -> Any:
        """The parameters of a fast-confirmation re-probe of a ``kind`` check."""
        return self.kinds[kind].confirm(params, recent_rtt)

    async def aclose(self) -> None:
        """Close every client (sockets, the SNMP engine); each reopens on its next probe."""
        for client in self._clients.values():
            await client.aclose()

    async def __aenter__(self) -> ProbeSet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
