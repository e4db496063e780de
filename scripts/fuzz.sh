#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time (FUZZ_SECONDS, default 60): user-data through
# the parser and action planner, and IMDS listings with getactions lists. A crash, an input
# that takes over 1 s, or memory over 200 MB fails the run; the reproducer is printed and
# kept in FUZZ_ARTIFACTS (default: a temp dir). CI runs this (.ci/run).
#
# Swift's -sanitize=fuzzer links libFuzzer's own main, which SwiftPM's executables cannot use,
# so the targets are built with AddressSanitizer plus libFuzzer's coverage counters, and
# start libFuzzer's driver from their main (Fuzz/*/main.swift) with libFuzzer's no-main library.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
artifacts=${FUZZ_ARTIFACTS:-$(mktemp -d)}
runtime=$(ls "$(dirname "$(readlink -f "$(command -v swiftc)")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)
flags=(-c debug --scratch-path .build-fuzz -Xswiftc -sanitize=address
       -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xlinker "$runtime")
# ASan keeps freed memory in a 256 MB quarantine by default, which alone would pass the bound.
export ASAN_OPTIONS=quarantine_size_mb=8:detect_leaks=0
status=0
for target in FuzzUserData:user-data FuzzListings:listings; do
  product=${target%%:*}
  corpus=$(mktemp -d)
  cp "Fuzz/corpus/${target##*:}"/* "$corpus"/
  # A target that does not build fails the run (a stale binary from an earlier build must not be fuzzed instead).
  if ! EC2BOOT_FUZZ=1 swift build "${flags[@]}" --product "$product" > "$artifacts/$product.build.log" 2>&1; then
    grep -E "error" "$artifacts/$product.build.log" | sort -u | head -20
    echo "fuzz: $product did not build (log: $artifacts/$product.build.log)" >&2
    exit 1
  fi
  echo "fuzzing $product for $seconds s"
  if ! .build-fuzz/debug/"$product" -max_total_time="$seconds" -timeout=1 -rss_limit_mb=200 -print_final_stats=1 \
       -artifact_prefix="$artifacts/$product-" "$corpus" > "$artifacts/$product.log" 2>&1; then
    status=1
    echo "$product found a problem:"
    grep -E "ERROR|SUMMARY|Test unit written|Base64" "$artifacts/$product.log" | tail -8
  fi
  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" "$artifacts/$product.log" || tail -3 "$artifacts/$product.log"
  rm -rf "$corpus"
done
exit $status
