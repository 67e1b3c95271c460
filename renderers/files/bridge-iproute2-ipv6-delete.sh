#!/bin/sh
# shellcheck shell=sh
# After the bridge is gone: nic gets back the IPv6 addresses (and default route) br carried for it.
# Inputs (set before this part by renderers/shell.py): nic, br, state_dir, addr6; bridge-common.sh before it
# shellcheck disable=SC2154
if [ -f "$state.orig6" ]; then
  addrs6=""; gw6=""
  # shellcheck source=/dev/null # written by the create script: addrs6= and gw6=, quoted
  . "$state.orig6"
  # shellcheck disable=SC2086 # one word per address
  for a in $addrs6; do ip -6 addr replace "$a" dev "$nic" nodad; done
  [ -z "$gw6" ] || ip -6 route replace default via "$gw6" dev "$nic"
  rm -f "$state.orig6"
fi
echo "ocplab bridge: $nic carries its IPv6 addresses again"
