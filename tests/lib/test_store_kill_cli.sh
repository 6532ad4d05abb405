#!/usr/bin/env bash
# A real import killed with SIGKILL half-way (issue 2): the store it was replacing is
# byte-for-byte intact and still passes `entseg-convert check`, and an import to a new
# path leaves nothing at that path. (tests/lib/test_store_kill.c does the same at the
# library level, with the file caught half-written.)
set -euo pipefail
conv="$ES_BIN/entseg-convert"
if [ ! -x "$conv" ]; then
  echo "SKIP: $conv is not built"
  exit 77
fi
rm -rf "$ES_TMP"
mkdir -p "$ES_TMP"
cd "$ES_TMP"

"$conv" synth -o orig.db --images 3 --size 64x48 --seed 1 --quiet
cp orig.db orig.before

# Starts a long import into $1 (extra options after it) and kills it once it has written
# some images; fails if the import ended by itself.
import_and_kill() {
  local out=$1
  shift
  "$conv" synth -o "$out" --images 100000 --size 160x120 --seed 2 --threads 1 --quiet "$@" &
  local pid=$! waited=0
  # the images go to $out.images.tmp-<pid> until the import finishes
  while [ "$(cat /dev/null "$out".images*/*.png 2>/dev/null | wc -c)" -lt 20000 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAIL: the import into $out ended before it was killed"
      exit 1
    fi
    sleep 0.05
    waited=$((waited + 1))
    if [ "$waited" -gt 1200 ]; then
      echo "FAIL: the import into $out wrote no images in 60 s"
      kill -9 "$pid"
      exit 1
    fi
  done
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  echo "killed the import into $out after $(ls "$out".images*/ | wc -l) images"
}

import_and_kill orig.db --replace
cmp orig.db orig.before || { echo "FAIL: the replaced store changed"; exit 1; }
"$conv" check orig.db
echo "ok   a killed --replace import leaves the old store intact"

import_and_kill fresh.db
if [ -e fresh.db ]; then
  echo "FAIL: a killed import left fresh.db at its path"
  exit 1
fi
echo "ok   a killed import leaves nothing at its path"
ls fresh.db.tmp-* >/dev/null 2>&1 && echo "(its temporary file fresh.db.tmp-* stays beside, safe to delete)"
exit 0
