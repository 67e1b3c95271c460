#!/bin/sh
# shellcheck shell=sh
# br carries nic's global IPv6 addresses and the hypervisor's (addr6, with its prefix), as it carries its IPv4
# ones, with nic's IPv6 default route; recorded once so the removal gives them back.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir, addr6; bridge-common.sh before it
# shellcheck disable=SC2154
ip link show "$br" >/dev/null 2>&1 || fail "$br does not exist to carry $addr6"
if [ ! -f "$state.orig6" ]; then
  addrs6=$(ip -6 -o addr show dev "$nic" scope global | awk '{print $4}' | paste -sd ' ' -)
  case " $addrs6 " in
    *" $addr6 "*) ;;
    *) fail "$nic does not carry $addr6: set the hypervisor's address6 to the IPv6 address its NIC has" ;;
  esac
  gw6=$(ip -6 route show default dev "$nic" | awk '{print $3; exit}')
  printf "addrs6='%s'\ngw6='%s'\n" "$addrs6" "$gw6" > "$state.orig6"
fi
addrs6=""; gw6=""
# shellcheck source=/dev/null # written above: addrs6= and gw6=, quoted
. "$state.orig6"
# shellcheck disable=SC2086 # one word per address
for a in $addrs6; do
  ip -6 addr del "$a" dev "$nic" 2>/dev/null || true; ip -6 addr replace "$a" dev "$br" nodad
done
[ -z "$gw6" ] || ip -6 route replace default via "$gw6" dev "$br"
echo "ocplab bridge: $br carries $addr6"
