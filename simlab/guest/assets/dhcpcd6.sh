#!/bin/sh
# dhcpcd event script (DHCPv6): dhcpcd has already set the address; this reports each lease event on the
# console. dhcpcd passes the event as $reason and the lease as new_dhcp6_* variables.
# shellcheck disable=SC2154  # interface, reason and new_dhcp6_*: dhcpcd's environment
# shellcheck source=/dev/null
. /etc/ocplab/lib.sh
R=/run/ocplab
st="$R/dhcp6.$interface"

csv() { echo "$*" | tr -s ' ' ','; }
# The IPv6 default route the router advertisements gave (empty where they carry none).
router6() { ip -6 route show default dev "$interface" | awk '{ print $3; exit }'; }

case "$reason" in
    BOUND6|REBOOT6)
        touch "$st.bound"
        say "dhcp6 iface=$interface mac=$(cat "/sys/class/net/$interface/address")" \
            "ip6=$new_dhcp6_ia_na1_ia_addr1 router=$(router6) dns=$(csv "$new_dhcp6_name_servers")" \
            "domain=$(csv "$new_dhcp6_domain_search") lease=$new_dhcp6_ia_na1_ia_addr1_vltime" \
            "uptime=$(cut -d' ' -f1 /proc/uptime)"
        ;;
    RENEW6|REBIND6)
        say "dhcp6-renew iface=$interface ip6=$new_dhcp6_ia_na1_ia_addr1 lease=$new_dhcp6_ia_na1_ia_addr1_vltime"
        ;;
    EXPIRE6|RELEASE6|STOP6)
        if [ -e "$st.bound" ]; then
            rm -f "$st.bound"
            say "dhcp6-lost iface=$interface"
        fi
        ;;
esac
exit 0
