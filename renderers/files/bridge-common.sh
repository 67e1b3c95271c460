#!/bin/sh
# shellcheck shell=sh
# Shared by the bridge scripts: checks and the settings both backends apply.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir
# shellcheck disable=SC2154
# shellcheck disable=SC2034 # state: read by the backend part that follows
state=$state_dir/bridge-$br
mkdir -p "$state_dir"
fail() { echo "ocplab bridge: $*" >&2; exit 1; }
[ -e "/sys/class/net/$nic" ] || fail "NIC $nic does not exist on $(hostname); set the hypervisor's nic"
zero_forward_delay() {
  # NetworkManager only accepts 2-30 s for bridge.forward-delay: set 0 at runtime, and keep it
  # across reconnects and reboots with a dispatcher hook (RHEL runs NetworkManager-dispatcher).
  ip link set "$br" type bridge forward_delay 0
  if [ -d /etc/NetworkManager ]; then
    mkdir -p /etc/NetworkManager/dispatcher.d
    # shellcheck disable=SC2016 # $1 and $2 belong to the dispatcher hook
    printf '#!/bin/sh
[ "$1" = %s ] && [ "$2" = up ] && ip link set %s type bridge forward_delay 0
exit 0
'       "$br" "$br" > "/etc/NetworkManager/dispatcher.d/50-ocplab-$br"
    chmod 0755 "/etc/NetworkManager/dispatcher.d/50-ocplab-$br"
  fi
}
bridge_nf_off() {
  # Bridged DHCP must not be filtered by iptables: the VMs' DHCP goes through the bridge.
  for f in /proc/sys/net/bridge/bridge-nf-call-iptables /proc/sys/net/bridge/bridge-nf-call-ip6tables \
           /proc/sys/net/bridge/bridge-nf-call-arptables; do
    if [ -w "$f" ]; then echo 0 > "$f" || true; fi
  done
  mkdir -p /etc/sysctl.d
  for k in iptables ip6tables arptables; do echo "net.bridge.bridge-nf-call-$k = 0"; done \
    > /etc/sysctl.d/99-ocplab-bridge.conf
}
