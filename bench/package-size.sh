#!/usr/bin/env bash
# Measures the deployment package size of Lambda functions (the binaries given
# as arguments, default all of template.yaml's):
# the arm64 `bootstrap` binary built by cargo-lambda in release (profile: lto,
# codegen-units=1, strip, panic=abort) and the zip that SAM/Lambda uploads
# (zip -9 of the single `bootstrap` file).
#
# Reproduce (from the repo root):  bench/package-size.sh [--check] [binary ...]
# --check (scripts/test, CI): fail when a function other than the two image
# functions zips to more than PACKAGE_LIMIT_BYTES (default 3,000,000).
# Rows of functions not rebuilt in this run are kept from the previous report.
# Needs cargo-lambda + zig (scripts/tools.sh venv: $HOME/.cache/moim-tools/venv/bin).
# Output: a markdown table on stdout and in bench/results/package-size.md.
# Lambda builds use their own target dir (CARGO_TARGET_DIR, default target/lambda).
set -euo pipefail

cd "$(dirname "$0")/.."
log() { printf '[package-size] %s\n' "$*" >&2; }

CHECK=
if [ "${1:-}" = "--check" ]; then CHECK=1; shift; fi
LIMIT=${PACKAGE_LIMIT_BYTES:-3000000}
# The image functions link the codecs (moim-media); the limit is for the others.
IMAGE_FUNCTIONS=" images image-processor "
TOOLS_BIN=${MOIM_TOOLS:-$HOME/.cache/moim-tools}/venv/bin
[ -d "$TOOLS_BIN" ] && export PATH="$TOOLS_BIN:$PATH"
if ! command -v cargo-lambda >/dev/null && [ -x "$TOOLS_BIN/pip" ]; then
  log "installing cargo-lambda (PyPI, brings zig) into $TOOLS_BIN"
  "$TOOLS_BIN/pip" install -q --disable-pip-version-check cargo-lambda
fi
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target/lambda}
LAMBDA_DIR="$CARGO_TARGET_DIR/lambda"
if [ "$#" -gt 0 ]; then FUNCTIONS=("$@"); else
  FUNCTIONS=(auth users groups notifications notifications-stream chat chat-ws images image-processor sweeper search-indexer); fi
BUILD_CMD=(cargo lambda build --release --arm64 --lambda-dir "$LAMBDA_DIR")
for f in "${FUNCTIONS[@]}"; do BUILD_CMD+=(--bin "$f"); done

command -v cargo-lambda >/dev/null || { log "cargo-lambda not found (run scripts/tools.sh setup)"; exit 1; }
if ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  log "installing rust target aarch64-unknown-linux-gnu"
  rustup target add aarch64-unknown-linux-gnu
fi
if ! command -v zip >/dev/null; then
  log "installing zip (apt-get)"
  { apt-get update -qq && apt-get install -y -qq zip >/dev/null; } || log "apt-get failed; falling back to python3 zipfile"
fi

log "building: ${BUILD_CMD[*]}  (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
"${BUILD_CMD[@]}"

ZIPS=$(mktemp -d); trap 'rm -rf "$ZIPS"' EXIT
over=()
mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }
table="| function | bootstrap (bytes) | bootstrap (MiB) | zip -9 (bytes) | zip -9 (MiB) |
|---|---:|---:|---:|---:|"
for f in "${FUNCTIONS[@]}"; do
  bin="$LAMBDA_DIR/$f/bootstrap"
  [ -f "$bin" ] || { log "missing $bin"; exit 1; }
  z="$ZIPS/$f.zip"
  log "zipping $bin"
  if command -v zip >/dev/null; then
    (cd "$(dirname "$bin")" && zip -q -9 -X "$z" bootstrap)
  else
    python3 - "$bin" "$z" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.write(sys.argv[1], "bootstrap")
PY
  fi
  bs=$(stat -c %s "$bin"); zs=$(stat -c %s "$z")
  table+=$'\n'"| $f | $bs | $(mib "$bs") | $zs | $(mib "$zs") |"
  case "$IMAGE_FUNCTIONS" in *" $f "*) ;; *)
    if [ "$zs" -gt "$LIMIT" ]; then over+=("$f ($zs bytes)"); fi ;;
  esac
done

# Keep earlier rows of functions this run did not build (marked as such).
if [ -f bench/results/package-size.md ]; then
  while IFS= read -r row; do
    name=$(echo "$row" | awk -F'|' '{print $2}' | sed 's/(.*)//; s/ //g')
    case " ${FUNCTIONS[*]} " in
      *" $name "*) ;;
      *) table+=$'\n'"$(echo "$row" | awk -F'|' -v n="$name" 'BEGIN{OFS="|"} {$2=" " n " (earlier run) "; print}')" ;;
    esac
  done < <(grep -E '^\| [a-z-]+( \([^)]*\))? \| [0-9]' bench/results/package-size.md)
fi

echo "$table"
{
  echo "# Lambda package size"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- rustc: $(rustc --version)"
  echo "- cargo-lambda: $(cargo lambda --version)"
  echo "- command: \`${BUILD_CMD[*]/#$PWD\//}\` then \`zip -9\` of each \`bootstrap\` (target aarch64-unknown-linux-gnu, provided.al2023)"
  echo "- reproduce: \`bench/package-size.sh\`"
  echo
  echo "$table"
} > bench/results/package-size.md
log "wrote bench/results/package-size.md"
if [ -n "$CHECK" ]; then
  if [ "${#over[@]}" -gt 0 ]; then
    log "over the $LIMIT-byte limit: ${over[*]}"
    exit 1
  fi
  log "every non-image package is at most $LIMIT bytes zipped"
fi
