#!/usr/bin/env bash
# Image pipeline benchmark: moim_media::render(bytes, [CARD, THUMB]) against sharp doing the
# same job (cover 440x240 + cover 100x100, WEBP q80, EXIF rotate), on the same fixtures, in the
# same run, alternating process by process. Writes bench/results/images.md.
#
#   bench/image-bench.sh                 # RUNS=10 timed runs per process, ROUNDS=3 per tool
#   RUNS=20 ROUNDS=5 ROUNDS_1CORE=3 bench/image-bench.sh
#
# Two passes: unpinned (both tools may use both cores: sharp runs its two pipelines on two
# libuv threads), then both pinned to one core with taskset (like a Lambda at <= 1769 MB).
#
# Needs: cargo, node + npm (sharp is installed from npm into $NODE_DIR), /usr/bin/time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/work/target-media}
RUNS=${RUNS:-10}
ROUNDS=${ROUNDS:-3}
ROUNDS_1CORE=${ROUNDS_1CORE:-2}
NODE_DIR=${NODE_DIR:-$HOME/.cache/moim-tools/bench-node}
OUT=$ROOT/bench/results/images.md
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== build (release)"
(cd "$ROOT" && cargo build --release -p moim-media --example render_bench)
BIN=$CARGO_TARGET_DIR/release/examples/render_bench

if [ ! -x /usr/bin/time ]; then
    echo "== installing GNU time"
    if [ "$(id -u)" = 0 ]; then apt-get install -y time; else sudo apt-get install -y time; fi
fi

FIX=$(mktemp -d)
trap 'rm -rf "$FIX"' EXIT
echo "== fixtures in $FIX"
"$BIN" make-fixtures "$FIX"

echo "== sharp (npm) in $NODE_DIR"
SHARP=1
mkdir -p "$NODE_DIR"
[ -f "$NODE_DIR/package.json" ] || echo '{"name":"moim-bench-node","private":true}' >"$NODE_DIR/package.json"
if [ ! -d "$NODE_DIR/node_modules/sharp" ]; then
    (cd "$NODE_DIR" && npm install --no-audit --no-fund sharp) || { echo "npm install sharp FAILED: no sharp column"; SHARP=0; }
fi
cat >"$NODE_DIR/sharp-bench.js" <<'EOF'
// Same job as moim_media::render(bytes, [CARD, THUMB]); output format matches render_bench.
const sharp = require('sharp');
const fs = require('fs');
const file = process.argv[2];
const runs = Number(process.argv[3] || 1);
const input = fs.readFileSync(file);
async function once() {
  // A fresh Buffer per run, as each upload is new: libvips' operation cache cannot replay.
  const base = sharp(Buffer.from(input)).rotate();
  const out = await Promise.all([
    base.clone().resize(440, 240, { fit: 'cover' }).webp({ quality: 80 }).toBuffer(),
    base.clone().resize(100, 100, { fit: 'cover' }).webp({ quality: 80 }).toBuffer(),
  ]);
  return out[0].length + out[1].length;
}
(async () => {
  if (runs > 1) await once();
  const cpu0 = process.cpuUsage();
  const ms = [];
  for (let i = 0; i < Math.max(runs, 1); i++) {
    const t = process.hrtime.bigint();
    await once();
    const v = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`run_ms=${v.toFixed(2)}`);
    ms.push(v);
  }
  const cpu = process.cpuUsage(cpu0);
  ms.sort((a, b) => a - b);
  const n = ms.length;
  const median = n % 2 ? ms[(n - 1) / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
  const cpuMs = (cpu.user + cpu.system) / 1000 / n;
  console.log(`summary median_ms=${median.toFixed(2)} min_ms=${ms[0].toFixed(2)} cpu_ms_per_run=${cpuMs.toFixed(1)} runs=${n}`);
})();
EOF
SHARP_RUN=(node "$NODE_DIR/sharp-bench.js")
if [ "$SHARP" = 1 ]; then
    SHARP_INFO=$(cd "$NODE_DIR" && node -e "const s=require('sharp'); console.log('sharp ' + s.versions.sharp + ', libvips ' + s.versions.vips + ', libwebp ' + s.versions.webp + ', mozjpeg ' + s.versions.mozjpeg + ', concurrency ' + s.concurrency())")
else
    SHARP_INFO="sharp unavailable"
fi

# Prints "median min" of the run_ms lines in a file.
stats() { grep -o 'run_ms=[0-9.]*' "$1" | cut -d= -f2 | sort -n | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.1f %.1f", m, a[1]}'; }
# Mean of the cpu_ms_per_run values in a file.
cpu() { grep -o 'cpu_ms_per_run=[0-9.]*' "$1" | cut -d= -f2 | awk '{s+=$1} END {printf "%.1f", s/NR}'; }
# Peak RSS in MB of one single-render process.
rss() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}'; }

# One table: rows per fixture. $1 = label, $2 = rounds, rest = CPU pinning prefix (may be empty).
measure() {
    local label=$1 rounds=$2
    shift 2
    local pin=("$@")
    ROWS=""
    for f in "$FIX"/photo-4000x3000.jpg "$FIX"/photo-4000x3000-progressive.jpg "$FIX"/photo-4000x3000.png "$FIX"/photo-4000x3000.webp; do
        local name m_med m_min m_cpu m_rss s_med s_min s_cpu s_rss ratio cratio size
        name=$(basename "$f")
        echo "== [$label] $name"
        : >"$FIX/moim.log"
        : >"$FIX/sharp.log"
        for r in $(seq "$rounds"); do
            "${pin[@]}" "$BIN" render "$f" --runs "$RUNS" >>"$FIX/moim.log"
            if [ "$SHARP" = 1 ]; then (cd "$NODE_DIR" && "${pin[@]}" "${SHARP_RUN[@]}" "$f" "$RUNS") >>"$FIX/sharp.log"; fi
            echo "   after round $r: moim median/min $(stats "$FIX/moim.log") | sharp $([ "$SHARP" = 1 ] && stats "$FIX/sharp.log")"
        done
        read -r m_med m_min <<<"$(stats "$FIX/moim.log")"
        m_cpu=$(cpu "$FIX/moim.log")
        m_rss=$(rss "${pin[@]}" "$BIN" render "$f")
        if [ "$SHARP" = 1 ]; then
            read -r s_med s_min <<<"$(stats "$FIX/sharp.log")"
            s_cpu=$(cpu "$FIX/sharp.log")
            s_rss=$(cd "$NODE_DIR" && rss "${pin[@]}" "${SHARP_RUN[@]}" "$f" 1)
            ratio=$(awk -v a="$m_med" -v b="$s_med" 'BEGIN {printf "%.2f", a/b}')
            cratio=$(awk -v a="$m_cpu" -v b="$s_cpu" 'BEGIN {printf "%.2f", a/b}')
        else
            s_med=- s_min=- s_cpu=- s_rss=- ratio=- cratio=-
        fi
        size=$(awk -v b="$(stat -c %s "$f")" 'BEGIN {printf "%.1f MB", b/1e6}')
        ROWS+="| $name | $size | $m_med ($m_min) | $s_med ($s_min) | **$ratio** | $m_cpu | $s_cpu | $cratio | **$m_rss** | $s_rss |"$'\n'
    done
}

HEADER='| fixture (4000x3000) | size | moim ms | sharp ms | moim/sharp | moim CPU ms | sharp CPU ms | CPU ratio | moim peak RSS MB | sharp peak RSS MB |
|---|---|---|---|---|---|---|---|---|---|'
measure "2 cores" "$ROUNDS"
ROWS_2CORE=$ROWS
ROWS_1CORE=""
if command -v taskset >/dev/null; then
    measure "1 core" "$ROUNDS_1CORE" taskset -c 0
    ROWS_1CORE=$ROWS
fi

NODE_RSS=-
[ "$SHARP" = 1 ] && NODE_RSS=$(cd "$NODE_DIR" && rss node -e "require('sharp')")
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
DEPS=$(cd "$ROOT" && cargo tree -p moim-media -e normal --depth 1 --prefix none 2>/dev/null | tail -n +2 | sort -u | tr '\n' ',' | sed 's/,$//; s/,/, /g')

mkdir -p "$(dirname "$OUT")"
cat >"$OUT" <<EOF
# Image pipeline: moim-media vs sharp

Task per run: decode one upload, cover-crop (centre) to 440x240 and to 100x100, encode both as
WEBP q80, EXIF orientation applied (the fixtures carry none). moim = \`moim_media::render(bytes,
&[CARD, THUMB])\` in the release example \`render_bench\`; sharp = \`sharp(buf).rotate()\` cloned into
two \`resize(w, h, {fit: 'cover'}).webp({quality: 80})\` pipelines awaited together.

- Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr).
- Load average at start / end: $LOAD_START / $LOAD_END (other builds may share the 2 cores, so absolute times are upper bounds; the tools alternate process by process, so the ratio is fair).
- Command: \`RUNS=$RUNS ROUNDS=$ROUNDS ROUNDS_1CORE=$ROUNDS_1CORE CARGO_TARGET_DIR=$CARGO_TARGET_DIR bench/image-bench.sh\` ($(date -u +%Y-%m-%dT%H:%MZ)).
- Timing: warm, in-process. Per fixture each tool runs ROUNDS processes, alternating moim/sharp; each process does 1 warm-up + $RUNS timed renders. Wall ms = median (min) over all timed renders of a tool. CPU ms = user+sys of the process (all threads) per render.
- Peak RSS: \`/usr/bin/time -v\` "Maximum resident set size" of a process doing one render (input file read included). Node with sharp loaded and nothing else: $NODE_RSS MB.
- moim: $(rustc --version | cut -d' ' -f1-2); $DEPS.
- sharp: $SHARP_INFO; node $(node --version).
- Goals: wall ratio moim/sharp <= 0.8 on the JPEG; moim peak RSS <= 64 MB on the JPEG.

## 2 cores (unpinned)

$HEADER
$ROWS_2CORE
## 1 core (both pinned with \`taskset -c 0\`, $ROUNDS_1CORE rounds)

$HEADER
$ROWS_1CORE
Fixtures (\`render_bench make-fixtures\`): gradients + Gaussian noise (sigma 12) + 40 flat blocks, the
worst case for entropy decoding as in TOOLING.md section 4 (5.0 MB here vs 4.4 MB there: a little
noisier). JPEG: jpeg-encoder q90 4:2:0 (baseline, and progressive); PNG: image crate default
compression; WEBP: libwebp lossy q90.

## Notes (measured while building the crate, 2026-12-01; this script does not re-measure them)

- Where the baseline-JPEG time goes (perf, 20 renders): jpeg-decoder entropy decoding about 2/3 of
  the cycles, its per-row hand-off to worker threads about 8 % (futex wake-ups), zeroing coefficient
  rows about 3 %, libwebp encoding about 12 %, fast_image_resize Lanczos3 under 2 %.
  Phases: DCT-scaled decode 59-62 ms at 1/8 (1/4: 61, 1/2: 74, full: 98 ms), both resizes about 1 ms,
  both WEBP encodes about 9 ms (CARD 7.7, THUMB 1.2).
- Tried for the JPEG wall time:
  - DCT scale: 1/8 (500x375) is already the smallest; it is what sharp's shrink-on-load picks too.
  - Lanczos3 vs Bilinear: the resize is about 1 ms of about 70, so no measurable gain; Lanczos3 kept.
  - RGB->RGBA copy: there is none (U8x3 through resize and WEBP; CMYK is packed to RGB in place).
  - jpeg-decoder's rayon feature: no change (61-64 vs 62-65 ms decode); left off.
  - WEBP method below 4 (sharp's default effort is 4) would save a few ms but changes size/quality
    against sharp; kept at 4.
- Why the 2-core wall ratio can be above 0.8 while CPU is about 0.6: sharp's two \`clone()\` pipelines
  each decode the JPEG (hence about twice the CPU), but libuv runs them on two threads, so on an idle
  2-core machine its wall time is about one decode. moim decodes once, but jpeg-decoder's entropy
  decoding is serial and cannot use the second core. On one core (taskset here; a Lambda below
  1769 MB has less than one vCPU) moim takes about 0.6 of sharp's time. Load from other builds hurts
  sharp's parallel pipelines more, so the 2-core ratio moves from run to run (0.6-1.0 seen).
- Outputs vs sharp's: mean absolute difference 2.5/255 on the CARD of the baseline fixture and
  1.7-1.8 for a JPEG carrying each EXIF orientation 1-8 (written by sharp): same crop, same
  orientation.
- WEBP input is decoded by libwebp (webp crate) instead of image-webp: 557 -> 330 ms on the WEBP
  fixture. Animated WEBP still goes through image-webp (first frame).
EOF
echo "== wrote $OUT"
cat "$OUT"
