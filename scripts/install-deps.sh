#!/usr/bin/env bash
# Debian packages for the simulated lab (libvirt/QEMU, NetworkManager, dnsmasq, sshd, udev, D-Bus),
# the guest image (kernel, busybox, syslinux) and the tests (dig, ipmitool, postgresql for the team
# backend, which the tests start in the jumphost namespace; isolinux for the virtual-media test ISO),
# then virtualbmc in /opt/ocplab/vbmc and sushy-tools in /opt/ocplab/sushy, where the lab's scripts
# find them (the simulated hypervisors share this machine's /opt and cannot reach PyPI, so they are
# installed once, ahead of time). Skips what is there.
set -euo pipefail
packages=(
  libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils dnsmasq-base dnsmasq
  network-manager openssh-server openssh-client dbus systemd udev iproute2 iputils-ping procps psmisc
  util-linux kmod cpio genisoimage xorriso xsltproc busybox-static linux-image-amd64 dnsutils ipmitool curl
  syslinux syslinux-common isolinux mtools dosfstools libxml2-utils shellcheck graphviz tmux
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
# virtualbmc, pinned, in the venv renderers/vbmc_scripts.py looks for (Debian's python3-libvirt via
# --system-site-packages, as on RHEL).
vbmc_venv=/opt/ocplab/vbmc vbmc_version=3.3.0
if "$vbmc_venv/bin/python" -c "import libvirt, importlib.metadata as m, sys
sys.exit(m.version('virtualbmc') != '$vbmc_version')" 2>/dev/null; then
  echo "deps: virtualbmc $vbmc_version present in $vbmc_venv"
else
  [ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install virtualbmc into $vbmc_venv" >&2; exit 1; }
  echo "deps: installing virtualbmc $vbmc_version into $vbmc_venv"
  /usr/bin/python3 -m venv --system-site-packages "$vbmc_venv"
  "$vbmc_venv/bin/pip" install -q "virtualbmc==$vbmc_version"
fi
# sushy-tools (Redfish), pinned like renderers/sushy_scripts.py's REQUIREMENT, the same way.
sushy_venv=/opt/ocplab/sushy sushy_version=2.2.0
if "$sushy_venv/bin/python" -c "import libvirt, importlib.metadata as m, sys
sys.exit(m.version('sushy-tools') != '$sushy_version')" 2>/dev/null; then
  echo "deps: sushy-tools $sushy_version present in $sushy_venv"
else
  [ "$(id -u)" -eq 0 ] || { echo "deps: run as root to install sushy-tools into $sushy_venv" >&2; exit 1; }
  echo "deps: installing sushy-tools $sushy_version into $sushy_venv"
  /usr/bin/python3 -m venv --system-site-packages "$sushy_venv"
  "$sushy_venv/bin/pip" install -q "sushy-tools==$sushy_version"
fi
