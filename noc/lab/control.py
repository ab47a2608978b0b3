"""`Lab`: up, down, status, fault and heal over the topology, the daemons and the state dir.

Each operation reads the state dir, acts, and writes it back under a lock, so the CLI
commands (separate processes) and an in-process test fixture drive the same lab.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from noc.lab import faults as fx
from noc.lab import topology
from noc.lab.daemons import LabDaemons
from noc.lab.inventory import generate_secrets, write_inventory
from noc.lab.netns import LabError, list_netns
from noc.lab.state import DEFAULT_STATE_DIR, LabState
from noc.lab.topology import PLAN, Plan
from probes import safety as guard


class Lab:
    def __init__(self, state_dir: Path | str = DEFAULT_STATE_DIR, plan: Plan = PLAN) -> None:
        self.state = LabState(state_dir)
        self.plan = plan
        self._daemons: LabDaemons | None = None  # kept so an in-process owner reuses handles

    def _daemons_for(self, st: dict[str, Any]) -> LabDaemons:
        if self._daemons is None:
            self._daemons = LabDaemons(self.state, st["daemons"], st["secrets"])
        else:  # same live handles, fresh records from disk
            self._daemons.records = st["daemons"]
            self._daemons.secrets = st["secrets"]
        return self._daemons

    def up(self, inventory_out: Path | str | None = None) -> dict[str, Any]:
        """Build the lab from scratch (tearing down leftovers first) and start its daemons."""
        guard.ensure_blackhole()
        self.down()
        try:
            with self.state.locked() as st:
                st.clear()
                st.update(
                    {"routes": [], "daemons": {}, "faults": [], "secrets": generate_secrets()}
                )
                st["routes"] = topology.build(self.plan)
                self._daemons_for(st).start_all()
                if inventory_out:
                    st["inventory"] = str(write_inventory(inventory_out, st["secrets"]))
                return dict(st)
        except BaseException:
            self.down()
            raise

    def down(self) -> None:
        """Stop the daemons, remove namespaces, veths and root routes; keep the blackhole."""
        with self.state.locked() as st:
            daemons = self._daemons_for(st)
            try:
                daemons.stop_all()
            finally:
                topology.remove(self.plan, st.get("routes") or (topology.LAB_ROUTE,))
                st["routes"], st["daemons"], st["faults"] = [], {}, []
                self._daemons = None

    def status(self) -> dict[str, Any]:
        try:
            st = self.state.load()
        except PermissionError:  # non-root: show the kernel's view, not the recorded one
            st = {"routes": [], "daemons": {}, "faults": [], "secrets": {}}
        topo = topology.status(self.plan)
        daemons = self._daemons_for(st)
        return {
            "up": all(topo["namespaces"].values()),
            "state_dir": str(self.state.directory),
            "blackhole": guard.blackhole_present(),
            **topo,
            "daemons": daemons.running(),
            "faults": [fx.Fault.from_dict(f).describe() for f in st["faults"]],
            "inventory": st.get("inventory"),
        }

    def fault(self, kind: str, args: list[str] | tuple[str, ...] = ()) -> fx.Fault:
        """Inject a fault (`link-up`/`snmpd-start` heal their counterpart)."""
        undo = {"link-up": "link-down", "snmpd-start": "snmpd-stop"}.get(kind)
        fault = fx.parse_fault(undo or kind, list(args), self.plan)
        with self.state.locked() as st:
            self._require_up()
            daemons = self._daemons_for(st)
            if undo:  # heal even when the fault was not recorded (e.g. done by hand)
                fx.heal(fault, daemons, self.plan)
                st["faults"] = [f for f in st["faults"] if fx.Fault.from_dict(f).key != fault.key]
            else:
                fx.apply(fault, daemons, self.plan)
                st["faults"] = fx.record(st["faults"], fault)
        return fault

    def heal(self, which: str | None = None) -> list[fx.Fault]:
        """Undo all active faults, or those matching `which` ("loss mstp-voice", "sip-503")."""
        with self.state.locked() as st:
            chosen = fx.select(st["faults"], which)
            daemons = self._daemons_for(st)
            for fault in chosen:
                fx.heal(fault, daemons, self.plan)
                st["faults"] = [f for f in st["faults"] if fx.Fault.from_dict(f).key != fault.key]
        return chosen

    def _require_up(self) -> None:
        missing = sorted(set(self.plan.namespaces) - list_netns())
        if missing:
            raise LabError(
                f"实验网未启动 / lab is not up (missing {', '.join(missing)}); run `noc lab up`"
            )
