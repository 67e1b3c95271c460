#!/bin/sh
# shellcheck shell=sh
# The lab's image cache, its server: nginx as a system user of its own with no privilege, reading the cache's
# files (root's, 0644, in a root:<its group> 0750 directory: it can change none), on the jumphost's lab address.
# Inputs (set before this part by renderers/shell.py): storage, conf_dir, conf_b64, user, unit, pidfile, log,
# address, port, names, package
# shellcheck disable=SC2154,SC2034 # SC2034: changed, description, exec_start, read_write are the next part's
nginx=$(command -v nginx || true)
if [ -z "$nginx" ] && command -v apt-get >/dev/null; then
  echo "ocplab cache: installing $package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >&2 \
    || fail "ocplab cache: apt-get could not install $package"
  # The package's own nginx (port 80, its own config) is not the lab's: only ours runs.
  if has_systemd; then systemctl disable --now nginx.service >/dev/null 2>&1 || true; fi
  nginx=$(command -v nginx)
fi
[ -n "$nginx" ] || fail "ocplab cache: nginx is not installed on the jumphost: dnf/apt install nginx"
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin --comment "ocplab image cache" "$user" || fail "useradd could not make the user $user"
chown "root:$user" "$storage" && chmod 0750 "$storage"
mkdir -p "$conf_dir" && chown "root:$user" "$conf_dir" && chmod 0750 "$conf_dir"
stage "$conf_dir/nginx.conf" "$conf_b64" 0640
chgrp "$user" "$(staged_path "$conf_dir/nginx.conf")"
changed=yes
if cmp -s "$(staged_path "$conf_dir/nginx.conf")" "$conf_dir/nginx.conf"; then
  changed=no; rm -f "$(staged_path "$conf_dir/nginx.conf")"
else commit "$conf_dir/nginx.conf"; fi
# For service-run.sh, the part after this one.
description="ocplab: the lab's image cache (nginx, read-only)"
exec_start="$nginx -c $conf_dir/nginx.conf -e stderr"
read_write=
