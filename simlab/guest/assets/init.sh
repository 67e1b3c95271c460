#!/bin/sh
# /init of the ocplab test guest (busybox sh, PID 1 until it execs busybox init).
# It stands in for an OpenShift node: it reports on the serial console, as machine-readable
# "OCPLAB: ..." lines, what the lab gave it (disks, DHCP leases, the NoCloud seed), so tests
# can check the lab without booting a real RHCOS image.
# Order: devices -> disks -> cloud-init "local" stage (hostname, users) -> DHCP on every NIC in
# the background -> wait (bounded) for each NIC to get a lease or give up -> runcmd -> ready.

PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
R=/run/ocplab
NETWAIT=30          # seconds we wait, at most, for each NIC to settle before runcmd
DISKSETTLE_MAX=40   # quarter-seconds we wait, at most, for block devices to settle

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$R" /var/log /run/dhcpcd
exec </dev/console >/dev/console 2>&1
# Kernel messages would land in the middle of our lines: only emergencies from here on.
dmesg -n 1

. /etc/ocplab/lib.sh

# How this boot came: ocplab.via= on the kernel command line (bios-disk, uefi-disk, uefi-tftp), else empty.
via=$(sed -n 's/.*ocplab\.via=\([a-z-]*\).*/\1/p' /proc/cmdline)
say "boot kernel=$(uname -r) via=$via"
hostname localhost

# Drivers: the list and its order (dependencies first) were worked out at build time.
while read -r mod args; do
    [ -n "$mod" ] || continue
    # shellcheck disable=SC2086  # args are module parameters, split on purpose
    insmod "/lib/modules/ocplab/$mod.ko" $args 2>/dev/null || say "module-failed name=$mod"
done </lib/modules/ocplab/load.list

# SATA/IDE probing is asynchronous: wait until the set of block devices stops changing.
blockdevs() { ls /sys/block 2>/dev/null | tr '\n' ' '; }
prev=$(blockdevs); stable=0; n=0
while [ "$n" -lt "$DISKSETTLE_MAX" ] && [ "$stable" -lt 4 ]; do
    usleep 250000
    cur=$(blockdevs)
    if [ "$cur" = "$prev" ]; then stable=$((stable + 1)); else stable=0; prev=$cur; fi
    n=$((n + 1))
done
for d in /sys/block/*; do
    name=${d##*/}
    [ -e "$d/size" ] || continue
    bytes=$(( $(cat "$d/size") * 512 ))
    case $name in
        loop*|ram*|zram*|fd*|dm-*|md*|nbd*) ;;
        sr*) say "cdrom name=$name bytes=$bytes" ;;
        *) say "disk name=$name bytes=$bytes" ;;
    esac
done

# cloud-init, local stage (before the network, as cloud-init does).
/etc/ocplab/cloudinit.sh local

# Network: DHCP on every Ethernet NIC, each in the background so none can hold up the boot.
ip link set lo up
nics=""
for d in /sys/class/net/*; do
    nic=${d##*/}
    [ "$nic" = lo ] && continue
    [ "$(cat "$d/type" 2>/dev/null)" = 1 ] || continue
    nics="$nics $nic"
    say "nic iface=$nic mac=$(cat "$d/address")"
    ip link set "$nic" up
    # -t/-T: 4 discovers 2 s apart, then "leasefail" (-> dhcp-none); -A: retry every 5 s forever.
    # -O ntpsrv: ask for the NTP servers (option 42), as NetworkManager on RHCOS does.
    udhcpc -f -i "$nic" -s /etc/ocplab/udhcpc.sh -t 4 -T 2 -A 5 -O ntpsrv >"/var/log/udhcpc.$nic.log" 2>&1 &
    # IPv6: dhcpcd follows the router advertisements; where they say "managed" it takes its DHCPv6 lease.
    # Nothing waits for it: an IPv4-only lab sends none.
    dhcpcd -6 -B -f /etc/ocplab/dhcpcd.conf -c /etc/ocplab/dhcpcd6.sh "$nic" >"/var/log/dhcpcd.$nic.log" 2>&1 &
done
[ -n "$nics" ] || say "nic none"

n=0
while [ "$n" -lt $((NETWAIT * 4)) ]; do
    settled=1
    for nic in $nics; do
        [ -e "$R/dhcp.$nic.bound" ] || [ -e "$R/dhcp.$nic.none" ] || settled=0
    done
    [ "$settled" = 1 ] && break
    usleep 250000
    n=$((n + 1))
done

# cloud-init, final stage (runcmd, user scripts), after the network is up.
/etc/ocplab/cloudinit.sh final

echo "ocplab guest up $(cut -d' ' -f1 /proc/uptime) s after kernel start, hostname $(hostname)"
say "ready"
# busybox init reaps orphans and keeps a shell on the serial console for humans.
exec /sbin/init
