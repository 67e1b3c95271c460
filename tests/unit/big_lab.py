"""A lab at the size `ocplab map` must stay readable at: ten hypervisors, twenty cluster stacks (one
seed-sized 3+3 IPI and one seed-sized SNO on each), written as stack files for OCPLAB_STACKS_DIR."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

# Named so that no two derive the same keepalived VRRP id (ipi01, ipi06 and ipi10 would clash).
IPI = ["ipi02", "ipi03", "ipi04", "ipi05", "ipi07", "ipi08", "ipi09", "ipi18", "ipi19", "ipi21"]
SNO = [f"sno{i:02d}" for i in range(1, 11)]
HYPERVISORS = [f"hv{i:02d}" for i in range(1, 11)]


def _write(directory: Path, stack: str, values: dict[str, Any]) -> None:
    config = {f"ocplab:{key}": value for key, value in values.items()}
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}, sort_keys=False))


def write_big_lab(directory: Path, lab: str = "big") -> None:
    slices: dict[str, Any] = {}
    for index, (hv, ipi, sno) in enumerate(zip(HYPERVISORS, IPI, SNO, strict=True)):
        slices[ipi] = {"hypervisor": hv, "range": f"192.168.16.{32 + 16 * index}-192.168.16.{47 + 16 * index}",
                       "bmc_ports": "6230-6239"}
        slices[sno] = {"hypervisor": hv, "range": f"192.168.16.{192 + 4 * index}-192.168.16.{195 + 4 * index}"}
        _write(directory, ipi, {"kind": "cluster", "lab": lab, "topology": "ipi", "hypervisor": hv, "workers": 3})
        _write(directory, sno, {"kind": "cluster", "lab": lab, "topology": "sno", "hypervisor": hv})
    _write(directory, lab, {
        "kind": "lab", "domain": "big.lab",
        "network": {"cidr": "192.168.16.0/24", "gateway": "192.168.16.1",
                    "reserved": ["192.168.16.240-192.168.16.254"]},
        "jumphost": {"address": "192.168.16.2", "interface": "eno1", "ssh_key_path": "~/.ssh/id_rsa"},
        "hypervisors": [{"name": hv, "address": f"192.168.16.{11 + i}", "nic": "eno1",
                         "capacity": {"vcpus": 112, "memory": "512G", "disk": "3.5T"}}
                        for i, hv in enumerate(HYPERVISORS)],
        "images": {"rhcos": "https://example.com/rhcos.qcow2"},
        "overcommit": {"cpu": 2.0, "memory": 1.0},
        "slices": slices,
    })
