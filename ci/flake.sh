#!/usr/bin/env bash
# No flakes: runs the whole conformance N times (default 20) while two
# CPU-bound processes load both cores, and counts verdicts other than
# pass / unsupported. The target is zero.
#
#   bash ci/flake.sh [N] [--with-build]
#
# --with-build also keeps a cargo build of the workspace running beside
# the runs (a clean debug build into a scratch target folder, over and
# over): compilers, linkers and disk on top of the busy loops.
# IPC_CONFORM_TIMEOUT_SCALE and the other knobs pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=20
with_build=0
for arg in "$@"; do
  case "$arg" in
    --with-build) with_build=1 ;;
    ''|*[!0-9]*) echo "flake.sh: unknown argument $arg (expected a number of runs or --with-build)" >&2; exit 2 ;;
    *) runs=$arg ;;
  esac
done
cargo build --release --quiet
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-conform-flake.XXXXXX")
# A copy: a rebuild in the work tree during the measurement changes nothing.
bin="$work/ipc-conform"
cp target/release/ipc-conform "$bin"
hogs=()
# Each background load gets a process group of its own (job control), so
# that clean-up ends it with everything it started (cargo, rustc, ...).
set -m
cleanup() {
  for pid in "${hogs[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
# Two busy loops: both cores stay loaded for the whole measurement.
for _ in 1 2; do
  ( while :; do :; done ) &
  hogs+=($!)
done
if [ "$with_build" = 1 ]; then
  ( while :; do
      rm -rf "$work/build-target"
      CARGO_TARGET_DIR="$work/build-target" cargo build --workspace --quiet >/dev/null 2>&1 || true
    done ) &
  hogs+=($!)
fi
bad=0
rules=0
for i in $(seq 1 "$runs"); do
  out="$work/run-$i"
  "$bin" run --out "$out" > "$out.log" 2>&1 || true
  if [ ! -f "$out/report.json" ]; then
    echo "run $i: no report (see $out.log)"; cat "$out.log"; bad=$((bad + 1)); continue
  fi
  counts=$(python3 - "$out/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = [f"{e['id']}={e['verdict']}" for e in r["rules"] if e["verdict"] not in ("pass", "unsupported")]
print(len(r["rules"]), len(bad), " ".join(bad))
PY
)
  read -r n nbad names <<<"$counts"
  rules=$((rules + n))
  bad=$((bad + nbad))
  echo "run $i: $n rules, $nbad not pass/unsupported ${names:-}"
done
load="two busy loops"
[ "$with_build" = 1 ] && load="$load and a cargo build"
echo "flake figure: $bad verdicts other than pass/unsupported in $runs runs under $load ($rules rule verdicts)"
[ "$bad" -eq 0 ]
