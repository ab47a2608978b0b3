"""The network lab: the Lingshui site in network namespaces with real daemons (docs/lab.md).

Public API: `Lab` (up/down/status/fault/heal), the probe guard re-exported from
`probes.safety` (`ensure_blackhole`,
`addresses_in_test_range`, `check_probe_safety`) and `lab_inventory_dict`.
Errors: `LabError` (a lab command failed), `FaultError` (bad fault request, a ValueError),
`ProbeSafetyError` (test range without its blackhole).
"""

from noc.lab.control import Lab
from noc.lab.faults import Fault, FaultError
from noc.lab.inventory import lab_inventory_dict
from noc.lab.netns import LabError
from noc.lab.state import DEFAULT_STATE_DIR
from probes.safety import (
    ProbeSafetyError,
    addresses_in_test_range,
    check_probe_safety,
    ensure_blackhole,
)

__all__ = [
    "DEFAULT_STATE_DIR",
    "Fault",
    "FaultError",
    "Lab",
    "LabError",
    "ProbeSafetyError",
    "addresses_in_test_range",
    "check_probe_safety",
    "ensure_blackhole",
    "lab_inventory_dict",
]
