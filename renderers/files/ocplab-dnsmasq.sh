#!/bin/sh
# ocplab-dnsmasq: runs the lab's own dnsmasq on the jumphost, with systemd or without it.
#   test [CONF]     dnsmasq --test of the config (and its conf-dir)
#   start|restart   (re)start; the lease file keeps every lease across a restart
#   reload          SIGHUP: re-read hostsdir/dhcp-hostsdir files (removals need it)
#   stop            stop it and remove the unit
#   status          exit 0 when it runs
set -eu
conf=/etc/ocplab/dnsmasq.conf
pidfile=/run/ocplab-dnsmasq.pid
unit=ocplab-dnsmasq.service
has_systemd() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null; }
pid() { [ -f "$pidfile" ] && p=$(cat "$pidfile") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"; }
write_unit() {
  cat > /etc/systemd/system/$unit <<UNIT
[Unit]
Description=dnsmasq of the ocplab lab (DHCP by MAC and DNS for cluster VMs)
After=network-online.target
Wants=network-online.target
[Service]
ExecStartPre=/usr/sbin/dnsmasq --test --conf-file=$conf
ExecStart=/usr/sbin/dnsmasq -k --conf-file=$conf
ExecReload=/bin/kill -HUP \$MAINPID
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
  systemctl daemon-reload
}
# Wait for the daemon to go (5 s at most), so a start right after a stop finds port 53 free.
stop_pid() {
  kill "$1"; i=0
  while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
}
case "${1:-}" in
  test) dnsmasq --test --conf-file="${2:-$conf}" ;;
  start|restart)
    mkdir -p /var/lib/ocplab
    dnsmasq --test --conf-file="$conf" >/dev/null 2>&1 || { dnsmasq --test --conf-file="$conf"; exit 1; }
    if has_systemd; then write_unit; systemctl enable "$unit" >/dev/null 2>&1 || true; systemctl restart "$unit"
    else
      if p=$(pid); then stop_pid "$p"; fi
      # setsid: the daemon must outlive the SSH session that started it.
      setsid dnsmasq --conf-file="$conf" </dev/null >/dev/null 2>&1
    fi ;;
  reload)
    if has_systemd; then systemctl reload "$unit"
    elif p=$(pid); then kill -HUP "$p"
    else echo "ocplab-dnsmasq: not running; run the lab stack's pulumi up" >&2; exit 1; fi ;;
  stop)
    if has_systemd; then systemctl disable --now "$unit" >/dev/null 2>&1 || true; rm -f /etc/systemd/system/$unit; systemctl daemon-reload
    elif p=$(pid); then stop_pid "$p"; fi
    rm -f "$pidfile" ;;
  status) if has_systemd; then systemctl is-active --quiet "$unit"; else pid >/dev/null; fi ;;
  *) echo "usage: ocplab-dnsmasq test|start|restart|reload|stop|status" >&2; exit 2 ;;
esac
