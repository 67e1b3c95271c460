"""Each simulated host makes its system users in a uid/gid band of its own (the hosts share one PID namespace)."""

from __future__ import annotations

import re

from simlab.hostfs import login_defs_text
from simlab.topology import MAX_HYPERVISORS, plan

DEBIAN = "UMASK\t\t022\n#SYS_UID_MIN\t\t  100\n#SYS_UID_MAX\t\t  999\nSYS_GID_MIN 200\n"


def band(text: str) -> tuple[int, int, int, int]:
    found = dict(re.findall(r"^(SYS_[UG]ID_M[AI][XN]) (\d+)$", text, re.MULTILINE))
    return (int(found["SYS_UID_MIN"]), int(found["SYS_UID_MAX"]), int(found["SYS_GID_MIN"]),
            int(found["SYS_GID_MAX"]))


def test_no_two_hosts_of_the_largest_lab_share_a_system_uid_or_gid() -> None:
    bands = [band(login_defs_text(DEBIAN, host)) for host in plan(MAX_HYPERVISORS)]
    ids = [set(range(low, high + 1)) for low, high, _, _ in bands]
    assert all(not a & b for i, a in enumerate(ids) for b in ids[i + 1:])
    assert all(uid == gid for uid, gid in ((b[0], b[2]) for b in bands))
    assert min(b[0] for b in bands) >= 100 and max(b[1] for b in bands) <= 999, "inside Debian's system range"
    assert bands[0] == (958, 999, 958, 999), "the jumphost keeps the top of the range"


def test_the_machines_settings_are_kept_and_its_own_system_id_lines_replaced() -> None:
    text = login_defs_text(DEBIAN, plan(2, ipv6_only=True)[2])
    assert text.startswith("UMASK\t\t022\n#SYS_UID_MIN\t\t  100\n#SYS_UID_MAX\t\t  999\n")
    assert "SYS_GID_MIN 200" not in text and band(text) == (874, 915, 874, 915)
