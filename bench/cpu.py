"""Where the machine's CPU went during a measurement: every simulated host shares this machine's
cores, so a wall time only means something next to how busy the cores were and who used them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
GUEST_COMM = "qemu-system-x86"  # /proc/<pid>/stat truncates comm to 15 characters


def busy_ticks(proc_stat: str) -> int:
    """Ticks the cores spent not idle (user, nice, system, irq, softirq, steal) from /proc/stat."""
    fields = proc_stat.splitlines()[0].split()
    if fields[0] != "cpu":
        raise ValueError("the first line of /proc/stat is the 'cpu' total")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return user + nice + system + irq + softirq + steal


def process_ticks(pid_stat: str) -> tuple[str, int]:
    """(comm, utime + stime) of a /proc/<pid>/stat line (comm may hold spaces and parentheses)."""
    comm = pid_stat[pid_stat.index("(") + 1:pid_stat.rindex(")")]
    rest = pid_stat[pid_stat.rindex(")") + 2:].split()
    return comm, int(rest[11]) + int(rest[12])  # fields 14 and 15 of proc(5), counted after comm and state


def guest_ticks_by_pid() -> dict[int, int]:
    """CPU ticks used so far by each running QEMU guest on this machine, by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, ticks = process_ticks((entry / "stat").read_text())
        except (OSError, ValueError):
            continue
        if comm == GUEST_COMM:
            found[int(entry.name)] = ticks
    return found


def guest_ticks() -> int:
    """CPU ticks used so far by every running QEMU guest on this machine."""
    return sum(guest_ticks_by_pid().values())


class GuestSampler:
    """QEMU guests' ticks, sampled by pid while a block runs: a guest that starts and stops inside the block
    still counts. terraform-provider-libvirt 0.8.1 starts every domain it creates, `running = false` or
    not, and destroys it at the end of the create (dmacvicar/terraform-provider-libvirt#860): read only at
    the block's end, those guests were invisible."""

    def __init__(self, read: Callable[[], dict[int, int]] = guest_ticks_by_pid, interval: float = 0.2) -> None:
        self._read, self._interval = read, interval
        self.base = read()
        self.last = dict(self.base)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> None:
        for pid, ticks in self._read().items():
            self.last[pid] = max(self.last.get(pid, 0), ticks)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self.sample()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="guest-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> tuple[int, int]:
        """(ticks the guests used in the block, guests started in it)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.sample()
        used = sum(ticks - self.base.get(pid, 0) for pid, ticks in self.last.items())
        return used, len(self.last.keys() - self.base.keys())


@dataclass
class CpuUse:
    """Wall seconds, CPU-seconds used by the whole machine and by QEMU guests, over a block."""

    wall: float = 0.0
    busy: float = 0.0
    guests: float = 0.0
    guest_starts: int = 0

    @property
    def busy_fraction(self) -> float:
        """Of all cores: 1.0 means every core was busy the whole time."""
        return self.busy / (self.wall * (os.cpu_count() or 1)) if self.wall else 0.0

    def describe(self) -> str:
        return (f"cores {self.busy_fraction:.0%} busy: {self.busy:.0f} CPU-s, {self.guests:.0f} of them "
                f"in TCG guests ({self.guest_starts} QEMU processes started)")


@contextmanager
def measured(read: Callable[[], dict[int, int]] = guest_ticks_by_pid, interval: float = 0.2) -> Iterator[CpuUse]:
    """Fill a CpuUse with what the machine did during the block, guests sampled by pid (GuestSampler)."""
    use = CpuUse()
    sampler = GuestSampler(read, interval)
    started, busy0 = time.monotonic(), busy_ticks(Path("/proc/stat").read_text())
    sampler.start()
    try:
        yield use
    finally:
        ticks, use.guest_starts = sampler.stop()
        use.wall = time.monotonic() - started
        use.busy = (busy_ticks(Path("/proc/stat").read_text()) - busy0) / TICKS
        use.guests = ticks / TICKS


# Seven booted, idle TCG guests of the seed take about 7% of one core together (143 ticks in 20 s: timer ticks, and
# udhcpc retrying on the provisioning NIC, which has no DHCP server): a 5% share was met only in a lucky window, so
# half the runs gave up at the limit and measured the no-op beside booting guests. One booting guest takes a core.
SETTLED_SHARE = 0.15


def guests_settled(window: float = 2.0, share: float = SETTLED_SHARE, limit: float = 120.0,
                   ticks: Callable[[], int] = guest_ticks, sleep: Callable[[float], None] = time.sleep) -> float:
    """Wait until the QEMU guests together use less than `share` of one core over `window` seconds (booting
    TCG guests share the engine's 2 cores here, which a real lab's hypervisors would not); at most `limit`
    seconds. Returns the seconds waited."""
    waited = 0.0
    while waited < limit:
        before = ticks()
        sleep(window)
        waited += window
        if (ticks() - before) / TICKS < share * window:
            break
    return waited
