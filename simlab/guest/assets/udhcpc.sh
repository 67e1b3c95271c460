#!/bin/sh
# udhcpc event script: configures the NIC and reports each lease event on the console.
# udhcpc passes the event as $1 and the lease in the environment (interface ip subnet mask
# router dns ntpsrv hostname domain lease).
. /etc/ocplab/lib.sh
R=/run/ocplab
st="$R/dhcp.$interface"

# Prefix length from $mask (busybox >= 1.20 sets it) or from the dotted $subnet.
prefix() {
    if [ -n "$mask" ]; then echo "$mask"; return; fi
    ipcalc -p "$ip" "$subnet" | sed 's/^PREFIX=//'
}

configure() {
    bits=$(prefix)
    ip addr flush dev "$interface" scope global
    ip addr add "$ip/$bits" dev "$interface"
    if [ -n "$router" ]; then
        set -- $router
        ifindex=$(cat "/sys/class/net/$interface/ifindex")
        ip route replace default via "$1" dev "$interface" metric $((100 + ifindex))
    fi
    if [ -n "$dns" ]; then
        {
            [ -n "$domain" ] && echo "search $domain"
            for s in $dns; do echo "nameserver $s"; done
        } >/etc/resolv.conf
    fi
    # cloud-init's hostname, when there is one, wins (as a static hostname would on RHCOS).
    if [ -n "$hostname" ] && [ ! -e "$R/hostname.static" ] && [ "$(hostname)" != "$hostname" ]; then
        hostname "$hostname"
        say "hostname name=$hostname source=dhcp"
    fi
}

csv() { echo "$*" | tr -s ' ' ','; }

case "$1" in
    deconfig)
        ip addr flush dev "$interface" scope global
        ip link set "$interface" up
        if [ -e "$st.bound" ]; then
            rm -f "$st.bound"
            say "dhcp-lost iface=$interface"
        fi
        ;;
    bound)
        configure
        rm -f "$st.none"
        touch "$st.bound"
        say "dhcp iface=$interface mac=$(cat "/sys/class/net/$interface/address") ip=$ip mask=$bits" \
            "router=$(csv $router) dns=$(csv $dns) ntp=$(csv $ntpsrv) hostname=$hostname domain=$domain" \
            "lease=$lease uptime=$(cut -d' ' -f1 /proc/uptime)"
        ;;
    renew)
        configure
        touch "$st.bound"
        say "dhcp-renew iface=$interface ip=$ip lease=$lease"
        ;;
    leasefail|nak)
        if [ ! -e "$st.bound" ] && [ ! -e "$st.none" ]; then
            touch "$st.none"
            say "dhcp-none iface=$interface"
        fi
        ;;
esac
exit 0
