#!/usr/bin/env bash
# Make the mirror registry the lab stack copies to jumphosts (ocplab:mirror.registry: bundled, the default):
# cmd/registry of the CNCF distribution registry, static (CGO_ENABLED=0) and -trimpath, from the module pinned in
# engine/versions.env (REGISTRY_*), into .engine/registry/<version>/registry: a folder of its own, so nothing of
# build.sh's engine is touched. The module's h1: hash is checked against its pin before anything is built.
# Warm (that version already there): nothing to do. The log is .engine/logs/registry.log.
set -euo pipefail
part=registry
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
out="$top/.engine/registry/$REGISTRY_VERSION"
binary="$out/registry"
made() { # `registry --version` says: <its argv[0]> <module> <version>
  [ -x "$binary" ] && case "$("$binary" --version 2>/dev/null)" in *" $REGISTRY_MODULE $REGISTRY_VERSION") ;; *) false ;; esac
}

if made; then
  say "already made: $REGISTRY_MODULE $REGISTRY_VERSION in $binary"
  exit 0
fi
command -v go >/dev/null ||
  die "no Go toolchain on PATH (the mirror registry the lab stack installs on jumphosts is built from Go modules)" \
    "install Go $REGISTRY_GO or newer (https://go.dev/dl), then 'make engine'; a lab whose mirror uses the distribution's package sets ocplab:mirror.registry: system and needs no build"
have=$(go env GOVERSION)
[ "$(printf '%s\n' "go$REGISTRY_GO" "$have" | sort -V | head -n1)" = "go$REGISTRY_GO" ] ||
  die "$have is older than the Go $REGISTRY_GO that $REGISTRY_MODULE $REGISTRY_VERSION asks for" \
    "install Go $REGISTRY_GO or newer (https://go.dev/dl), then 'make engine'"
mkdir -p "$logs" "$out"
export GOFLAGS=-buildvcs=false GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off
# The module through the Go proxy (checked by the checksum database), then against our pin: before any build.
sum=$(cd "$out" && go mod download -json "$REGISTRY_MODULE@$REGISTRY_VERSION" 2>"$logs/registry.log" |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Sum") or sys.exit(d.get("Error")))') ||
  die "could not download $REGISTRY_MODULE@$REGISTRY_VERSION (see $logs/registry.log)" \
    "check that the Go module proxy answers (go env GOPROXY: $(go env GOPROXY)), then 'make engine'"
[ "$sum" = "$SUM_REGISTRY" ] ||
  die "refusing $REGISTRY_MODULE@$REGISTRY_VERSION: its hash is $sum, engine/versions.env pins $SUM_REGISTRY (SUM_REGISTRY)" \
    "check where the module came from (go env GOPROXY); change SUM_REGISTRY only with REGISTRY_VERSION, for a module you have checked"
say "building $REGISTRY_MODULE/cmd/registry@$REGISTRY_VERSION ($sum as pinned) with $have ..."
rm -rf "$out/.new" && mkdir -p "$out/.new"
GOBIN="$out/.new" go install -trimpath -ldflags "-s -w -X $REGISTRY_MODULE/version.version=$REGISTRY_VERSION" \
  "$REGISTRY_MODULE/cmd/registry@$REGISTRY_VERSION" >>"$logs/registry.log" 2>&1 || {
  tail -n 15 "$logs/registry.log" | sed 's/^/    /' >&2
  die "the build of $REGISTRY_MODULE/cmd/registry@$REGISTRY_VERSION failed (the lines above, all in $logs/registry.log)" \
    "read the log; 'make engine' retries"
}
mv -f "$out/.new/registry" "$binary" && rmdir "$out/.new"
made || die "$binary does not say it is $REGISTRY_VERSION ('$binary --version')" "rm -rf .engine/registry; make engine"
say "made in $(( $(date +%s) - started )) s: $binary, $(stat -c %s "$binary") bytes, sha256 $(sha256sum "$binary" | cut -d' ' -f1)"
