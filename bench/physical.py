"""`/usr/bin/python3 bench/physical.py PLAN.json OUT.json`: the physical limit of a cluster deploy.

The same work as `pulumi up` of a cluster stack and the virsh/ssh baseline (the dnsmasq entries,
the provisioning network, each node's overlay volumes, cloud-init ISO, domain and start) with no
engine and no process per step: one persistent libvirt connection (libvirt's Python binding over
`qemu+ssh`, the lab's key and known_hosts) per hypervisor, and one SSH session to the jumphost
running the dnsmasq apply script, in parallel with the volumes; domains start once the entries are
in, all at once over the same connection. Standard library and libvirt only (Debian's
python3-libvirt: the venv cannot see it); the plan (XML, scripts, the ISO) is made beforehand by
bench.physical_plan. Writes seconds per step to OUT.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import libvirt  # type: ignore[import-not-found]


class Timer:
    """Wall seconds and calls per step, from every thread: (step, seconds) pairs, summed at the end."""

    def __init__(self) -> None:
        self.records: list[tuple[str, float]] = []  # list.append is atomic under the GIL

    def add(self, key: str, started: float) -> None:
        self.records.append((key, time.monotonic() - started))

    @property
    def seconds(self) -> dict[str, float]:
        return {key: sum(s for k, s in self.records if k == key) for key, _ in self.records}

    @property
    def calls(self) -> dict[str, int]:
        return {key: sum(1 for k, _ in self.records if k == key) for key, _ in self.records}


def jumphost(plan: dict[str, Any], timer: Timer, result: dict[str, Any]) -> None:
    started = time.monotonic()
    done = subprocess.run(plan["argv"], input=plan["script"], capture_output=True, text=True, timeout=300,
                          check=False)
    timer.add("dnsmasq entries (one ssh session)", started)
    result["rc"], result["out"] = done.returncode, (done.stdout + done.stderr).strip()[-400:]


def upload(conn: Any, volume: Any, path: str) -> None:
    stream = conn.newStream(0)
    size = os.path.getsize(path)
    volume.upload(stream, 0, size, 0)
    with open(path, "rb") as handle:
        stream.sendAll(lambda _stream, nbytes, fh: fh.read(nbytes), handle)
    stream.finish()


def hypervisor(plan: dict[str, Any], timer: Timer, dns_done: threading.Event, uuids: dict[str, str]) -> None:
    started = time.monotonic()
    conn = libvirt.open(plan["uri"])
    timer.add("connect (qemu+ssh)", started)
    started = time.monotonic()
    pool = conn.storagePoolLookupByName(plan["pool"])
    base = {}
    for image, ref in plan["bases"].items():
        base[image] = ref if ref.startswith("/") else pool.storageVolLookupByName(ref).path()
    timer.add("lookups", started)
    for network in plan["networks"]:
        started = time.monotonic()
        net = conn.networkDefineXML(network)
        net.create()
        net.setAutostart(1)
        timer.add("provisioning network", started)
    paths: dict[str, str] = {}
    for volume in plan["volumes"]:
        started = time.monotonic()
        xml = volume["xml"].replace("@BASE@", base.get(volume.get("base", ""), ""))
        created = pool.createXML(xml, 0)
        if volume.get("upload"):
            upload(conn, created, volume["upload"])
        paths[volume["name"]] = created.path()
        timer.add("volumes", started)
    domains = []
    for domain in plan["domains"]:
        started = time.monotonic()
        xml = domain["xml"]
        for name, path in paths.items():
            xml = xml.replace(f"@VOL:{name}@", path)
        domains.append((conn.defineXML(xml), domain["start"]))
        timer.add("define", started)
    dns_done.wait()

    def boot(item: tuple[Any, bool]) -> None:
        dom, start = item
        started = time.monotonic()
        if start:
            dom.create()
        uuids[dom.name()] = dom.UUIDString()
        timer.add("start (in parallel, same connection)", started)

    # QEMU start-up is most of a deploy's wall time: start every domain at once (as the engine's
    # parallel steps do), over the same connection (libvirtd serves concurrent calls).
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, len(domains))) as pool:
        list(pool.map(boot, domains))
    timer.add("all starts (wall)", started)
    conn.close()


def main(argv: list[str]) -> int:
    with open(argv[0]) as handle:
        plan = json.load(handle)
    timer = Timer()
    dns_result: dict[str, Any] = {}
    uuids: dict[str, str] = {}
    dns_done = threading.Event()
    started = time.monotonic()

    def dns() -> None:
        try:
            jumphost(plan["jumphost"], timer, dns_result)
        finally:
            dns_done.set()

    threads = [threading.Thread(target=dns)]
    errors: list[str] = []

    def host(item: dict[str, Any]) -> None:
        try:
            hypervisor(item, timer, dns_done, uuids)
        except libvirt.libvirtError as exc:
            errors.append(f"{item['uri'].split('?')[0]}: {exc}")

    threads += [threading.Thread(target=host, args=(item,)) for item in plan["hypervisors"]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = time.monotonic() - started
    if dns_result.get("rc"):
        errors.append(f"jumphost: {dns_result.get('out')}")
    with open(argv[1], "w") as handle:
        json.dump({"seconds": total, "steps": timer.seconds, "calls": timer.calls, "uuids": uuids,
                   "errors": errors}, handle, indent=2, sort_keys=True)
    for error in errors:
        print(error, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
