#!/bin/sh
# shellcheck shell=sh
# The mirror's secrets, first of its apply script: the TLS key and the htpasswd line come on stdin (never in the
# script, argv or a log). No input of the script's.
# shellcheck disable=SC2034 # key_b64, htpasswd_line: mirror-apply.sh's
IFS= read -r key_b64 || fail "ocplab mirror: the TLS key did not arrive on stdin"
IFS= read -r htpasswd_line || fail "ocplab mirror: the htpasswd line did not arrive on stdin"
drain_stdin
