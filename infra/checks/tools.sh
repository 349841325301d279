# shellcheck shell=bash
# Sourced by run.sh and build-sizes.sh: locates the repository and installs
# the pinned tools into .venv-tools/<name> when they are missing or their
# pins changed. Needs python3 (>= 3.9) and PyPI; nothing else from outside.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
checks="$root/infra/checks"
tools="${ZERODESK_TOOLS_VENV:-$root/.venv-tools}"

# ensure_venv NAME REQUIREMENTS CONSTRAINTS
ensure_venv() {
    local name="$1" requirements="$2" constraints="$3"
    local venv="$tools/$name" stamp
    stamp="$(cat "$requirements" "$constraints" | sha256sum | cut -d' ' -f1)"
    if [[ -x "$venv/bin/python" && -f "$venv/.pins" && "$(cat "$venv/.pins")" == "$stamp" ]]; then
        return 0
    fi
    echo "installing pinned $name tools into $venv" >&2
    rm -rf "$venv"
    mkdir -p "$tools"
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        -r "$requirements" -c "$constraints"
    echo "$stamp" > "$venv/.pins"
}

# Every tool runs without an AWS account: a region for the SDKs that insist,
# and no telemetry (it would try the network).
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_REGION="${AWS_REGION:-$AWS_DEFAULT_REGION}"
export SAM_CLI_TELEMETRY=0
