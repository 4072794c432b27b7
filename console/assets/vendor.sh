#!/usr/bin/env bash
# Vendors the console's browser assets from npm into vendor/: npm pack of
# each pinned version, its tarball checked against vendor.sums (npm's
# sha512 integrity, committed), then only the files the console serves
# and their licences extracted. Needs npm and its registry; the build and
# the tests do not: the extracted files are committed. Run it from any
# directory after changing a version here and its line in vendor.sums:
#   bash console/assets/vendor.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# package@version, then the files to keep (paths inside the tarball's
# package/ folder), into vendor/<name>/.
packages=(
  "htmx.org@2.0.11|dist/htmx.min.js LICENSE"
  "htmx-ext-sse@2.2.4|dist/sse.min.js LICENSE"
  "@picocss/pico@2.1.1|css/pico.min.css LICENSE.md"
  "uplot@1.6.32|dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE"
  "pdfjs-dist@6.5.438|build/pdf.min.mjs build/pdf.worker.min.mjs LICENSE"
  # For the browser tests only: never served.
  "axe-core@4.14.1|axe.min.js LICENSE"
)

rm -rf "$out"
mkdir -p "$out"
for entry in "${packages[@]}"; do
  spec="${entry%%|*}"
  files="${entry#*|}"
  name="${spec%@*}"
  dir="$out/$(basename "$name")"
  tgz="$(cd "$work" && npm pack --silent "$spec" | tail -n 1)"
  want="$(awk -v s="$spec" '$1 == s { print $2 }' "$here/vendor.sums")"
  got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [ -z "$want" ] || [ "$want" != "$got" ]; then
    echo "vendor: $spec: checksum $got, vendor.sums has ${want:-nothing}" >&2
    exit 1
  fi
  mkdir -p "$work/x" "$dir"
  rm -rf "$work/x/package"
  tar -xzf "$work/$tgz" -C "$work/x"
  for f in $files; do
    cp "$work/x/package/$f" "$dir/$(basename "$f")"
  done
  echo "$spec" > "$dir/VERSION"
  echo "vendor: $spec"
done
