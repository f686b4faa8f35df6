#!/usr/bin/env bash
# Measures a cold start of our code: a fresh `moim-local invoke` process per run,
# from exec to the first API Gateway v2 response printed, for UsersFunction on two
# events (an embedded-store read, and the no-token 401 path). Each run is a new
# process, so it approximates the Lambda init + first invoke of our handler
# (the Lambda runtime/sandbox init itself is excluded). Also reports peak RSS.
#
# Reproduce (from the repo root):  bench/cold-start.sh   [RUNS=50 to change runs]
# Output: hyperfine table on stdout and in bench/results/cold-start.md.
set -euo pipefail

cd "$(dirname "$0")/.."
log() { printf '[cold-start] %s\n' "$*" >&2; }
RUNS=${RUNS:-30}
BIN=target/release/moim-local
OUT=bench/results/cold-start.md
EVENTS=(events/users-email-availability.json events/users-me-no-token.json)

apt_updated=
need() {  # need <command> <debian package>
  command -v "$1" >/dev/null && return
  log "installing $2 (apt-get)"
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq "$2" >/dev/null
}
need hyperfine hyperfine
need /usr/bin/time time

log "building: cargo build --release -p moim-local"
cargo build --release -p moim-local

DATA=$(mktemp -d); trap 'rm -rf "$DATA"' EXIT
for ev in "${EVENTS[@]}"; do   # sanity check: the invoke works and prints a response
  "$BIN" invoke UsersFunction -e "$ev" --data "$DATA" | grep -q '"statusCode"' || { log "invoke failed: $ev"; exit 1; }
done

mkdir -p bench/results
log "hyperfine: warmup 3, $RUNS runs per event, no shell (-N), data dir $DATA"
cmds=(); names=()
for ev in "${EVENTS[@]}"; do
  cmds+=("$BIN invoke UsersFunction -e $ev --data $DATA")
  names+=(-n "invoke UsersFunction $(basename "$ev")")   # stable names: no temp paths in the report
done
hyperfine -N --warmup 3 --runs "$RUNS" "${names[@]}" --export-markdown "$OUT" "${cmds[@]}"

{
  echo
  echo "Peak RSS (\`/usr/bin/time -v\`, one invoke):"
  echo
  for ev in "${EVENTS[@]}"; do
    kb=$(/usr/bin/time -v "$BIN" invoke UsersFunction -e "$ev" --data "$DATA" 2>&1 >/dev/null \
      | awk -F': ' '/Maximum resident set size/ { print $2 }')
    echo "- \`$ev\`: $kb KiB ($(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
  done
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); $(rustc --version); hyperfine $(hyperfine --version | cut -d' ' -f2); $(nproc) CPUs"
  echo "- binary: \`$BIN\` ($(stat -c %s "$BIN") bytes, release profile, x86_64 host)"
  echo "- reproduce: \`bench/cold-start.sh\`"
} >> "$OUT"
echo; cat "$OUT"
log "wrote $OUT"
