#!/usr/bin/env bash
# Checks template.yaml, the whole deployment, with no AWS account:
#   1. sam validate --lint       SAM schema + transform + cfn-lint
#   2. cfn-lint (incl. I rules)  CloudFormation schema and best practice
#   3. checkov on template.yaml  security policy on the template as written
#   4. checkov on the transform  the same on what SAM generates (stage, rules,
#                                schedule, permissions, Lambda functions)
# Every skipped checkov check carries its reason beside it, in the skipping
# resource's Metadata (checkov: skip: - id/comment) in template.yaml.
# The pinned tools are installed into .venv-tools/ on first use.
# usage: infra/checks/run.sh [TEMPLATE]   (default: the repository's template.yaml)
set -euo pipefail

# shellcheck source=infra/checks/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"

ensure_venv sam "$checks/requirements.txt" "$checks/constraints-sam.txt"
ensure_venv checkov "$checks/requirements-checkov.txt" "$checks/constraints-checkov.txt"

template="$(realpath "${1:-$root/template.yaml}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
step() {
    local name="$1"
    shift
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
        echo "-- ok: $name"
    else
        failed=$((failed + 1))
        echo "-- FAILED: $name"
    fi
}

transformed() {
    "$tools/sam/bin/python" "$checks/sam_transform.py" "$template" > "$work/transformed.json" &&
        "$tools/checkov/bin/checkov" --file "$work/transformed.json" --framework cloudformation \
            --skip-download --compact --quiet
}

cd "$root"
step "sam validate --lint" "$tools/sam/bin/sam" validate --lint --template "$template"
step "cfn-lint" "$tools/sam/bin/cfn-lint" --include-checks I -- "$template"
step "checkov (template.yaml)" "$tools/checkov/bin/checkov" --file "$template" \
    --framework cloudformation --skip-download --compact --quiet
step "checkov (SAM-transformed template)" transformed

echo "template: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
