#!/bin/sh
# shellcheck shell=sh
# Shared by the sushy scripts: where sushy-tools and the helper live.
# Inputs (set before this part by renderers/shell.py): venv, root, helper, media_pool, media_dir, group
# shellcheck disable=SC2154
fail() { echo "ocplab sushy: $*" >&2; exit 1; }
helper() { OCPLAB_SUSHY_ROOT="$root" "$venv/bin/python" "$helper" "$@"; }
