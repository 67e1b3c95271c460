#!/bin/sh
# shellcheck shell=sh
# The lab's image cache, its files: each image fetched (an http(s) URL, through the jumphost's way out) or copied
# (a path on the jumphost) once, checked against its sha256 before it replaces anything, then served read-only.
# A stamp (sha256, size, mtime) spares re-hashing an unchanged file on every `up`; files of images gone from
# the config are removed (ours: a stamp says so). A bad hash fails the `up` naming the image, the old file kept.
# Inputs (set before this part by renderers/shell.py): storage, manifest_b64 (lines "name sha256 source")
# shellcheck disable=SC2154
state="$storage/.ocplab"
mkdir -p "$state" && chmod 0700 "$state"
manifest="$state/manifest"
printf '%s' "$manifest_b64" | base64 -d > "$manifest"
for stamp in "$state"/*.stamp; do
  [ -e "$stamp" ] || continue
  name=$(basename "$stamp" .stamp)
  if ! awk -v n="$name" '$1 == n { found = 1 } END { exit !found }' "$manifest"; then
    rm -f "$storage/$name" "$stamp"; echo "ocplab cache: $name removed (no longer in ocplab:cache.images)"
  fi
done
stamp_of() { printf '%s %s\n' "$1" "$(stat -c '%s %Y' "$2")"; }
fetched=0; kept=0
while read -r name sum source; do
  target="$storage/$name"; stamp="$state/$name.stamp"
  if [ -f "$target" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(stamp_of "$sum" "$target")" ]; then
    kept=$((kept+1)); continue
  fi
  if [ -f "$target" ] && [ "$(sha256sum < "$target" | cut -d' ' -f1)" = "$sum" ]; then
    stamp_of "$sum" "$target" > "$stamp"; kept=$((kept+1)); continue
  fi
  partial="$state/$name.partial"
  case "$source" in
    http://*|https://*)
      curl -fsSL --retry 3 -o "$partial" "$source" \
        || { rm -f "$partial"; fail "ocplab cache: image $name: could not fetch $source (ocplab:cache.images.$name.source)"; } ;;
    *)
      [ -f "$source" ] || fail "ocplab cache: image $name: the jumphost has no file $source (ocplab:cache.images.$name.source)"
      cp "$source" "$partial" ;;
  esac
  got=$(sha256sum < "$partial" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then
    rm -f "$partial"
    fail "ocplab cache: image $name from $source has sha256 $got, not $sum (ocplab:cache.images.$name.sha256):" \
      "nothing was replaced"
  fi
  chmod 0644 "$partial" && mv -f "$partial" "$target"
  stamp_of "$sum" "$target" > "$stamp"; fetched=$((fetched+1))
done < "$manifest"
echo "ocplab cache: $fetched image(s) fetched, $kept already there, each with its sha256"
