"""Shell scripts that put a hypervisor's lab IP on a Linux bridge enslaving its NIC, and back.

They run on the hypervisor over SSH (pulumi-command remote.Command create/delete), so they are
idempotent, keep the SSH session alive while the address moves, and record what they replaced
under /etc/ocplab so `delete` restores exactly the original networking.
"""

from __future__ import annotations

import shlex

STATE_DIR = "/etc/ocplab"

_COMMON = """set -eu
nic={nic}; br={br}; state={state}/bridge-$br
mkdir -p {state}
fail() {{ echo "ocplab bridge: $*" >&2; exit 1; }}
[ -e /sys/class/net/$nic ] || fail "NIC $nic does not exist on $(hostname); set the hypervisor's nic"
zero_forward_delay() {{
  # NetworkManager only accepts 2-30 s for bridge.forward-delay: set 0 at runtime, and keep it
  # across reconnects and reboots with a dispatcher hook (RHEL runs NetworkManager-dispatcher).
  ip link set "$br" type bridge forward_delay 0
  if [ -d /etc/NetworkManager ]; then
    mkdir -p /etc/NetworkManager/dispatcher.d
    printf '#!/bin/sh\n[ "$1" = %s ] && [ "$2" = up ] && ip link set %s type bridge forward_delay 0\nexit 0\n' \
      "$br" "$br" > /etc/NetworkManager/dispatcher.d/50-ocplab-$br
    chmod 0755 /etc/NetworkManager/dispatcher.d/50-ocplab-$br
  fi
}}
bridge_nf_off() {{
  # Bridged DHCP must not be filtered by iptables: the VMs' DHCP goes through the bridge.
  for f in /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables \\
           /proc/sys/net/bridge/bridge-nf-call-arptables; do
    [ -w "$f" ] && echo 0 > "$f" || true
  done
  mkdir -p /etc/sysctl.d
  for k in iptables ip6tables arptables; do echo "net.bridge.bridge-nf-call-$k = 0"; done \\
    > /etc/sysctl.d/99-ocplab-bridge.conf
}}
"""

_NMCLI_CREATE = """
command -v nmcli >/dev/null || fail "nmcli not found: install NetworkManager or use bridge_backend: iproute2"
if [ "$(nmcli -g GENERAL.CONNECTION dev show "$nic" 2>/dev/null)" = "ocplab-$br-port" ] \\
   && nmcli -g GENERAL.STATE dev show "$br" 2>/dev/null | grep -q '^100'; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already carries $nic"; exit 0
fi
orig=$(nmcli -g GENERAL.CONNECTION dev show "$nic")
[ -n "$orig" ] || fail "$nic has no active NetworkManager connection to take the address from"
printf '%s\\n' "$orig" > "$state.orig"
method=$(nmcli -g ipv4.method con show "$orig")
addrs=$(nmcli -g ipv4.addresses con show "$orig" | tr -d ' ')
gw=$(nmcli -g ipv4.gateway con show "$orig")
dns=$(nmcli -g ipv4.dns con show "$orig" | tr -d ' ')
if [ "$method" = manual ] && [ -z "$addrs" ]; then
  fail "connection $orig of $nic has method manual but no address"
fi
nmcli con delete "ocplab-$br" "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con add type bridge ifname "$br" con-name "ocplab-$br" autoconnect yes \\
  bridge.stp no bridge.forward-delay 0 ipv4.method "$method" \\
  ${{addrs:+ipv4.addresses "$addrs"}} ${{gw:+ipv4.gateway "$gw"}} ${{dns:+ipv4.dns "$dns"}} \\
  ipv6.method disabled >/dev/null
nmcli con add type ethernet ifname "$nic" con-name "ocplab-$br-port" master "$br" \\
  slave-type bridge autoconnect yes >/dev/null
nmcli con modify "$orig" connection.autoconnect no
nmcli con up "ocplab-$br" >/dev/null
nmcli con up "ocplab-$br-port" >/dev/null
zero_forward_delay
bridge_nf_off
echo "ocplab bridge: $br now carries $nic and ${{addrs:-its DHCP address}}"
"""

_NMCLI_DELETE = """
command -v nmcli >/dev/null || fail "nmcli not found"
if [ -f "$state.orig" ]; then
  orig=$(cat "$state.orig")
  nmcli con modify "$orig" connection.autoconnect yes
  nmcli con up "$orig" >/dev/null
fi
nmcli con delete "ocplab-$br-port" >/dev/null 2>&1 || true
nmcli con delete "ocplab-$br" >/dev/null 2>&1 || true
rm -f "$state.orig" /etc/sysctl.d/99-ocplab-bridge.conf /etc/NetworkManager/dispatcher.d/50-ocplab-$br
echo "ocplab bridge: $nic carries its own address again"
"""

_IPROUTE_CREATE = """
if [ "$(cat /sys/class/net/$nic/master/uevent 2>/dev/null | sed -n 's/^INTERFACE=//p')" = "$br" ]; then
  zero_forward_delay; bridge_nf_off; echo "ocplab bridge: $br already carries $nic"; exit 0
fi
addrs=$(ip -4 -o addr show dev "$nic" | awk '{{print $4}}')
gw=$(ip -4 route show default dev "$nic" | awk '{{print $3; exit}}')
[ -n "$addrs" ] || fail "$nic has no IPv4 address to move to $br"
printf 'addrs=%s\\ngw=%s\\n' "$(echo $addrs)" "$gw" > "$state.orig"
ip link show "$br" >/dev/null 2>&1 || ip link add "$br" type bridge stp_state 0 forward_delay 0
ip link set "$br" address "$(cat /sys/class/net/$nic/address)"
ip link set "$br" up
ip link set "$nic" master "$br"
for a in $addrs; do ip addr add "$a" dev "$br"; ip addr del "$a" dev "$nic"; done
[ -z "$gw" ] || ip route replace default via "$gw" dev "$br"
bridge_nf_off
echo "ocplab bridge: $br now carries $nic and $(echo $addrs)"
"""

_IPROUTE_DELETE = """
if [ -f "$state.orig" ]; then
  . "$state.orig"
  for a in $addrs; do
    ip addr add "$a" dev "$nic" 2>/dev/null || true; ip addr del "$a" dev "$br" 2>/dev/null || true
  done
  [ -z "$gw" ] || ip route replace default via "$gw" dev "$nic"
fi
ip link set "$nic" nomaster 2>/dev/null || true
ip link del "$br" 2>/dev/null || true
rm -f "$state.orig" /etc/sysctl.d/99-ocplab-bridge.conf
echo "ocplab bridge: $nic carries its own address again"
"""

_BODIES = {
    "nmcli": (_NMCLI_CREATE, _NMCLI_DELETE),
    "iproute2": (_IPROUTE_CREATE, _IPROUTE_DELETE),
}


def _render(body: str, nic: str, bridge: str) -> str:
    head = _COMMON.format(nic=shlex.quote(nic), br=shlex.quote(bridge), state=STATE_DIR)
    return head + body.format()


def bridge_create_script(backend: str, nic: str, bridge: str) -> str:
    """Script that makes `bridge` enslave `nic` and carry its address; safe to run twice."""
    return _render(_BODIES[backend][0], nic, bridge)


def bridge_delete_script(backend: str, nic: str, bridge: str) -> str:
    """Script that gives `nic` its original address back and removes `bridge`."""
    return _render(_BODIES[backend][1], nic, bridge)
