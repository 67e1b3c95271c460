#!/usr/bin/env bash
# Make the Pulumi engine available in .engine/bin: the pulumi CLI, the Python language host
# (with its exec script and the dynamic-provider script) and the libvirt and command providers,
# at the versions pinned in engine/versions.env.
#
# Order: a pulumi CLI of the pinned version already on PATH (or already in .engine/bin) is used;
# otherwise everything is built from the Go module proxy. Nothing here runs at `pulumi up` time.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
# shellcheck source=versions.env
. "$here/versions.env"
bin="$top/.engine/bin"
work="$top/.engine/build"
mkdir -p "$bin" "$work"

say() { printf 'engine: %s\n' "$*" >&2; }

have_version() { # $1 binary, $2 expected version (no v)
  [ -x "$1" ] && "$1" version 2>/dev/null | grep -qx "v$2"
}

link_ambient_cli() {
  local found
  found=$(PATH=$(printf '%s' "$PATH" | tr ':' '\n' | grep -vx "$bin" | paste -sd:) command -v pulumi || true)
  if [ -n "$found" ] && have_version "$found" "$PULUMI_VERSION"; then
    say "using pulumi v$PULUMI_VERSION from PATH: $found"
    ln -sf "$found" "$bin/pulumi"
    for f in "$(dirname "$found")"/pulumi-language-python*; do [ -e "$f" ] && ln -sf "$f" "$bin/"; done
    return 0
  fi
  return 1
}

# module@version pairs the build needs, each fetched as a writable copy of its module zip.
modules() {
  cat <<MODS
github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION
github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION
github.com/pulumi/pulumi-libvirt/provider@$PULUMI_LIBVIRT_MODULE_VERSION
github.com/pulumi/pulumi-command/provider@$PULUMI_COMMAND_MODULE_VERSION
MODS
}

download_all() {
  local failed=() mod out
  while read -r mod; do
    if ! out=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$mod" 2>&1); then
      failed+=("$mod: $(printf '%s' "$out" | grep -o '"Error": *"[^"]*"' | head -1 | cut -d'"' -f4)")
    fi
  done < <(modules)
  # The language host is its own module without tags; it resolves from the same repository tag.
  if ! out=$(cd "$work" && go list -m -json \
      "github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3@v$PULUMI_VERSION" 2>&1); then
    failed+=("github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3: $(printf '%s' "$out" | tail -2 | tr '\n' ' ')")
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    say "cannot build the engine: the Go module proxy ($(go env GOPROXY)) did not serve:"
    printf '  - %s\n' "${failed[@]}" >&2
    say "fix: reach a module proxy that serves these versions, or put pulumi v$PULUMI_VERSION"
    say "     with pulumi-language-python, pulumi-resource-libvirt v$PULUMI_LIBVIRT_VERSION and"
    say "     pulumi-resource-command v$PULUMI_COMMAND_VERSION on PATH, then run 'make engine' again."
    return 1
  fi
}

module_dir() { (cd "$work" && go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'); }

writable_copy() { # $1 module@version, $2 destination
  [ -d "$2" ] && return 0
  cp -r "$(module_dir "$1")" "$2.tmp" && chmod -R u+w "$2.tmp" && mv "$2.tmp" "$2"
}

build_cli() {
  have_version "$bin/pulumi" "$PULUMI_VERSION" && return 0
  local src="$work/pulumi-pkg" sdk="$work/pulumi-sdk"
  writable_copy "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" "$src"
  writable_copy "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" "$sdk"
  (cd "$src" && go mod edit -replace "github.com/pulumi/pulumi/sdk/v3=$sdk" &&
    GOFLAGS=-mod=mod go build -o "$bin/pulumi" \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      ./cmd/pulumi)
  install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$bin/"
  install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
}

build_provider() { # $1 module@version, $2 main package dir, $3 binary, $4 ldflags
  [ -x "$bin/$3" ] && return 0
  local src="$work/$3"
  writable_copy "$1" "$src"
  (cd "$src" && go generate ./... >/dev/null 2>&1 || true
   GOFLAGS=-mod=mod go build -o "$bin/$3" -ldflags "$4" "./$2")
}

if have_version "$bin/pulumi" "$PULUMI_VERSION" && [ -x "$bin/pulumi-resource-libvirt" ] \
    && [ -x "$bin/pulumi-resource-command" ] && [ -e "$bin/pulumi-language-python" ]; then
  say "already made: $("$bin/pulumi" version) in $bin"
  exit 0
fi
link_ambient_cli || true
download_all
build_cli
build_provider "github.com/pulumi/pulumi-libvirt/provider@$PULUMI_LIBVIRT_MODULE_VERSION" \
  cmd/pulumi-resource-libvirt pulumi-resource-libvirt \
  "-X github.com/pulumi/pulumi-libvirt/provider/pkg/version.Version=$PULUMI_LIBVIRT_VERSION"
build_provider "github.com/pulumi/pulumi-command/provider@$PULUMI_COMMAND_MODULE_VERSION" \
  cmd/pulumi-resource-command pulumi-resource-command \
  "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$PULUMI_COMMAND_VERSION"
say "made: $("$bin/pulumi" version) in $bin"
