#!/usr/bin/env bash
# Nothing left behind: scratch directories, shared-memory names and actor
# processes of ipc-conform.
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
