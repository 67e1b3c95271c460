#!/bin/sh
# shellcheck shell=sh
# A hypervisor with an IPv6 address: its Redfish certificate names both its addresses, so a client that checks
# it reaches an emulator on either (an IPv6-only cluster's is on the IPv6 one). Made again (same key) only when it
# lacks the IPv6 address; an emulator already running serves the old one until its cluster's next change.
# Inputs (set before this part by renderers/shell.py): sushy-common.sh's, address, address6; sushy-install.sh before it
# shellcheck disable=SC2154
cert="$root/tls/cert.pem" key="$root/tls/key.pem"
if ! openssl x509 -in "$cert" -noout -checkip "$address6" 2>/dev/null | grep -q 'does match'; then
  openssl req -x509 -key "$key" -days 3650 -subj "/CN=$address" -addext "subjectAltName=IP:$address,IP:$address6" \
    -out "$cert.new" >/dev/null 2>&1 || fail "openssl could not make $cert for $address6"
  mv -f "$cert.new" "$cert"
  echo "ocplab sushy: TLS certificate made for $address and $address6"
fi
