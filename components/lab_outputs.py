"""The lab stack's outputs, the contract cluster stacks read through a StackReference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.labconfig import LabConfig


def hypervisor_outputs(lab: LabConfig, name: str, libvirt_uri: str, network_id: str, pool: str,
                       base_volumes: Mapping[str, str], vcpus: int, memory_mib: int) -> dict[str, Any]:
    hv = lab.hypervisor(name)
    return {"name": hv.name, "address": hv.ssh.address, "user": hv.ssh.user, "port": hv.ssh.port,
            "libvirt_uri": libvirt_uri, "bridge": hv.bridge,
            "network": hv.network_name, "network_id": network_id, "pool": pool,
            "base_volumes": dict(base_volumes), "capacity": {"vcpus": int(vcpus), "memory_mib": int(memory_mib)}}


def lab_outputs(lab: LabConfig, hypervisors: Mapping[str, Any], key_path: str | None, known_hosts: str | None,
                dnsmasq: str) -> dict[str, Any]:
    """Everything but secrets: key material stays in config; only where the key file lives."""
    return {
        "kind": "lab", "domain": lab.domain,
        "network": {"cidr": str(lab.network.cidr), "gateway": str(lab.network.gateway),
                    "prefix": lab.network.cidr.prefixlen, "dns": lab.jumphost.ssh.address},
        "jumphost": {"address": lab.jumphost.ssh.address, "user": lab.jumphost.ssh.user, "port": lab.jumphost.ssh.port,
                     "interface": lab.jumphost.interface, "ssh_key_path": key_path, "known_hosts": known_hosts,
                     "dnsmasq": dnsmasq},
        "hypervisors": dict(hypervisors),
        "slices": {s.cluster: {"hypervisor": s.hypervisor, "range": str(s.range),
                               **({"bmc_ports": str(s.bmc_ports)} if s.bmc_ports else {})} for s in lab.slices},
        "overcommit": dict(lab.overcommit),
    }
