# shellcheck shell=bash disable=SC2034,SC2154 # top, logs, started: the sourcing script's; part: set by it
# Sourced first by build.sh and registry.sh (after setting `part`, the name their messages start with): where the
# project is, the pins of versions.env, the logs' folder, and one way to say things and to stop with the fix.
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=versions.env
. "$here/versions.env"
logs="$top/.engine/logs"
started=$(date +%s)

say() { printf '%s: %s\n' "$part" "$*" >&2; }
die() { say "$1"; [ $# -lt 2 ] || say "fix: $2"; exit 1; }
