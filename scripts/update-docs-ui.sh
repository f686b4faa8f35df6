#!/usr/bin/env bash
# Refreshes openapi/ui/ (the API browser moim-local serves at /docs) from the
# npm registry package swagger-ui-dist, byte for byte: no CDN at run time.
#   scripts/update-docs-ui.sh [VERSION]      (default: the version in openapi/ui/VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(cat openapi/ui/VERSION)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "[moim] fetching swagger-ui-dist@$version from the npm registry"
(cd "$tmp" && npm pack --silent "swagger-ui-dist@$version" >/dev/null && tar xzf swagger-ui-dist-*.tgz)
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp "$tmp/package/$f" "openapi/ui/$f"
done
echo "$version" > openapi/ui/VERSION
echo "[moim] openapi/ui now holds swagger-ui-dist $version"
