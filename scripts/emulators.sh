# shellcheck shell=bash
# Starts DynamoDB Local and moto's server on free loopback ports and exports
# MOIM_DYNAMODB_ENDPOINT / MOIM_S3_ENDPOINT (+ dummy AWS credentials) for the tests.
# `stop_emulators` ends both; scripts/test traps it on exit.

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() { # url, name, pid
  for _ in $(seq 1 120); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then log "$2 exited early"; return 1; fi
    sleep 0.25
  done
  log "$2 did not answer at $1"; return 1
}

start_emulators() {
  local ddb_port s3_port
  ddb_port=$(free_port); s3_port=$(free_port)
  EMU_LOG_DIR=${EMU_LOG_DIR:-$(mktemp -d)}
  (cd "$DDB_DIR" && exec java -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
      -inMemory -port "$ddb_port" >"$EMU_LOG_DIR/dynamodb.log" 2>&1) &
  DDB_PID=$!
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$s3_port" >"$EMU_LOG_DIR/moto.log" 2>&1 &
  MOTO_PID=$!
  wait_http "http://127.0.0.1:$ddb_port" "DynamoDB Local" "$DDB_PID"
  wait_http "http://127.0.0.1:$s3_port/moto-api/" "moto" "$MOTO_PID"
  export MOIM_DYNAMODB_ENDPOINT="http://127.0.0.1:$ddb_port"
  export MOIM_S3_ENDPOINT="http://127.0.0.1:$s3_port"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  log "DynamoDB Local at $MOIM_DYNAMODB_ENDPOINT, moto (S3) at $MOIM_S3_ENDPOINT, logs in $EMU_LOG_DIR"
}

stop_emulators() {
  [ -n "${DDB_PID:-}" ] && kill "$DDB_PID" 2>/dev/null
  [ -n "${MOTO_PID:-}" ] && kill "$MOTO_PID" 2>/dev/null
  return 0
}
