#!/usr/bin/env bash
# Fuzzes the whole HTTP API from its OpenAPI spec with schemathesis (PyPI),
# against a fresh moim-local on the embedded store: once anonymous and once as
# a logged-in host whose groups, room, member and notification ids the path
# parameters take, so requests reach the handlers behind the id lookups.
# Passes only with 0 server errors and 0 responses outside the spec.
#
#   scripts/fuzz-api.sh                  # default: 20 examples per operation
#   FUZZ_EXAMPLES=200 scripts/fuzz-api.sh
#
# Checks: everything schemathesis has except `positive_data_acceptance` (a
# request the schema allows may still break a rule the schema cannot say, e.g.
# a start time in the past, and must then get its 4xx). Reports (JUnit, and
# the failing cases as pytest reproductions) go to $FUZZ_REPORTS
# (default target/fuzz-api). Run by scripts/test; needs python3 and cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
source scripts/tools.sh

SCHEMATHESIS_VERSION=4.32.5
FUZZ_VENV="$MOIM_TOOLS/fuzz-venv"
EXAMPLES=${FUZZ_EXAMPLES:-20}
# One worker: with two, hypothesis parses lambda sources (ast.parse) on two
# threads at once, and CPython 3.11 keeps the AST builder's recursion depth
# per interpreter, so the threads trip over each other ("SystemError: AST
# constructor recursion depth mismatch", cpython#106905) and an operation ends
# in a runtime error of the fuzzer itself. Seen once in CI on 3.11.7.
WORKERS=${FUZZ_WORKERS:-1}
REPORTS=${FUZZ_REPORTS:-$PWD/target/fuzz-api}
# A fixed seed makes a run repeatable; FUZZ_SEED=random draws a new one.
SEED=${FUZZ_SEED:-20261202}
SEED_ARGS=(--seed "$SEED")
[ "$SEED" = random ] && SEED_ARGS=()

if [ "$("$FUZZ_VENV/bin/st" --version 2>/dev/null)" != "st, version $SCHEMATHESIS_VERSION" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $FUZZ_VENV"
  python3 -m venv "$FUZZ_VENV"
  "$FUZZ_VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

log "fuzz: building moim-local"
cargo build -q -p moim-local
BIN=${CARGO_TARGET_DIR:-target}/debug/moim-local

DATA=$(mktemp -d)
mkdir -p "$REPORTS"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
# Only this run's variables: the caller's may point at emulators.
env -u MOIM_STORE -u SEARCH_ENGINE RUST_LOG=warn "$BIN" serve --addr "127.0.0.1:$PORT" --data "$DATA" \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true
  cp "$DATA/server.log" "$REPORTS/server.log" 2>/dev/null || true
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 100); do curl -fs "$BASE/openapi.json" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "$BASE/openapi.json" -o "$DATA/openapi.json" || { cat "$DATA/server.log"; log "moim-local did not start"; exit 1; }

log "fuzz: seeding a host, a member, two groups, a room and a notification"
seed=$(python3 - "$BASE" <<'PY'
import json, sys, time, urllib.request, datetime
base = sys.argv[1]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(base + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"authorization": "Bearer " + token} if token else {})})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")
def user(email, nick):
    call("POST", "/api/v1/auth/signup", {"email": email, "password": "password1!", "nickName": nick})
    d = call("POST", "/api/v1/auth/login", {"email": email, "password": "password1!"})["data"]
    return d["accessToken"], d["user"]["userId"]
host, host_id = user("fuzz-host@moim.test", "fuzzhost")
member, member_id = user("fuzz-member@moim.test", "fuzzmember")
start = (datetime.datetime.now() + datetime.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%S")
def group(policy):
    body = {"title": "fuzz " + policy, "location": "Seoul", "startTime": start, "description": "fuzzing",
            "maxParticipants": 10, "joinPolicy": policy, "tags": ["fuzz"]}
    return call("POST", "/api/v2/groups/create", body, host)["data"]["id"]
free = group("FREE")
time.sleep(5.2)  # the host's creation cooldown (API.md: 5 s between creates)
approval = group("APPROVAL_REQUIRED")
call("POST", f"/api/v2/groups/{free}/attend", None, member)
call("POST", f"/api/v2/groups/{approval}/attend", {"message": "hi"}, member)
room = call("GET", f"/api/v2/groups/{free}", None, host)["data"]["chatRoomId"]
call("POST", "/api/v1/users/follow?followNickname=fuzzhost", None, member)
notes = call("GET", "/api/v1/notifications", None, host)["data"]["notifications"]
note = notes[0]["id"] if notes else 1
print(f"HOST_TOKEN={host}; MEMBER_ID={member_id}; GROUP_ID={approval}; ROOM_ID={room}; NOTIFICATION_ID={note}")
PY
)
eval "$seed"
# Integers, as the spec types them (a string here would read as a wrong type).
cat >"$DATA/schemathesis.toml" <<TOML
[parameters]
"path.groupId" = $GROUP_ID
"path.roomId" = $ROOM_ID
"path.userId" = $MEMBER_ID
"path.targetUserId" = $MEMBER_ID
"path.id" = $NOTIFICATION_ID
TOML


status=0
run() {  # run <name> [schemathesis options...]
  local name=$1; shift
  log "fuzz ($name): schemathesis run, $EXAMPLES examples per operation, seed $SEED"
  # From the scratch dir: schemathesis keeps a cache (.schemathesis/) in its working directory.
  (cd "$DATA" && "$FUZZ_VENV/bin/st" --no-color --config-file "$DATA/schemathesis.toml" run "$DATA/openapi.json" --url "$BASE" \
    --max-examples "$EXAMPLES" "${SEED_ARGS[@]}" --workers "$WORKERS" --exclude-checks positive_data_acceptance \
    --request-timeout 20 --max-redirects 0 --warnings off \
    --report junit,pytest --report-junit-path "$REPORTS/$name.xml" --report-pytest-path "$REPORTS/$name.py" \
    "$@") || status=$?
}
run anonymous
# Withdrawing would delete the caller the rest of the run acts as.
run host --header "Authorization: Bearer $HOST_TOKEN" --exclude-path /api/v1/auth/withdraw
if grep -q 'panicked' "$DATA/server.log"; then
  grep -m5 'panicked' "$DATA/server.log"
  log "fuzz: the server panicked"
  status=1
fi
if [ "$status" -eq 0 ]; then
  log "fuzz: OK (0 server errors, 0 responses outside the spec)"
else
  log "fuzz: FAILED (see above and $REPORTS)"
fi
exit "$status"
