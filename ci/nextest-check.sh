#!/usr/bin/env bash
# What cargo-nextest needs from the conformance tests' libtest-mimic harness
# (suites/tests/conformance.rs), checked through nextest itself: listing
# gives one test per catalogue rule id, a filter by id prefix selects
# exactly those rules, --no-capture shows the verdict line, and the exit
# code is 0 for a rule that holds and 100 for one that fails (here the
# rule runs against a deviation of the OS layer, IPC_CONFORM_DEVIATE).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export IPC_CONFORM_OUT="$out"
fail() { echo "nextest check: $*" >&2; exit 1; }
suite=(-p ipc-conform --test conformance)

rules=$(cargo run -q --release -- run --list | awk '{print $1}' | sort)
[ -n "$rules" ] || fail "ipc-conform run --list listed no rules"

listed=$(cargo nextest list "${suite[@]}" | cut -d' ' -f2- | sort)
[ "$listed" = "$rules" ] || fail "nextest lists other tests than the catalogue's rules:
$(diff <(echo "$rules") <(echo "$listed") || true)"
echo "listing: $(echo "$listed" | wc -l) tests, one per rule id"

prefix=pipe.write.
want=$(echo "$rules" | grep -F "$prefix" | grep "^${prefix//./\\.}" || true)
[ -n "$want" ] || fail "no rule id starts with $prefix"
got=$(cargo nextest list "${suite[@]}" "$prefix" | cut -d' ' -f2- | sort)
[ "$got" = "$want" ] || fail "the filter $prefix selected:
$got
instead of:
$want"
echo "filter $prefix: $(echo "$got" | wc -l) rules"

rule=pipe.read.empty-blocks
set +e
held=$(cargo nextest run "${suite[@]}" --no-capture -E "test(=$rule)" 2>&1)
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "$rule through nextest exited $rc:
$held"
echo "$held" | grep -q "^$rule: pass" || fail "--no-capture did not show the verdict line of $rule:
$held"
echo "$rule holds: exit 0, verdict line shown"

set +e
failed=$(IPC_CONFORM_DEVIATE=read-empty-returns-zero cargo nextest run "${suite[@]}" -E "test(=$rule)" 2>&1)
rc=$?
set -e
[ "$rc" -eq 100 ] || fail "$rule against a deviation exited $rc, not 100:
$failed"
echo "$failed" | grep -q "FAIL .*$rule" || fail "nextest did not report $rule as failed:
$failed"
echo "$failed" | grep -q "replay: IPC_CONFORM_DEVIATE=read-empty-returns-zero " \
  || fail "the failure's replay command does not carry the deviation:
$failed"
echo "$rule against read-empty-returns-zero: exit 100, reported failed"
