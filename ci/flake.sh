#!/usr/bin/env bash
# No flakes: runs the whole conformance N times (default 20) while two
# CPU-bound processes load both cores, and counts verdicts other than
# pass / unsupported. The target is zero.
#
#   bash ci/flake.sh [N]          (IPC_CONFORM_TIMEOUT_SCALE and other knobs pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
cargo build --release --quiet
bin=target/release/ipc-conform
work=$(mktemp -d "${TMPDIR:-/tmp}/ipc-conform-flake.XXXXXX")
hogs=()
cleanup() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM
# Two busy loops: both cores stay loaded for the whole measurement.
for _ in 1 2; do
  ( while :; do :; done ) &
  hogs+=($!)
done
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
echo "flake figure: $bad verdicts other than pass/unsupported in $runs loaded runs ($rules rule verdicts)"
[ "$bad" -eq 0 ]
