#!/usr/bin/env bash
# Debian packages for the simulated lab (libvirt/QEMU, NetworkManager, dnsmasq, sshd, udev, D-Bus),
# the guest image (kernel, busybox, syslinux) and the tests (dig, ipmitool). Skips what is there.
set -euo pipefail
packages=(
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base dnsmasq
  network-manager openssh-server openssh-client dbus systemd udev iproute2 iputils-ping procps psmisc
  util-linux kmod cpio genisoimage xorriso xsltproc busybox-static linux-image-amd64 dnsutils ipmitool curl
  syslinux syslinux-common mtools dosfstools
  python3-venv
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#packages[@]} Debian packages present"; exit 0; fi
[ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
echo "deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
