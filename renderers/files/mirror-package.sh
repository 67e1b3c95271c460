#!/bin/sh
# shellcheck shell=sh
# ocplab:mirror.registry: system: the registry is the distribution's package, Debian's docker-registry (installed
# with apt where it is missing), or a docker-registry or registry already on PATH; none is an error with the fix.
# Inputs (set before this part by renderers/shell.py): package. Sets registry (the command mirror-apply.sh runs).
# shellcheck disable=SC2154,SC2034
registry=$(command -v docker-registry || command -v registry || true)
if [ -z "$registry" ] && command -v apt-get >/dev/null; then
  echo "ocplab mirror: installing $package" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package" >&2 \
    || fail "ocplab mirror: apt-get could not install $package"
  # The package's own registry (port 5000, its own config) is not the lab's: only ours runs.
  if has_systemd; then systemctl disable --now docker-registry.service >/dev/null 2>&1 || true; fi
  registry=$(command -v docker-registry)
fi
[ -n "$registry" ] || fail "ocplab mirror: no registry binary (docker-registry or registry) on the jumphost:" \
  "install Debian's $package, or put a pinned build of github.com/distribution/distribution on PATH as registry"
