"""Simulated multi-server lab on one Linux machine, built from namespaces.

A switch netns (ocplab-sw, bridge "lab") cables a jumphost (ocplab-jh, 192.168.16.1) and
hypervisors hv1..hvN (ocplab-hvI, 192.168.16.(10+I)) on 192.168.16.0/24. Each host has its
own mount and UTS namespace: /etc and /var are overlays, /run, /tmp, /root private, so its
daemons (sshd; on hypervisors also udevd, D-Bus, NetworkManager, libvirtd) never write the
machine's files. The root namespace gets no lab address or route.
The outside (ocplab-out, 198.51.100.2/24) stands for the internet: cabled only to the jumphost's
uplink0 (198.51.100.1/24), with no route beyond, it runs as nobody a DNS server for
www.outside.test (every query logged), an HTTP server and an NTP server on its own clock.

Python API (all need root):
    simlab.lab.Simlab(hypervisors=2).up() -> simlab.state.LabState   (also .simlab/lab.json)
    simlab.lab.Simlab().down() -> simlab.teardown.Report             (idempotent)
    simlab.lab.load() -> LabState                                    (the running lab)
    simlab.lab.health(state) -> list[HostHealth]                     (dead daemons, RSS)
    simlab.env.client_env() -> dict[str, str]                        (pulumi/ssh env)
    simlab.clients.run_in_jumphost(cmd) / ssh_run(ip, cmd) / virsh(ip, *args) / libvirt_uri(ip)
CLI: python -m simlab up [--hypervisors N] | down | status | shell | exec <host> -- <cmd...>
"""
