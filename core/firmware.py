"""The firmware each topology's domains boot, and the OVMF files a UEFI domain is given.

IPI domains declare no loader, so libvirt boots them with SeaBIOS. An SNO node boots UEFI (OVMF): redhatci.ocp's
SNO chain is UEFI only (shimx64.efi, grubx64.efi, grub.cfg-01-<mac>: docs/redhatci-ocp-gaps.md, D). What tells
the installer and DCI how a node boots (renderers.install_config's bootMode, tools.dci_inventory's bootmode)
is read here, and tests/unit/test_boot_firmware.py checks the declared domains against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

Firmware = Literal["bios", "uefi"]
FIRMWARE_OF: Mapping[str, Firmware] = {"ipi": "bios", "sno": "uefi"}


@dataclass(frozen=True)
class UefiFiles:
    """OVMF on the cluster's hypervisor (ocplab:uefi): the firmware code, read-only, and the variable store
    template libvirt copies into each domain's own NVRAM file."""

    code: str
    vars: str
