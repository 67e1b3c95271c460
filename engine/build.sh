#!/usr/bin/env bash
# Make the Pulumi engine: the pulumi CLI and the Python language host (one tag), the language
# host's exec script and the dynamic-provider script in .engine/bin; pulumi-resource-libvirt and
# pulumi-resource-command installed as plugins into the project's PULUMI_HOME (.pulumi-home), so no
# command warns about plugins found on PATH. Versions and accepted hashes: engine/versions.env.
#
# A pulumi of the pinned version already on PATH (with pulumi-language-python beside it, and the
# two providers either installed in .pulumi-home or on PATH) is used as is. Otherwise everything is
# built from pinned Go modules through file://../shared/goproxy, then the registry's proxy.
# Each step logs to .engine/logs/<step>.log; a failed step prints its last lines and the fix.
set -euo pipefail
part=engine
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"
bin="$top/.engine/bin"
providers="$top/.engine/providers"
work="$top/.engine/build"
export PULUMI_HOME="$top/.pulumi-home"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
overlay="${OCPLAB_GOPROXY_DIR:-$top/../shared/goproxy}"
served="$top/.engine/goproxy"

have_version() { # $1 binary, $2 expected version (no v)
  [ -x "$1" ] && [ "$("$1" version 2>/dev/null)" = "v$2" ]
}

plugin_installed() { # $1 name, $2 version
  PULUMI_HOME="$PULUMI_HOME" "$bin/pulumi" plugin ls --json 2>/dev/null |
    python3 -c "import json,sys; sys.exit(not any(p['name']=='$1' and p['version']=='$2' and p['kind']=='resource' for p in json.load(sys.stdin) or []))"
}

step() { # $1 step name, rest: command. Output goes to the step's log, the tail of it on failure.
  local name=$1 t0
  shift
  t0=$(date +%s)
  say "$name ..."
  # In the background so that set -e holds inside the step (it is off in an `if` condition).
  "$@" >"$logs/$name.log" 2>&1 &
  if ! wait $!; then
    say "step '$name' failed; the last lines of $logs/$name.log:"
    tail -n 15 "$logs/$name.log" | sed 's/^/    /' >&2
    case "$name" in
      download-*) say "fix: check that the registry's Go module proxy answers (GOPROXY=$GOPROXY) and that $overlay holds the module; then 'make engine' again" ;;
      *) say "fix: read the log above; 'rm -rf .engine/build' and 'make engine' retries from clean copies" ;;
    esac
    exit 1
  fi
  say "$name done in $(( $(date +%s) - t0 )) s"
}

engine_complete() {
  have_version "$bin/pulumi" "$PULUMI_VERSION" && [ -x "$bin/pulumi-language-python" ] &&
    plugin_installed libvirt "$PULUMI_LIBVIRT_VERSION" && plugin_installed command "$PULUMI_COMMAND_VERSION" &&
    libvirt_dials_ipv6
}

# terraform-provider-libvirt v0.8.1 (libvirt/uri/ssh.go) dials the URI's host part as it is, brackets and port
# included (u.Host, then net.JoinHostPort), so qemu+ssh://root@[fd00:16::b]/system fails with "address
# [[fd00:16::b]]:22: missing port in address" and an IPv6-only lab cannot be reached. The provider ocplab builds
# dials u.Hostname() (the address alone; the port is read apart, as before): one word changed, the same for IPv4
# hosts on port 22. The marker beside the binary says it was built so; a binary without it is built again (an
# official one used from PATH or ~/.pulumi stays as it is, and cannot reach an IPv6-only lab).
LIBVIRT_DIAL_FIX="u.dialHost(u.Hostname(), sshcfg, 0)"
libvirt_marker="$providers/pulumi-resource-libvirt.dials-hostname"
libvirt_dials_ipv6() {
  [ ! -x "$providers/pulumi-resource-libvirt" ] || [ -f "$libvirt_marker" ]
}

install_plugins() { # from $providers, else the user's own plugins (~/.pulumi) or PATH, for official binaries
  local name version file
  for name in libvirt command; do
    version=$PULUMI_LIBVIRT_VERSION
    [ "$name" = command ] && version=$PULUMI_COMMAND_VERSION
    plugin_installed "$name" "$version" && continue
    file="$providers/pulumi-resource-$name"
    [ -x "$file" ] || file="$HOME/.pulumi/plugins/resource-$name-v$version/pulumi-resource-$name"
    [ -x "$file" ] || file=$(command -v "pulumi-resource-$name" || true)
    [ -n "$file" ] || return 1
    "$bin/pulumi" plugin install resource "$name" "$version" --file "$file" >"$logs/plugin-$name.log" 2>&1 ||
      die "could not install $file as plugin $name $version (see $logs/plugin-$name.log)" \
        "check that the file is the pulumi-resource-$name v$version binary"
  done
}

use_ambient_engine() {
  local found
  found=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$bin" | paste -sd: -) command -v pulumi || true)
  [ -n "$found" ] && have_version "$found" "$PULUMI_VERSION" || return 1
  [ -x "$(dirname "$found")/pulumi-language-python" ] || return 1
  say "using pulumi v$PULUMI_VERSION from PATH: $found"
  local f
  for f in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
    [ -e "$(dirname "$found")/$f" ] && ln -sf "$(dirname "$found")/$f" "$bin/$f"
  done
  install_plugins || { say "pulumi on PATH, but no pulumi-resource-libvirt/-command (in ~/.pulumi/plugins or on PATH) to install as plugins: building them"; return 1; }
}

# The overlay list: every module ../shared/goproxy was packed with, and its pin. Only those that
# versions.env marks OVERLAY_ONLY are taken from the overlay; the rest come from the registry's proxy.
overlay_list() {
  cat <<MODS
SUM_PULUMI_LANGUAGE_PYTHON github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 $PULUMI_LANGUAGE_PYTHON_MODULE_VERSION
SUM_PULUMI_LIBVIRT github.com/pulumi/pulumi-libvirt/provider $PULUMI_LIBVIRT_MODULE_VERSION
SUM_PULUMI_COMMAND github.com/pulumi/pulumi-command/provider $PULUMI_COMMAND_MODULE_VERSION
SUM_TF_PROVIDER_LIBVIRT github.com/dmacvicar/terraform-provider-libvirt $TF_PROVIDER_LIBVIRT_VERSION
SUM_TF_PLUGIN_SDK_FORK github.com/pulumi/terraform-plugin-sdk/v2 $TF_PLUGIN_SDK_FORK_VERSION
MODS
}

overlay_only() { case " $OVERLAY_ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

preflight() {
  command -v go >/dev/null ||
    die "no Go toolchain on PATH" "install Go 1.22 or newer (https://go.dev/dl, or 'apt install golang-go' where it is new enough), then 'make engine'"
  [ -d "$overlay" ] ||
    die "the file-based module proxy $overlay is missing (it holds the modules the registry's proxy refuses)" \
      "check out ../shared beside this project, or set OCPLAB_GOPROXY_DIR to that goproxy folder"
  local var mod ver zip want got
  # Go reads the overlay through .engine/goproxy, which links the overlay-only modules and nothing else.
  rm -rf "$served" && mkdir -p "$served"
  while read -r var mod ver; do
    overlay_only "$var" || continue
    want=${!var}
    zip="$overlay/$mod/@v/$ver.zip"
    [ -f "$zip" ] || die "$mod@$ver is missing from the module proxy folder $overlay ($zip): the registry's Go proxy refuses this module, so the overlay must carry it" \
      "restore ../shared/goproxy; if the registry's proxy now serves it, remove $var from OVERLAY_ONLY in engine/versions.env"
    got=$(python3 "$here/overlay_sum.py" "$zip") ||
      die "$zip cannot be read as a module zip" "restore it from ../shared/goproxy"
    [ "$got" = "$want" ] ||
      die "refusing $zip: its hash is $got, engine/versions.env accepts $want ($var); the registry's Go proxy refuses $mod, so only the overlay's zip can be used" \
        "restore the zip from ../shared/goproxy; change $var only for a zip you have checked"
    mkdir -p "$served/$mod/@v"
    ln -s "$overlay/$mod/@v/$ver".* "$served/$mod/@v/"
    printf '%s\n' "$ver" >"$served/$mod/@v/list"
  done < <(overlay_list)
  while read -r var mod ver; do
    if overlay_only "$var"; then
      say "module $mod@$ver: from the overlay $overlay (the registry's proxy refuses it; hash pinned as $var)"
    else
      say "module $mod@$ver: from the registry's proxy (go.sum and the checksum database check it; any zip of it in the overlay is ignored)"
    fi
  done < <(overlay_list)
}

# After the build: the hash go recorded for each module of the overlay list, against its pin.
report_sources() {
  local var mod ver sum where
  while read -r var mod ver; do
    sum=$(cd "$work" && go mod download -json "$mod@$ver" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("Sum", "?"))') || sum="?"
    [ "$sum" = "${!var}" ] || die "module $mod@$ver was built with hash $sum, engine/versions.env pins ${!var} ($var)" \
      "check where it came from (GOPROXY=$GOPROXY); 'rm -rf .engine' and 'make engine' again"
    if overlay_only "$var"; then where="the overlay"; else where="the registry's proxy"; fi
    say "module $mod@$ver: built from $where, $sum as pinned"
  done < <(overlay_list)
}

go_env() {
  export GOPROXY="file://$served,https://proxy.golang.org"
  local var mod ver nosum=""
  while read -r var mod ver; do
    overlay_only "$var" && nosum="$nosum${nosum:+,}$mod"
  done < <(overlay_list)
  export GONOSUMDB="$nosum"
  export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
}

writable_copy() { # $1 module@version, $2 destination; the module's zip is checked by go against go.sum/sumdb
  [ -d "$2" ] && return 0
  local dir
  dir=$(cd "$work" && go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))')
  rm -rf "$2.tmp" && cp -r "$dir" "$2.tmp" && chmod -R u+w "$2.tmp" && mv "$2.tmp" "$2"
}

ldversion() { printf -- '-s -w -X %s=%s' "$1" "$2"; }

build_cli() {
  local src="$work/pulumi-pkg" sdk="$work/pulumi-sdk"
  writable_copy "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "$src"
  writable_copy "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" "$sdk"
  (cd "$src" && go mod edit -replace "github.com/pulumi/pulumi/sdk/v3=$sdk" &&
    go build -trimpath -o "$bin/pulumi.new" \
      -ldflags "$(ldversion github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "v$PULUMI_VERSION")" ./cmd/pulumi)
  mv "$bin/pulumi.new" "$bin/pulumi"
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
}

build_language_host() { # its go.mod replaces pkg/v3 and sdk/v3 with ../ paths of the pulumi repository
  local src="$work/pulumi-language-python"
  writable_copy "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@$PULUMI_LANGUAGE_PYTHON_MODULE_VERSION" "$src"
  (cd "$src" && go mod edit -dropreplace github.com/pulumi/pulumi/pkg/v3 -dropreplace github.com/pulumi/pulumi/sdk/v3 \
      -require "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" -require "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" &&
    go build -trimpath -o "$bin/pulumi-language-python" \
      -ldflags "$(ldversion github.com/pulumi/pulumi/sdk/v3/go/common/version.Version "v$PULUMI_VERSION")" .)
}

build_libvirt_provider() {
  local src="$work/pulumi-libvirt" tf="$work/terraform-provider-libvirt"
  writable_copy "github.com/pulumi/pulumi-libvirt/provider@$PULUMI_LIBVIRT_MODULE_VERSION" "$src"
  # The overlay's terraform-provider-libvirt zip lacks one test ISO (see ../shared/goproxy/README.md).
  sed -i "s|^github.com/dmacvicar/terraform-provider-libvirt $TF_PROVIDER_LIBVIRT_VERSION h1:.*|github.com/dmacvicar/terraform-provider-libvirt $TF_PROVIDER_LIBVIRT_VERSION $SUM_TF_PROVIDER_LIBVIRT|" "$src/go.sum"
  # Its copy (the zip checked against its pin by go mod download) dials an IPv6 host: LIBVIRT_DIAL_FIX above.
  writable_copy "github.com/dmacvicar/terraform-provider-libvirt@$TF_PROVIDER_LIBVIRT_VERSION" "$tf"
  sed -i 's/u\.dialHost(u\.Host, sshcfg, 0)/u.dialHost(u.Hostname(), sshcfg, 0)/' "$tf/libvirt/uri/ssh.go"
  grep -qF "$LIBVIRT_DIAL_FIX" "$tf/libvirt/uri/ssh.go" ||
    die "terraform-provider-libvirt $TF_PROVIDER_LIBVIRT_VERSION's libvirt/uri/ssh.go does not dial as ocplab expects" \
      "read its dialSSH and update LIBVIRT_DIAL_FIX in engine/build.sh"
  (cd "$src" && go mod edit -replace "github.com/dmacvicar/terraform-provider-libvirt=$tf")
  # schema-embed.json is git-ignored upstream, so it is not in the module zip: generate it.
  [ -s "$src/cmd/pulumi-resource-libvirt/schema-embed.json" ] ||
    (cd "$src/cmd/pulumi-resource-libvirt" && VERSION="$PULUMI_LIBVIRT_VERSION" go run generate.go)
  (cd "$src" && go build -trimpath -o "$providers/pulumi-resource-libvirt.new" \
    -ldflags "$(ldversion github.com/pulumi/pulumi-libvirt/provider/pkg/version.Version "$PULUMI_LIBVIRT_VERSION")" \
    ./cmd/pulumi-resource-libvirt)
  mv -f "$providers/pulumi-resource-libvirt.new" "$providers/pulumi-resource-libvirt"
  # The plugin installed from an earlier build goes: install_plugins installs this one.
  "$bin/pulumi" plugin rm resource libvirt "$PULUMI_LIBVIRT_VERSION" --yes >/dev/null 2>&1 || true
  touch "$libvirt_marker"
}

build_command_provider() {
  local src="$work/pulumi-command"
  writable_copy "github.com/pulumi/pulumi-command/provider@$PULUMI_COMMAND_MODULE_VERSION" "$src"
  (cd "$src" && go build -trimpath -o "$providers/pulumi-resource-command" \
    -ldflags "$(ldversion github.com/pulumi/pulumi-command/provider/pkg/version.Version "$PULUMI_COMMAND_VERSION")" \
    ./cmd/pulumi-resource-command)
}

mkdir -p "$bin" "$providers" "$work" "$logs" "$PULUMI_HOME"
if [ "${1:-}" = --check ]; then # check the overlay and say where each module comes from; build nothing
  preflight
  exit 0
fi
if [ -x "$bin/pulumi" ] && engine_complete; then
  say "already made: pulumi $("$bin/pulumi" version), language host, libvirt $PULUMI_LIBVIRT_VERSION and command $PULUMI_COMMAND_VERSION plugins"
  exit 0
fi
if use_ambient_engine && engine_complete; then
  say "ready (ambient binaries) in $(( $(date +%s) - started )) s"
  exit 0
fi
preflight
go_env
have_version "$bin/pulumi" "$PULUMI_VERSION" || step cli build_cli
[ -x "$bin/pulumi-language-python" ] || step language-host build_language_host
{ [ -x "$providers/pulumi-resource-libvirt" ] && [ -f "$libvirt_marker" ]; } || step libvirt-provider build_libvirt_provider
[ -x "$providers/pulumi-resource-command" ] || step command-provider build_command_provider
install_plugins
report_sources
engine_complete || die "the engine is built but 'pulumi plugin ls' does not list both providers" "rm -rf .engine .pulumi-home; make engine"
say "made in $(( $(date +%s) - started )) s: pulumi $("$bin/pulumi" version) in $bin, plugins in $PULUMI_HOME/plugins"
