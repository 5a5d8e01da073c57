#!/usr/bin/env bash
# Fails if a run left scratch directories, FIFOs or actor processes behind.
set -u
status=0
tmp="${TMPDIR:-/tmp}"
leftover=$(find "$tmp" -maxdepth 1 -name 'ipc-conform-*' 2>/dev/null)
if [ -n "$leftover" ]; then
  echo "left behind in $tmp:"; echo "$leftover"; status=1
fi
if [ -d /dev/shm ] && ls /dev/shm 2>/dev/null | grep -q '^ipc'; then
  echo "left behind in /dev/shm:"; ls /dev/shm | grep '^ipc'; status=1
fi
actors=$(grep -l 'IPC_CONFORM_ROLE=' /proc/[0-9]*/environ 2>/dev/null | wc -l)
if [ "$actors" -gt 0 ]; then
  echo "$actors actor process(es) still running"; status=1
fi
[ $status -eq 0 ] && echo "nothing left behind"
exit $status
