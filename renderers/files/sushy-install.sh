#!/bin/sh
# shellcheck shell=sh
# Install sushy-tools (pinned) if missing, give this hypervisor a TLS certificate for Redfish, put the
# helper in place, then refuse the installed sushy-tools unless it passes the health check.
# firewalld (if it runs) opens the Redfish slices' ports. A no-op when nothing changed.
# Inputs (set before this part by renderers/shell.py): sushy-common.sh's, requirement, version, helper_b64, address, port_ranges
# shellcheck disable=SC2154
installed() { "$venv/bin/python" -c "import libvirt, importlib.metadata as m, sys
sys.exit(m.version('sushy-tools') != '$version')" >/dev/null 2>&1; }
if ! installed; then
  echo "ocplab sushy: installing $requirement into $venv" >&2
  libvirt_venv "$venv" "$requirement"
fi
# Each cluster's emulator runs as a user of its own (the helper's sync makes it) in two groups: libvirt, whose
# polkit rule (libvirt's own, Debian and RHEL) admits it to qemu:///system, and ocplab-bmc, which lets it reach
# the helper and read the hypervisor's TLS key. clusters/ can be crossed, not listed; each cluster's dir is its own.
getent group libvirt >/dev/null || groupadd --system libvirt || fail "groupadd could not make the group libvirt"
getent group "$group" >/dev/null || groupadd --system "$group" || fail "groupadd could not make the group $group"
mkdir -p "$root/clusters" "$root/bin" "$root/tls"
chown "root:$group" "$root" "$root/clusters" "$root/tls"
chmod 0750 "$root" "$root/tls"
chmod 0710 "$root/clusters"
put "$root/bin/ocplab_sushy.py" "$helper_b64" 0644
# One self-signed certificate per hypervisor, for its address (redhatci.ocp skips verification; our own
# clients check it). Made again only when missing or for another address.
cert="$root/tls/cert.pem" key="$root/tls/key.pem"
if ! openssl x509 -in "$cert" -noout -checkip "$address" 2>/dev/null | grep -q 'does match'; then
  command -v openssl >/dev/null || fail "install openssl"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$address" -addext "subjectAltName=IP:$address" \
    -keyout "$key.new" -out "$cert.new" >/dev/null 2>&1 || fail "openssl could not make $cert"
  chmod 0600 "$key.new"; mv -f "$key.new" "$key"; mv -f "$cert.new" "$cert"
  echo "ocplab sushy: TLS certificate made for $address"
fi
chown "root:$group" "$key" && chmod 0640 "$key"
# Inserted virtual media become volumes of a pool of their own (sushy-tools uploads them), outside the lab's pool.
if ! virsh -q pool-info "$media_pool" >/dev/null 2>&1; then
  virsh -q pool-define-as "$media_pool" dir --target "$media_dir" >/dev/null || fail "virsh could not define the pool $media_pool"
  virsh -q pool-build "$media_pool" >/dev/null || fail "virsh could not make $media_dir for the pool $media_pool"
fi
virsh -q pool-info "$media_pool" | grep -q running || virsh -q pool-start "$media_pool" >/dev/null \
  || fail "virsh could not start the pool $media_pool"
virsh -q pool-autostart "$media_pool" >/dev/null
if command -v firewall-cmd >/dev/null && firewall-cmd --state >/dev/null 2>&1; then
  # shellcheck disable=SC2086 # a list of port ranges, one word each
  for range in $port_ranges; do
    firewall-cmd -q --add-port="$range/tcp" && firewall-cmd -q --permanent --add-port="$range/tcp"
  done
fi
helper check "$version" || fail "refusing the sushy-tools in $venv (above why); install $requirement there"
helper restart-root
