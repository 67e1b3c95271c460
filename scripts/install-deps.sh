#!/usr/bin/env bash
# Debian packages for the simulated lab (libvirt/QEMU, NetworkManager, dnsmasq, sshd, udev, D-Bus, tini to reap
# what each simulated host's daemons leave, chrony
# for the jumphost's and the outside namespace's NTP servers, nftables for the jumphost's NAT; Debian
# leaves nftables.service disabled, so installing it changes no firewall; docker-registry for the jumphost's
# mirror and nginx-light for its image cache, which their remote scripts cannot fetch from the namespace;
# skopeo and umoci for the mirror tests),
# the guest image (kernel, busybox, dhcpcd for its DHCPv6 leases, syslinux, GRUB EFI for its UEFI boot) and the tests (dig, ipmitool, postgresql for the team
# backend, which the tests start in the jumphost namespace; GRUB EFI, mtools and xorriso for the virtual-media test ISO),
# then virtualbmc in /opt/ocplab/vbmc and sushy-tools in /opt/ocplab/sushy, where the lab's scripts
# find them (the simulated hypervisors share this machine's /opt and cannot reach PyPI, so they are
# installed once, ahead of time). Skips what is there.
set -euo pipefail
packages=(
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base dnsmasq
  network-manager openssh-server openssh-client dbus systemd udev iproute2 iputils-ping procps psmisc
  util-linux tini kmod cpio genisoimage xorriso xsltproc busybox-static dhcpcd-base linux-image-amd64 dnsutils ipmitool curl
  syslinux syslinux-common mtools dosfstools libxml2-utils shellcheck graphviz tmux
  chrony nftables
  docker-registry skopeo umoci nginx-light
  grub-efi-amd64-bin grub-common ovmf
  python3-venv
  python3-libvirt
  postgresql
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "deps: all ${#packages[@]} Debian packages present"
else
  [ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
  echo "deps: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# pinned_venv NAME VERSION VENV: the Python package NAME==VERSION in VENV, which sees Debian's
# python3-libvirt (--system-site-packages, as on RHEL): virtualbmc where renderers/vbmc_scripts.py looks
# for it, sushy-tools (Redfish) where renderers/sushy_scripts.py does, each pinned as those files pin it.
pinned_venv() {
  if "$3/bin/python" -c "import libvirt, importlib.metadata as m, sys
sys.exit(m.version('$1') != '$2')" 2>/dev/null; then
    echo "deps: $1 $2 present in $3"
  else
    [ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install $1 into $3" >&2; exit 1; }
    echo "deps: installing $1 $2 into $3"
    /usr/bin/python3 -m venv --system-site-packages "$3"
    "$3/bin/pip" install -q "$1==$2"
  fi
}
pinned_venv virtualbmc 3.3.0 /opt/ocplab/vbmc
pinned_venv sushy-tools 2.2.0 /opt/ocplab/sushy
