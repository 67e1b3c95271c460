"""The guest's DHCPv6 client: Debian's dhcpcd with the libraries it loads, laid into the initramfs.

Debian's static busybox has no DHCPv6 client (no udhcpc6), so a dual-stack lab's leases are taken by dhcpcd
(dhcpcd-base), which also reads the lab's router advertisements (their managed flag starts DHCPv6). It is
dynamically linked: its program interpreter and libraries go in at the paths it names.
"""

from __future__ import annotations

import re
from pathlib import Path

from simlab.guest.tools import require_file, require_tool, run

DHCPCD = Path("/usr/sbin/dhcpcd")
DHCPCD_PACKAGE = "dhcpcd-base"
# dhcpcd drops privileges to this user and chroots to its home (Debian's adduser gives it these).
PRIVSEP_USER = "dhcpcd:x:100:65534:DHCP client:/usr/lib/dhcpcd:/bin/false\n"
PRIVSEP_HOME = "usr/lib/dhcpcd"
_LDD_PATH = re.compile(r"(?:=>\s*)?(/\S+)\s+\(0x[0-9a-f]+\)")


def libraries(binary: Path) -> list[Path]:
    """The program interpreter and shared libraries `binary` loads, as ldd resolves them on this host."""
    out = run([require_tool("ldd", "libc-bin"), str(binary)])
    return [Path(found.group(1)) for line in out.splitlines() if (found := _LDD_PATH.search(line))]


def client_files() -> list[tuple[str, Path]]:
    """(path in the guest, file on this host) for dhcpcd and what it loads; symlinks resolved."""
    binary = require_file(DHCPCD, DHCPCD_PACKAGE)
    return [("usr/sbin/dhcpcd", binary)] + [(str(lib).lstrip("/"), lib.resolve()) for lib in libraries(binary)]
