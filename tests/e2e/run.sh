#!/usr/bin/env bash
# The real WeGo frontend against moim-local, end to end, in Debian's headless
# Chromium (tests/e2e/journey.mjs says what it does; README "The real frontend").
#
#   tests/e2e/run.sh [--frontend DIR]
#
# DIR is a checkout of WeGo-Together/WeGo_FrontEnd (or $WEGO_FRONTEND); without
# one the script clones it at $WEGO_FRONTEND_REF (the commit ../shared/FRONTEND.md
# was written against). Installs what is missing (Chromium from apt, pnpm and
# playwright-core from npm) and caches the frontend's install and build under
# $MOIM_TOOLS/e2e, keyed by the source's content and the API URL baked into it.
# moim-local starts on a fresh data dir; screenshots and both servers' logs land
# in target/e2e/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# shellcheck source=scripts/tools.sh
source scripts/tools.sh # MOIM_TOOLS, log, apt_install
# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh # wait_http

die() { log "e2e: $*"; exit 1; }

FRONTEND=${WEGO_FRONTEND:-}
while [ $# -gt 0 ]; do
  case $1 in
    --frontend) FRONTEND=${2:?--frontend needs a directory}; shift 2 ;;
    --frontend=*) FRONTEND=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

CACHE=$MOIM_TOOLS/e2e
PNPM_VERSION=10.13.1
FRONTEND_REPO=${WEGO_FRONTEND_REPO:-https://github.com/WeGo-Together/WeGo_FrontEnd.git}
FRONTEND_REF=${WEGO_FRONTEND_REF:-53c546e454717cc39a53676846977b9d2c9ca6c0}
API_PORT=${E2E_API_PORT:-3000}
WEB_PORT=${E2E_WEB_PORT:-3001}
# The frontend keeps its access token in a cookie for .wego.monster (hard-coded),
# so both servers are reached under one *.wego.monster name mapped to loopback.
HOST=local.wego.monster
API_URL=http://$HOST:$API_PORT
WEB_URL=http://$HOST:$WEB_PORT
OUT=$ROOT/target/e2e
mkdir -p "$CACHE" "$OUT"
rm -f "$OUT"/*.png

# --- tools -------------------------------------------------------------------
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$CHROMIUM" ]; then
  command -v apt-get >/dev/null || die "no chromium and no apt-get; set CHROMIUM=/path/to/chromium"
  log "installing Debian's chromium (apt-get)"
  apt_install --no-install-recommends chromium
  CHROMIUM=$(command -v chromium)
fi
# Without a Korean font every label in the screenshots is a row of boxes.
if command -v fc-list >/dev/null && [ -z "$(fc-list :lang=ko)" ] && command -v apt-get >/dev/null; then
  log "installing a Korean font for the screenshots (fonts-nanum, apt-get)"
  apt_install --no-install-recommends fonts-nanum || log "no Korean font; the screenshots will show boxes for Hangul"
fi
command -v node >/dev/null || die "node is needed (Node 20 or newer)"

PNPM=$CACHE/pnpm/bin/pnpm
if [ ! -x "$PNPM" ] || [ "$("$PNPM" --version)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION (npm)"
  npm install -g --silent --prefix "$CACHE/pnpm" "pnpm@$PNPM_VERSION"
fi
if ! cmp -s tests/e2e/package-lock.json tests/e2e/node_modules/.moim-lock.json; then
  log "installing playwright-core (npm ci)"
  (cd tests/e2e && npm ci --silent --no-audit --no-fund && cp package-lock.json node_modules/.moim-lock.json)
fi

# --- the frontend source -------------------------------------------------------
if [ -z "$FRONTEND" ]; then
  FRONTEND=$CACHE/WeGo_FrontEnd
  if [ ! -d "$FRONTEND/.git" ]; then
    log "cloning $FRONTEND_REPO"
    git clone --quiet "$FRONTEND_REPO" "$FRONTEND" ||
      die "cannot clone $FRONTEND_REPO; pass a checkout with --frontend DIR"
  fi
  git -C "$FRONTEND" checkout --quiet "$FRONTEND_REF" 2>/dev/null ||
    { git -C "$FRONTEND" fetch --quiet origin && git -C "$FRONTEND" checkout --quiet "$FRONTEND_REF"; }
fi
[ -f "$FRONTEND/package.json" ] && [ -f "$FRONTEND/pnpm-lock.yaml" ] ||
  die "$FRONTEND is not the WeGo frontend (no package.json / pnpm-lock.yaml)"
FRONTEND=$(cd "$FRONTEND" && pwd)

# Key the scratch copy by content, not by commit, so a local edit rebuilds.
source_files() {
  (cd "$FRONTEND" && find . \( -name node_modules -o -name .next -o -name .git \) -prune \
    -o -type f -print0 | LC_ALL=C sort -z)
}
KEY=$(source_files | (cd "$FRONTEND" && xargs -0 sha1sum) | sha1sum | cut -c1-12)
FE=$CACHE/fe-$KEY
if [ ! -f "$FE/.moim-installed" ]; then
  log "copying the frontend ($FRONTEND) to $FE"
  rm -rf "$FE" && mkdir -p "$FE"
  source_files | (cd "$FRONTEND" && tar --null -T - -cf -) | tar -xf - -C "$FE"
  log "pnpm install --frozen-lockfile (about 20 s with a warm store, 3 min cold)"
  (cd "$FE" && CI=true nice -n 10 "$PNPM" install --frozen-lockfile --reporter=append-only \
    --store-dir "$CACHE/pnpm-store" --child-concurrency=2 --network-concurrency=8 \
    >"$OUT/pnpm-install.log" 2>&1) || { tail -30 "$OUT/pnpm-install.log"; die "pnpm install failed"; }
  touch "$FE/.moim-installed"
fi
BUILT=$FE/.moim-built-$(printf %s "$API_URL" | sha1sum | cut -c1-8)
if [ ! -f "$BUILT" ]; then
  log "next build against $API_URL (about 70 s on 2 cores)"
  rm -f "$FE"/.moim-built-*
  # NEXT_PUBLIC_* are inlined at build time; MSW stays off; the map key only has
  # to be present (the Kakao SDK is stubbed in the browser).
  (cd "$FE" && NEXT_TELEMETRY_DISABLED=1 NEXT_PUBLIC_API_BASE_URL=$API_URL \
    NEXT_PUBLIC_MSW_ENABLED=false NEXT_PUBLIC_KAKAOMAP_KEY=e2e \
    nice -n 10 "$PNPM" build >"$OUT/next-build.log" 2>&1) ||
    { tail -40 "$OUT/next-build.log"; die "next build failed"; }
  touch "$BUILT"
fi

# --- the servers ---------------------------------------------------------------
for port in "$API_PORT" "$WEB_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is taken (the frontend build bakes in $API_URL; set E2E_API_PORT / E2E_WEB_PORT)"
  fi
done

log "building moim-local"
cargo build --quiet -p moim-local
DATA=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT

MOIM_SWEEP_INTERVAL_SECS=0 RUST_LOG=${RUST_LOG:-info} \
  "${CARGO_TARGET_DIR:-target}/debug/moim-local" serve --addr "127.0.0.1:$API_PORT" --data "$DATA" \
  >"$OUT/moim-local.log" 2>&1 &
pids+=($!)
api_pid=$!
(cd "$FE" && NEXT_TELEMETRY_DISABLED=1 NODE_OPTIONS="--require $ROOT/tests/e2e/resolve-local.cjs" \
  E2E_LOOPBACK_HOSTS=$HOST exec ./node_modules/.bin/next start -p "$WEB_PORT" -H 127.0.0.1 \
  >"$OUT/next.log" 2>&1) &
pids+=($!)
web_pid=$!

wait_http "http://127.0.0.1:$API_PORT/openapi.json" moim-local "$api_pid" || die "see $OUT/moim-local.log"
wait_http "http://127.0.0.1:$WEB_PORT/login" "next start" "$web_pid" || die "see $OUT/next.log"
log "moim-local on 127.0.0.1:$API_PORT, the frontend on $WEB_URL"

E2E_WEB=$WEB_URL E2E_API=http://127.0.0.1:$API_PORT E2E_HOST=$HOST E2E_OUT=$OUT CHROMIUM=$CHROMIUM \
  node tests/e2e/journey.mjs
log "passed; screenshots in $OUT"
