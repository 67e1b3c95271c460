"""The UEFI network boot the lab's dnsmasq offers an SNO node, and the TFTP root it serves it from.

redhatci.ocp's SNO chain (docs/redhatci-ocp-gaps.md, D) boots `shimx64.efi`, then `grubx64.efi`, which reads
`grub.cfg-01-<mac>` and loads `/images/<kernel>` and `/images/<initramfs>`, all relative to one TFTP root. Each
such node gets a root of its own, `TFTP_ROOT/<mac with dashes>` (dnsmasq's `tftp-unique-root=mac` serves a
client from the directory named by its MAC when it exists), so clusters never see each other's `/images`, and
the DCI inventory hands that directory to the collection as `tftp_dir`. Only the node's MAC is offered a boot
file, and only when it asks as UEFI x86-64 (DHCP client-arch 7 or 9): every other DHCP answer is unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.firmware import FIRMWARE_OF

if TYPE_CHECKING:  # the lab's base config needs none of the design
    from core.cluster_design import ClusterDesign

TFTP_ROOT = "/var/lib/ocplab/tftp"
BOOT_FILE = "shimx64.efi"  # the first file of redhatci.ocp's chain (65_dnsmasq_tftp.yml: dhcp-boot=shimx64.efi)
EFI_TAG = "ocplab-efi-x86-64"
# RFC 4578 client architectures: 7 EFI BC (what OVMF sends), 9 EFI x86-64.
EFI_ARCHES = (7, 9)


def base_lines() -> list[str]:
    """The lab-wide part, in the base config: TFTP on, per-MAC roots, the UEFI clients tagged."""
    return ["enable-tftp", f"tftp-root={TFTP_ROOT}", "tftp-unique-root=mac",
            *(f"dhcp-match=set:{EFI_TAG},option:client-arch,{arch}" for arch in EFI_ARCHES)]


def tftp_dir(mac: str) -> str:
    """The TFTP root dnsmasq serves the node with `mac` from (its `tftp-unique-root=mac` spelling)."""
    return f"{TFTP_ROOT}/{mac.lower().replace(':', '-')}"


def pxe_macs(design: ClusterDesign) -> list[str]:
    """The MACs offered a network boot: an SNO node's (the topology that boots UEFI, which DCI PXE-boots); none on
    an IPv6-only cluster, whose nodes get no DHCPv4 lease to boot by (DCI's SNO hand-off refuses it)."""
    cluster = design.cluster
    if FIRMWARE_OF[cluster.topology] != "uefi" or design.slice_range is None:
        return []
    return [design.plan.nodes[n.name].macs["baremetal"] for n in cluster.nodes]


def cluster_lines(cluster: str, macs: list[str]) -> list[str]:
    """The cluster's part, in its conf-dir file: its nodes' MACs tagged, and the boot file for that tag."""
    if not macs:
        return []
    tag = f"ocplab-pxe-{cluster}"
    return [f"# {cluster}: UEFI network boot from each node's own TFTP root ({TFTP_ROOT}/<mac>)",
            *(f"dhcp-mac=set:{tag},{mac}" for mac in macs),
            f"dhcp-boot=tag:{tag},tag:{EFI_TAG},{BOOT_FILE}"]
