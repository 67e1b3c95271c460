#!/bin/sh
# shellcheck shell=sh
# The lab's mirror registry on the jumphost: the CNCF distribution registry (ocplab's build: mirror-bundled.sh, or
# the distribution's package: mirror-package.sh, the part before this one), as a system user of its own with no
# privilege, TLS with the lab CA's certificate, htpasswd (bcrypt) logins. The TLS key and the htpasswd line come
# from mirror-login.sh; the storage directory is never emptied here. A no-op when nothing changed and it runs.
# Inputs (set before this part by renderers/shell.py): conf_dir, conf_b64, cert_b64, ca_b64, storage, user,
# unit, pidfile, log, host, address, port; registry (words: the command that runs the registry), key_b64 and
# htpasswd_line from the parts before.
# shellcheck disable=SC2154,SC2034 # SC2034: changed, description, exec_start, read_write are the next part's
command -v curl >/dev/null || fail "ocplab mirror: curl is not installed on the jumphost (its health check): dnf/apt install curl"
id -u "$user" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin --comment "ocplab mirror registry" "$user" || fail "useradd could not make the user $user"
# Its files: root's, readable by its group only; it can change none of them.
mkdir -p "$conf_dir" && chown "root:$user" "$conf_dir" && chmod 0750 "$conf_dir"
changed=no
place() {  # place NAME MODE: the staged file of $conf_dir/NAME into place, root:$user; changed=yes if it differs
  chgrp "$user" "$(staged_path "$conf_dir/$1")" && chmod "$2" "$(staged_path "$conf_dir/$1")"
  if cmp -s "$(staged_path "$conf_dir/$1")" "$conf_dir/$1"; then rm -f "$(staged_path "$conf_dir/$1")"
  else commit "$conf_dir/$1"; changed=yes; fi
}
stage "$conf_dir/config.yml" "$conf_b64" 0640 && place config.yml 0640
stage "$conf_dir/tls.crt" "$cert_b64" 0644 && place tls.crt 0644
stage "$conf_dir/ca.crt" "$ca_b64" 0644 && place ca.crt 0644
(umask 077 && printf '%s' "$key_b64" | base64 -d > "$(staged_path "$conf_dir/tls.key")") && place tls.key 0640
(umask 077 && printf '%s\n' "$htpasswd_line" > "$(staged_path "$conf_dir/htpasswd")") && place htpasswd 0640
# Its images: kept across lab destroy and up (a new user id after a userdel takes them over).
mkdir -p "$storage"
[ "$(stat -c %U "$storage")" = "$user" ] || chown -R "$user:$user" "$storage"
chmod 0700 "$storage"
# For service-run.sh, the part after this one.
description="ocplab: the lab's mirror registry (TLS, htpasswd)"
exec_start="$registry serve $conf_dir/config.yml"
read_write=$storage
