#!/usr/bin/env bash
# Nothing left behind: scratch directories (and the test runs' output
# directories, all named ipc-conform-*), shared-memory names, POSIX message
# queues (where /dev/mqueue is mounted), SysV objects (keys 0x49......,
# harness/src/os/sysv.rs) and actor processes of ipc-conform.
#
#   ci/check-leftovers.sh --record FILE    note what exists now (before a run)
#   ci/check-leftovers.sh --against FILE   fail on anything new since then
#   ci/check-leftovers.sh                  fail on anything at all
set -u
snapshot() {
  tmp="${TMPDIR:-/tmp}"
  find "$tmp" -maxdepth 1 -name 'ipc-conform-*' 2>/dev/null | sed 's/^/path /'
  if [ -d /dev/shm ]; then
    find /dev/shm -maxdepth 1 \( -name 'ipcc-*' -o -name 'sem.ipcc-*' \) 2>/dev/null | sed 's/^/shm /'
  fi
  if [ -d /dev/mqueue ]; then
    find /dev/mqueue -maxdepth 1 -name 'ipcc-*' 2>/dev/null | sed 's/^/mqueue /'
  fi
  for kind in msg sem shm; do
    [ -r "/proc/sysvipc/$kind" ] || continue
    # key (decimal) in the first column, id in the second; ours: key >> 24 == 0x49
    awk -v kind="$kind" 'NR > 1 && int($1 / 16777216) == 73 { printf "sysv-%s key=0x%08x id=%s\n", kind, $1, $2 }' "/proc/sysvipc/$kind"
  done
  for f in /proc/[0-9]*/environ; do
    if { tr '\0' '\n' < "$f"; } 2>/dev/null | grep -q '^IPC_CONFORM_ROLE='; then
      pid=${f#/proc/}; pid=${pid%/environ}
      state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
      [ "$state" != "Z" ] && [ -n "$state" ] && echo "process $pid"
    fi
  done
  return 0
}
case "${1:-}" in
  --record)
    snapshot | sort > "$2"
    exit 0 ;;
  --against)
    baseline="$2" ;;
  *)
    baseline=/dev/null ;;
esac
new=$(snapshot | sort | comm -13 "$baseline" -)
if [ -n "$new" ]; then
  echo "left behind:"
  echo "$new"
  exit 1
fi
echo "nothing left behind"
