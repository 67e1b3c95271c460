#!/bin/sh
# shellcheck shell=sh
# Stop the cluster's console collector and delete its logs and config (the cluster is being destroyed).
# Inputs (set before this part by renderers/shell.py): cluster, control
# shellcheck disable=SC2154
if [ -x "$control" ]; then "$control" remove "$cluster"; fi
echo "ocplab: console logs of $cluster removed"
