#!/bin/sh
# shellcheck shell=sh
# The jumphost routes the lab out of its uplink: the lab network's traffic is masqueraded out of the
# uplink only, and nothing from the uplink side may open a connection into the lab. firewalld's own policy
# where firewalld runs, else a table of ocplab's own in nftables (nothing else touched). What forwarding
# was before the first apply is kept in state_dir, for route-remove.sh to put back.
# Inputs (set before this part by renderers/shell.py): lab_if, uplink, cidr, state_dir, nft_file, unit, sysctl_file, policy
# shellcheck disable=SC2154
ip link show dev "$uplink" >/dev/null 2>&1 || fail "ocplab:jumphost.uplink: the jumphost has no interface" \
  "'$uplink' (ip -br link lists them): set jumphost.uplink to its interface toward the outside"
ip link show dev "$lab_if" >/dev/null 2>&1 || fail "ocplab:jumphost.interface: the jumphost has no interface '$lab_if'"
mkdir -p "$state_dir" && chmod 0700 "$state_dir"
[ -f "$state_dir/ip_forward.before" ] || cat /proc/sys/net/ipv4/ip_forward > "$state_dir/ip_forward.before"
before=$(cat "$state_dir/ip_forward.before")
if firewalld_runs; then
  zone_of() { firewall-cmd --get-zone-of-interface="$1" 2>/dev/null || firewall-cmd --get-default-zone; }
  lab_zone=$(zone_of "$lab_if"); up_zone=$(zone_of "$uplink")
  [ "$lab_zone" != "$up_zone" ] || fail "ocplab:jumphost.uplink: '$uplink' and the lab interface '$lab_if' are both" \
    "in firewalld zone '$lab_zone': give the uplink a zone of its own (firewall-cmd --permanent --zone=external" \
    "--change-interface=$uplink)"
  # The policy is ours alone: made again each time, so a changed zone or network leaves nothing behind.
  if firewall-cmd --permanent --info-policy="$policy" >/dev/null 2>&1; then
    firewall-cmd --permanent --delete-policy="$policy" >/dev/null
  fi
  firewall-cmd --permanent --new-policy="$policy" >/dev/null
  firewall-cmd --permanent --policy="$policy" --add-ingress-zone="$lab_zone" --add-egress-zone="$up_zone" \
    --set-target=ACCEPT --add-rich-rule="rule family=\"ipv4\" source address=\"$cidr\" masquerade" >/dev/null
  firewall-cmd --reload >/dev/null
  how="firewalld policy $policy ($lab_zone -> $up_zone)"
else
  command -v nft >/dev/null || fail "ocplab: nft is not installed on the jumphost: dnf/apt install nftables"
  # Forwarding that was off stays off for everything but the lab's way out.
  others=accept; [ "$before" = 1 ] || others=drop
  mkdir -p "$(dirname "$nft_file")"
  cat > "$nft_file.new" <<NFT
# Managed by ocplab: the lab's way out through the jumphost. Replaced whole on each apply.
table ip ocplab
delete table ip ocplab
table ip ocplab {
  chain forward {
    type filter hook forward priority filter; policy $others;
    iifname "$uplink" ct state established,related accept
    iifname "$uplink" counter drop comment "nothing from the outside opens a connection into the lab"
    iifname "$lab_if" oifname "$uplink" ip saddr $cidr accept
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "$uplink" ip saddr $cidr masquerade
  }
}
NFT
  nft -c -f "$nft_file.new" || { rm -f "$nft_file.new"; fail "ocplab: the jumphost's nft refused ocplab's table"; }
  mv -f "$nft_file.new" "$nft_file"
  nft -f "$nft_file"
  if has_systemd; then
    # The table again at boot, before the lab's nodes need their way out.
    cat > "/etc/systemd/system/$unit" <<UNIT
[Unit]
Description=ocplab: the lab's way out through the jumphost (NAT out of $uplink)
After=network-pre.target nftables.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=$(command -v nft) -f $nft_file
[Install]
WantedBy=multi-user.target
UNIT
    systemctl daemon-reload && systemctl enable "$unit" >/dev/null 2>&1
  fi
  how="nftables table ip ocplab"
fi
if has_systemd; then printf 'net.ipv4.ip_forward = 1\n' > "$sysctl_file"; fi
echo 1 > /proc/sys/net/ipv4/ip_forward
echo "ocplab: the jumphost routes $cidr out of $uplink ($how; forwarding was $before before ocplab)"
