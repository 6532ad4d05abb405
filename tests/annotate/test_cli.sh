#!/usr/bin/env bash
# test_cli.sh: entseg-annotate end to end on a small synthetic store: every command's
# success line, and for bad input exactly one error line, a non-zero exit and an
# untouched store.
set -u
A="$ES_BIN/entseg-annotate"
C="$ES_BIN/entseg-convert"
T="$ES_TMP"
rm -rf "$T" && mkdir -p "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# expect_error CODE CMD...: exit code CODE and exactly one line on stderr
expect_error() {
  local want=$1; shift
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*"
  [ "$(wc -l <"$T/err")" = 1 ] || { fail "want one error line: $*"; cat "$T/err"; }
}
[ -x "$A" ] || { echo "SKIP: $A not built"; exit 77; }
[ -x "$C" ] || { echo "SKIP: $C not built"; exit 77; }
"$C" synth -o "$T/s.db" --images 6 --size 160x120-200x150 --max-entities 12 --seed 3 >/dev/null || { echo "SKIP: synth failed"; exit 77; }
cp "$T/s.db" "$T/orig.db"
snapshot() { "$A" stats "$1" --json - --threads 1 | grep -v '"store"'; }

# stats
"$A" stats "$T/s.db" --plots "$T/plots" --json "$T/stats.json" >"$T/out" || fail "stats"
grep -q '^definitions: resolution = (mean width + mean height) / 2' "$T/out" || fail "stats prints its definitions"
grep -q '^synth ' "$T/out" || fail "stats per source"
for p in entities_per_image resolution entity_area; do [ -s "$T/plots/$p.png" ] || fail "plot $p"; done
grep -q '"complexity"' "$T/stats.json" || fail "stats json"
[ "$(snapshot "$T/s.db")" = "$(snapshot "$T/orig.db")" ] || fail "stats changed the store?"
"$A" stats "$T/s.db" --threads 1 --json "$T/s1.json" >/dev/null && "$A" stats "$T/s.db" --threads 2 --json "$T/s2.json" >/dev/null
cmp -s "$T/s1.json" "$T/s2.json" || fail "stats differ between 1 and 2 threads"
expect_error 1 "$A" stats "$T/missing.db"
expect_error 2 "$A" stats "$T/s.db" --threads x
expect_error 2 "$A" stats

# labels and vocabulary
"$A" label "$T/s.db" --image 1 --entity 1 --set person >/dev/null || fail "label"
"$A" vocab "$T/s.db" >"$T/out" || fail "vocab"
for l in unknown blurred supercategory_other person; do grep -q " $l " "$T/out" || fail "vocab lists $l"; done
expect_error 1 "$A" label "$T/s.db" --image 1 --entity 1 --set " person"
expect_error 1 "$A" label "$T/s.db" --image 1 --entity 1 --set ""
expect_error 1 "$A" label "$T/s.db" --image 999 --entity 1 --set dog
expect_error 1 "$A" label "$T/s.db" --image 1 --entity 99999 --set dog
printf 'image,entity,label\n1,1,man\n' >"$T/l.csv"
"$A" label "$T/s.db" --from "$T/l.csv" >/dev/null || fail "label --from csv"
"$A" vocab "$T/s.db" merge man person >/dev/null || fail "vocab merge"
"$A" vocab "$T/s.db" rename person human >/dev/null || fail "vocab rename"
"$A" vocab "$T/s.db" parent human supercategory_other >/dev/null || fail "vocab parent"
expect_error 1 "$A" vocab "$T/s.db" parent supercategory_other human
expect_error 1 "$A" vocab "$T/s.db" rename blurred sharp
"$A" vocab "$T/s.db" export "$T/v.json" || fail "vocab export"
grep -q '"human"' "$T/v.json" || fail "export has human"
"$A" vocab "$T/orig.db" import "$T/v.json" >/dev/null || fail "vocab import"
"$A" history "$T/s.db" | grep -q 'vocab .* merge man person' || fail "history lists the merge"
for i in 1 2 3 4 5; do "$A" undo "$T/s.db" >/dev/null || fail "undo $i"; done
"$A" undo "$T/s.db" | grep -q 'nothing to undo' || fail "undo when empty"
cp "$T/orig.db" "$T/s.db"

# edits: each with undo, and errors leave the store as it was
before=$(snapshot "$T/s.db")
"$A" delete "$T/s.db" --entity 1 >/dev/null || fail "delete"
[ "$(snapshot "$T/s.db")" != "$before" ] || fail "delete changed nothing"
"$A" undo "$T/s.db" >/dev/null || fail "undo delete"
[ "$(snapshot "$T/s.db")" = "$before" ] || fail "undo restores the store"
expect_error 1 "$A" delete "$T/s.db" --entity 99999
expect_error 1 "$A" merge "$T/s.db" --entities 1,99999
expect_error 2 "$A" merge "$T/s.db" --entities 1,x
expect_error 1 "$A" fill "$T/s.db" --image 1 --rect 0,0,400,400 --new
expect_error 1 "$A" paint "$T/s.db" --image 1 --mask "$T/plots/resolution.png" --new   # 640x400: wrong size
expect_error 1 "$A" paint "$T/s.db" --image nosuch --rect 0,0,4,4 --new
expect_error 2 "$A" paint "$T/s.db" --image 1 --rect 0,0,4,4
"$A" paint "$T/s.db" --image 1 --rect 0,0,20,20 --new --label patch >/dev/null || fail "paint"
"$A" split "$T/s.db" --entity 1 >"$T/out" 2>&1; # may have one component: then one error line
"$A" undo "$T/s.db" >/dev/null; grep -q "nothing to split\|split: edit" "$T/out" || fail "split entity"
"$A" undo "$T/s.db" >/dev/null
[ "$(snapshot "$T/s.db")" = "$before" ] || fail "undo after paint"
[ "$("$A" history "$T/s.db" | grep -c undone)" -ge 2 ] || fail "history marks undone edits"

# agreement, pictures, split
"$A" agree "$T/s.db" "$T/orig.db" --json "$T/agree.json" >"$T/out" || fail "agree"
grep -q 'AP 100.0' "$T/out" || { fail "agree with itself gives AP 100"; cat "$T/out"; }
for e in 2 3 4 5 6 7 8; do "$A" delete "$T/s.db" --entity $e >/dev/null 2>&1 && break; done
"$A" agree "$T/orig.db" "$T/s.db" >"$T/out" || fail "agree perturbed"
grep -q 'AP 100.0' "$T/out" && fail "agree with a deleted entity is below 100"
expect_error 1 "$A" agree "$T/s.db" "$T/missing.db"
"$A" render "$T/orig.db" --image 1 -o "$T/r.png" --labels >/dev/null || fail "render"
[ -s "$T/r.png" ] || fail "render wrote a PNG"
"$A" render "$T/orig.db" --image 1 --pred "$T/s.db" -o "$T/p.png" | grep -q 'TP' || fail "render --pred"
expect_error 1 "$A" render "$T/orig.db" --image 999 -o "$T/x.png"
"$A" split "$T/orig.db" --test 2 --candidates 5 --seed 9 -o "$T/split1.json" >/dev/null || fail "split"
"$A" split "$T/orig.db" --test 2 --candidates 5 --seed 9 -o "$T/split2.json" >/dev/null
cmp -s "$T/split1.json" "$T/split2.json" || fail "split is deterministic"
expect_error 1 "$A" split "$T/orig.db" --test 6 -o "$T/x.json"
expect_error 2 "$A" nosuchcommand

[ $fails = 0 ] && echo "all CLI checks passed" || echo "$fails CLI checks failed"
[ $fails = 0 ]
