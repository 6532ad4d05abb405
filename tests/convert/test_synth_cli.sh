#!/bin/bash
# test_synth_cli.sh: the synth / synth-pred / info / check commands as a user runs them:
# same seed -> byte-identical PNGs and store content whatever --threads; check passes on
# the dataset and its predictions and fails (exit 1) on a corrupted blob; info --json -
# is JSON; bad options exit 2 with one line.
set -u
CONVERT="$ES_BIN/entseg-convert"
[ -x "$CONVERT" ] || { echo "SKIP: $CONVERT not built"; exit 77; }
rm -rf "$ES_TMP" && mkdir -p "$ES_TMP" && cd "$ES_TMP" || exit 1
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }

"$CONVERT" synth --help | grep -q -- "--max-entities" && ok "synth --help lists its options" || bad "synth --help"

"$CONVERT" synth -o a.db --images 6 --size 80x60-160x120 --seed 3 --threads 1 --quiet || bad "synth a"
"$CONVERT" synth -o b.db --images 6 --size 80x60-160x120 --seed 3 --threads 2 --quiet || bad "synth b"
same=1
for f in a.db.images/*.png; do cmp -s "$f" "b.db.images/$(basename "$f")" || same=0; done
[ "$(ls a.db.images | wc -l)" = 6 ] && [ $same = 1 ] && ok "PNG bytes identical across thread counts" || bad "PNG bytes differ"

if command -v sqlite3 >/dev/null; then
  dump() { sqlite3 "$1" "SELECT i.name, i.width, i.height, e.area, e.bbox_x, e.bbox_y, e.bbox_w, e.bbox_h, e.is_crowd, hex(e.mask) FROM entities e JOIN images i ON i.id = e.image_id ORDER BY e.id"; }
  [ "$(dump a.db)" = "$(dump b.db)" ] && ok "store content identical across thread counts" || bad "store content differs"
fi

"$CONVERT" check a.db --files >/dev/null && ok "check passes on the dataset" || bad "check on a.db"
"$CONVERT" info a.db --json - > info.json || bad "info --json -"
if command -v python3 >/dev/null; then
  python3 -c 'import json,sys; d=json.load(open("info.json")); assert d["images"]==6 and d["kind"]=="ground_truth", d' \
    && ok "info --json - parses" || bad "info JSON"
else
  grep -q '"images":[[:space:]]*6' info.json && ok "info --json - has the image count" || bad "info JSON"
fi

"$CONVERT" synth-pred --gt a.db -o p.db --seed 2 --noise 0.5 --quiet && "$CONVERT" check p.db >/dev/null \
  && ok "synth-pred writes a store that passes check" || bad "synth-pred"

if command -v sqlite3 >/dev/null; then
  cp a.db c.db
  sqlite3 c.db "UPDATE entities SET mask = X'0102030405' WHERE id = 3"
  out=$("$CONVERT" check c.db 2>/dev/null); rc=$?
  [ $rc = 1 ] && echo "$out" | grep -q "entity 3" && ok "check finds a corrupted blob (exit 1)" || bad "corrupt blob: rc=$rc $out"
fi

"$CONVERT" synth -o a.db --images 2 --quiet 2>err.txt; rc=$?
[ $rc = 1 ] && grep -q "replace" err.txt && ok "an existing store is not overwritten without --replace" || bad "no-replace rc=$rc"
"$CONVERT" synth -o x.db --size 0x5 2>err.txt; rc=$?
[ $rc = 2 ] && [ "$(wc -l < err.txt)" = 1 ] && ok "a bad --size is a usage error" || bad "bad size rc=$rc"
"$CONVERT" synth 2>/dev/null; [ $? = 2 ] && ok "missing -o is a usage error" || bad "missing -o"
[ ! -e x.db ] && ok "nothing written on errors" || bad "x.db exists"
exit $fail
