#!/usr/bin/env bash
# Cold start of every Lambda package beside a bare lambda_runtime hello, built
# the same way (cargo lambda build --release: lto, codegen-units=1, strip) and
# measured in one run: a fresh process per invocation, from spawn to the first
# byte of its first response, through a local Runtime API
# (bench/src/lambda_cold_start.rs). The packages are built for this machine
# (x86_64): the arm64 ones cannot execute here; size and code are the same
# build, only the instruction set differs.
#
# The functions reach DynamoDB Local and moto (started here, as scripts/test
# does) with the Lambda environment template.yaml gives them.
#
# Reproduce (from the repo root):  bench/lambda-cold-start.sh   [RUNS=30]
# Output: bench/results/lambda-cold-start.md and .svg
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
source scripts/tools.sh
# shellcheck source=scripts/emulators.sh
source scripts/emulators.sh
RUNS=${RUNS:-30}
export PATH="$VENV/bin:$PATH"
command -v cargo-lambda >/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check cargo-lambda

# name=binary:event (the event each function answers first; no event needs data).
# The -401 rows are functions whose first row touches storage, answering a
# request that does not: their own cold start, without the emulators' latency.
TARGETS=(
  "hello=lambda-hello:events/sweeper-scheduled.json"
  "auth=auth:events/auth-refresh-no-cookie.json"
  "users=users:events/users-email-availability.json"
  "groups=groups:events/groups-list.json"
  "users-401=users:events/users-me-no-token.json"
  "groups-401=groups:events/groups-create-no-token.json"
  "notifications=notifications:events/notifications-list-no-token.json"
  "notifications-stream=notifications-stream:events/notifications-subscribe-no-token.json"
  "chat=chat:events/chat-rooms-no-token.json"
  "chat-ws=chat-ws:events/chat-ws-default-bad-token.json"
  "images=images:events/images-upload-no-token.json"
  "image-processor=image-processor:events/image-processor-incoming.json"
  "sweeper=sweeper:events/sweeper-scheduled.json"
)
LAMBDA_DIR=${CARGO_TARGET_DIR:-$PWD/target}/lambda-x86/lambda
build=(cargo lambda build --release --x86-64 --lambda-dir "$LAMBDA_DIR")
bins=()
for t in "${TARGETS[@]}"; do b=${t#*=}; bins+=("${b%%:*}"); done
for b in $(printf '%s\n' "${bins[@]}" | sort -u); do build+=(--bin "$b"); done
log "building the packages for this machine: ${build[*]}"
CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}/lambda-x86 "${build[@]}"
# The harness only serves the Runtime API and takes timestamps, and moim-local
# only creates the table: the debug builds the tests already made will do.
log "building the harness and moim-local"
cargo build -q -p moim-bench --bin lambda-cold-start -p moim-local
BIN_DIR=${CARGO_TARGET_DIR:-$PWD/target}/debug

ensure_tools
trap stop_emulators EXIT
start_emulators
export MOIM_STORE=dynamodb TABLE_NAME=moim-cold-start BUCKET_NAME=moim-cold-start
export DYNAMODB_ENDPOINT=$MOIM_DYNAMODB_ENDPOINT S3_ENDPOINT=$MOIM_S3_ENDPOINT
export JWT_SECRET=cold-start-secret-cold-start-secret PUBLIC_BASE_URL=http://127.0.0.1:9/images
export RUST_LOG=warn
# moim-local creates the table and the bucket from template.yaml.
"$BIN_DIR/moim-local" invoke UsersFunction -e events/users-email-availability.json >/dev/null

args=()
for t in "${TARGETS[@]}"; do
  name=${t%%=*}; rest=${t#*=}
  args+=("$name=$LAMBDA_DIR/${rest%%:*}/bootstrap:${rest#*:}")
done
mkdir -p bench/results
"$BIN_DIR/lambda-cold-start" --runs "$RUNS" --out bench/results/lambda-cold-start.md "${args[@]}"
