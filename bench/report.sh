#!/usr/bin/env bash
# Regenerates the measured part of bench/REPORT.md: runs every benchmark
# (each writes its file under bench/results/, SVGs beside it), then replaces
# the section between the "results" markers of REPORT.md with those files.
# The prose above the markers explains the numbers; re-read it after a run.
#
#   bench/report.sh                 # everything (29 min on 2 cores with a warm target/)
#   bench/report.sh --only packages,cold-start,round-trips
#   bench/report.sh --assemble      # no benchmark: rebuild the section from bench/results
#
# Benchmarks: packages (arm64 sizes), lambda-cold-start (per function beside
# a bare lambda_runtime hello, + SVG), invoke-cold-start, store (embedded, then
# DynamoDB Local, started here), http (moim-local beside bare axum), images (vs sharp),
# upload, chat (fan-out), search (100 → 100k groups: the list page flat as
# groups grow 10x and 100x, + SVG), round-trips (sequential storage calls).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
source scripts/tools.sh

ALL=packages,lambda-cold-start,invoke-cold-start,store,http,images,upload,chat,search,round-trips
ONLY=$ALL
ASSEMBLE_ONLY=
case "${1:-}" in
  --only) ONLY=${2:?--only needs a comma-separated list}; ;;
  --assemble) ASSEMBLE_ONLY=1 ;;
  "") ;;
  *) echo "usage: bench/report.sh [--only LIST | --assemble]" >&2; exit 2 ;;
esac
wants() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

release_bins() { log "report: cargo build --release -p moim-local -p moim-bench"; cargo build -q --release -p moim-local -p moim-bench; }

if [ -z "$ASSEMBLE_ONLY" ]; then
  mkdir -p bench/results
  wants packages && { log "report: packages"; bench/package-size.sh; }
  wants lambda-cold-start && { log "report: lambda cold start"; bench/lambda-cold-start.sh; }
  wants invoke-cold-start && { log "report: invoke cold start"; bench/cold-start.sh; }
  if wants store || wants http || wants upload || wants chat || wants search; then release_bins; fi
  if wants store; then
    log "report: table engines (embedded)"; target/release/store-bench
    log "report: table engines (DynamoDB Local)"
    ( # shellcheck source=scripts/emulators.sh
      source scripts/emulators.sh; ensure_tools; trap stop_emulators EXIT; start_emulators
      target/release/store-bench --ops 2000 --dynamodb "$MOIM_DYNAMODB_ENDPOINT" )
  fi
  wants http && { log "report: http"; target/release/http-bench; }
  wants images && { log "report: images"; bench/image-bench.sh; }
  wants upload && { log "report: upload"; target/release/upload-bench; }
  wants chat && { log "report: chat"; target/release/chat-bench; }
  wants search && { log "report: search"; target/release/search-bench; }
  if wants round-trips; then
    log "report: sequential round trips"
    cargo nextest run -p moim-local --test round_trips --no-capture 2>/dev/null \
      | awk '/^\| endpoint/ { on = 1 } on && /^\|/ { print } on && !/^\|/ { exit }' > bench/results/round-trips.md.tmp
    { echo "# Sequential storage round trips per endpoint"; echo
      echo "- reproduce: \`cargo nextest run -p moim-local --test round_trips --no-capture\`"; echo
      cat bench/results/round-trips.md.tmp; } > bench/results/round-trips.md
    rm -f bench/results/round-trips.md.tmp
  fi
fi

# The section between the markers: every result file, headings demoted, with
# its SVGs linked.
begin='<!-- results:begin (bench/report.sh writes this section) -->'
end='<!-- results:end -->'
section=$(mktemp)
{
  echo "$begin"
  echo
  echo "## Results as measured (generated $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`bench/report.sh\`)"
  for f in bench/results/*.md; do
    echo
    # Headings one level down; a chart the file links sits beside it in results/.
    sed -e 's/^# /### /' -e 's/^## /#### /' -e 's#!\[\([^]]*\)\](\([^/)]*\.svg\))#![\1](results/\2)#g' "$f"
    for svg in "${f%.md}".svg "${f%.md}"-*.svg; do
      if [ -f "$svg" ] && ! grep -q "${svg##*/}" "$f"; then echo; echo "![${svg##*/}](results/${svg##*/})"; fi
    done
  done
  echo
  echo "$end"
} > "$section"
python3 - "$section" <<'PY'
import sys
section = open(sys.argv[1]).read().rstrip("\n") + "\n"
path = "bench/REPORT.md"
text = open(path).read()
begin = "<!-- results:begin"
end = "<!-- results:end -->"
if begin in text and end in text:
    head = text[: text.index(begin)]
    tail = text[text.index(end) + len(end):].lstrip("\n")
    text = head + section + ("\n" + tail if tail else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(path, "w").write(text)
PY
rm -f "$section"
log "report: bench/REPORT.md results section rewritten from bench/results/"
