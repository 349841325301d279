#!/usr/bin/env bash
# Builds every function as it is deployed (`sam build --beta-features`:
# cargo lambda build --release --arm64, one bootstrap per function, from the
# workspace root) and reports each bootstrap's size, architecture and whether
# it is stripped. Fails if the build fails, or any bootstrap is not a
# stripped aarch64 ELF of at most 10 MB (10,000,000 bytes).
#
# Slow on 2 cores (release profile: LTO, codegen-units = 1), so it is not
# part of run.sh. Installs the pinned SAM CLI, cargo-lambda and zig into
# .venv-tools/sam; needs the aarch64-unknown-linux-gnu Rust target.
set -euo pipefail

# shellcheck source=infra/checks/tools.sh
source "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
ensure_venv sam "$checks/requirements.txt" "$checks/constraints-sam.txt"
# sam, cargo-lambda, and the python that carries ziglang (cargo-lambda's zig).
export PATH="$tools/sam/bin:$PATH"

limit=10000000
target=aarch64-unknown-linux-gnu
cd "$root"
if ! rustup target list --installed | grep -qx "$target"; then
    echo "adding the Rust target $target" >&2
    if ! rustup target add "$target"; then
        echo "cannot add $target: run 'rustup target add $target' where rustup reaches its distribution server" >&2
        exit 1
    fi
fi

build_dir="$root/.aws-sam/build"
started=$(date +%s)
sam build --beta-features --template-file "$root/template.yaml" --build-dir "$build_dir"
echo "sam build took $(($(date +%s) - started)) s"

passed=0
failed=0
printf '%-24s %12s  %-8s %s\n' function bytes arch stripped
for bootstrap in "$build_dir"/*/bootstrap; do
    function="$(basename "$(dirname "$bootstrap")")"
    bytes=$(stat -c %s "$bootstrap")
    # ELF e_machine (offset 18, 2 bytes, little endian): 183 = aarch64.
    machine=$(od -An -j18 -N2 -tu2 "$bootstrap" | tr -d ' ')
    arch=$([[ $machine == 183 ]] && echo arm64 || echo "e_machine=$machine")
    stripped=$(readelf -S "$bootstrap" 2>/dev/null | grep -q '\.symtab' && echo no || echo yes)
    printf '%-24s %12d  %-8s %s\n' "$function" "$bytes" "$arch" "$stripped"
    if [[ $bytes -le $limit && $arch == arm64 && $stripped == yes ]]; then
        passed=$((passed + 1))
    else
        echo "  ^ $function: must be a stripped arm64 bootstrap of at most $limit bytes" >&2
        failed=$((failed + 1))
    fi
done
if [[ $((passed + failed)) -eq 0 ]]; then
    echo "no bootstrap under $build_dir" >&2
    exit 1
fi
echo "bootstraps: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
