#!/bin/sh
# shellcheck shell=sh
# libvirt_venv VENV REQUIREMENT: a virtualenv that sees the distribution's libvirt binding (installed
# with dnf or apt-get if missing), with REQUIREMENT pip-installed; a venv this call made is removed
# again when pip fails. Shared by the vbmc and sushy install scripts, which say when it is needed.
# Inputs: fail() from the script's common part
libvirt_venv() {
  if ! /usr/bin/python3 -c 'import libvirt' >/dev/null 2>&1; then
    if command -v dnf >/dev/null; then
      dnf install -y -q python3-libvirt >/dev/null || fail "dnf install python3-libvirt failed"
    elif command -v apt-get >/dev/null; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-libvirt python3-venv >/dev/null \
        || fail "apt-get install python3-libvirt python3-venv failed"
    else fail "install the distribution's python3-libvirt package"; fi
  fi
  created=no; [ -d "$1" ] || created=yes
  /usr/bin/python3 -m venv --system-site-packages "$1" || fail "python3 -m venv failed: install python3-venv"
  if ! "$1/bin/pip" install -q "$2" >&2; then
    [ $created = no ] || rm -rf "$1"
    fail "pip could not install $2 into $1; provide it there (python3 -m venv \
--system-site-packages $1 && $1/bin/pip install '$2') and run again"
  fi
}
