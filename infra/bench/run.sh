#!/usr/bin/env bash
# Builds every function in release (the Lambda profile: LTO, one codegen
# unit, stripped, panic=abort) and measures cold start, peak RSS and size.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p tickets -p reset -p unlock -p verify -p audit-write -p retention-purge -p admin -p zerodesk-bench
target/release/zerodesk-bench target/release
