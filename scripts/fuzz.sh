#!/usr/bin/env bash
# Long runs of the fuzz targets (the same bolero check!s that `cargo test`
# runs for one second each): every target for SECONDS seconds (default 60),
# one after another, in an optimised build, printing each target's count of
# inputs. A failure prints the input and its BOLERO_RANDOM_SEED; replay it
# with `BOLERO_RANDOM_SEED=<seed> cargo test -p <crate> --test fuzz <target>`.
#
#   scripts/fuzz.sh              # every target, 60 s each
#   scripts/fuzz.sh 600 driver   # targets whose name contains "driver", 10 min each
#
# Not part of scripts/test.sh: the test command runs the short versions.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
filter="${2:-}"
export BOLERO_RANDOM_TEST_TIME_MS=$((seconds * 1000))

# crate, then --test NAME or --lib with the module path of its fuzz test
targets=(
    "ferry-proto --test fuzz"
    "ferry-server --test fuzz"
    "ferry-server --lib proxy::tests::fuzz_"
    "ferry-bridge --test fuzz"
)

status=0
for target in "${targets[@]}"; do
    read -r crate kind rest <<<"$target"
    args=(-p "$crate" --release)
    if [ "$kind" = --lib ]; then
        # The module's own target: run it when the filter names it.
        case "fuzz_read_header" in *"$filter"*) ;; *) continue ;; esac
        args+=(--lib -- --exact "${rest}read_header")
    else
        args+=(--test "$rest" -- ${filter:+"$filter"})
    fi
    echo "== $crate $kind $rest (${seconds} s per target)" >&2
    # One test at a time: each target gets the core it is measured on.
    set +e
    cargo test "${args[@]}" --nocapture --test-threads=1 2>&1 |
        grep -E --line-buffered "rng inputs|panicked|Failure|BOLERO_RANDOM_SEED|^test result|^error"
    result="${PIPESTATUS[0]}"
    set -e
    [ "$result" -eq 0 ] || status=1
done
exit "$status"
