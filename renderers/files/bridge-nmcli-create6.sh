#!/bin/sh
# shellcheck shell=sh
# An IPv6-only lab: the bridge profile starts with no address (IPv4 off for good, IPv6 off until the IPv6 part,
# bridge-nmcli-ipv6.sh, gives it the NIC profile's IPv6 addresses, gateway and DNS and addr6 by device reapply):
# NetworkManager brings a bridge without a port up at once only so (before IPv6 on a bridge it waits for a carrier,
# which only the port gives). The host is unreachable from the port's activation to that reapply (seconds): the
# script runs on, and the SSH session's TCP outlasts it.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir, addr6; bridge-common.sh and
# bridge-nmcli-orig.sh before it, bridge-nmcli-enslave.sh and bridge-nmcli-ipv6.sh after it
# shellcheck disable=SC2154
[ -z "$(ip -4 -o addr show dev "$nic")" ] || fail "$nic has an IPv4 address and the lab is IPv6-only: give" \
  "the lab network.cidr and the hypervisor its address, or take IPv4 off $nic"
nmcli con delete "ocplab-$br" "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con add type bridge ifname "$br" con-name "ocplab-$br" autoconnect yes \
  bridge.stp no bridge.forward-delay 0 ipv4.method disabled ipv6.method disabled >/dev/null
# shellcheck disable=SC2034 # addrs: read by bridge-nmcli-enslave.sh, for its message
addrs="no address until the IPv6 part ($addr6)"
