#!/bin/sh
# shellcheck shell=sh
# A hypervisor's domains (all, running), pools, the lab pool's volumes, networks (all, active), the
# lab vbmcd's entries, the vbmc helper's cluster records and the clusters' Redfish emulators.
# Inputs (set before this part by renderers/shell.py): pool, vbmc, vbmc_conf, vbmc_records, sushy_records
# shellcheck disable=SC2154
virsh() { command virsh -c qemu:///system "$@"; }
bmcs() {
  if [ ! -x "$vbmc" ]; then echo "no vbmc at $vbmc"; return 3; fi
  VIRTUALBMC_CONFIG="$vbmc_conf" "$vbmc" list -f value
}
listing domains virsh -q list --all --name
listing running virsh -q list --name
listing pools virsh -q pool-list --all --name
listing volumes virsh -q vol-list --pool "$pool"
listing networks virsh -q net-list --all --name
listing active-networks virsh -q net-list --name
listing bmcs bmcs
listing bmc-records entries "$vbmc_records"
listing redfish entries "$sushy_records"
