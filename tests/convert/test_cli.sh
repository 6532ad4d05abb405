#!/usr/bin/env bash
# test_cli.sh: entseg-convert's command line: --help everywhere, exit codes, one error line
# naming the file and the item, no output left behind on failure.
set -u
B="$ES_BIN/entseg-convert"
T="$ES_TMP"
rm -rf "$T" && mkdir -p "$T"
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ -d "$ES_SHARED_DIR/fixtures/tiny" ] || { echo "SKIP: $ES_SHARED_DIR absent"; exit 77; }
F="$ES_SHARED_DIR/fixtures/tiny"

for cmd in coco-panoptic panoptic-pred coco-results coco-instances entityseg label-maps export merge split \
           ade20k-panoptic cityscapes-panoptic; do
  out=$("$B" "$cmd" --help) || fail "$cmd --help exit code"
  echo "$out" | grep -q "^usage: entseg-convert $cmd" || fail "$cmd --help shows no usage"
done

"$B" no-such-command 2>/dev/null; [ $? -eq 2 ] || fail "unknown command: exit code not 2"
"$B" coco-panoptic --json "$F/gt.json" 2>/dev/null; [ $? -eq 2 ] || fail "missing options: exit code not 2"

# a good run, quiet: nothing on stderr
"$B" coco-panoptic --json "$F/gt.json" --png-dir "$F/gt" -o "$T/gt.db" --quiet --threads 2 2>"$T/err" \
  || fail "coco-panoptic on tiny failed: $(cat "$T/err")"
[ -s "$T/err" ] && fail "--quiet printed: $(cat "$T/err")"
"$B" coco-results --json "$F/pred_instances.json" --gt "$T/gt.db" -o "$T/pred.db" --quiet || fail "coco-results"
"$B" panoptic-pred --json "$F/pred_panoptic.json" --png-dir "$F/pred_panoptic" --gt "$T/gt.db" -o "$T/pan.db" --quiet \
  || fail "panoptic-pred"

# an existing output needs --replace
"$B" coco-panoptic --json "$F/gt.json" --png-dir "$F/gt" -o "$T/gt.db" --quiet 2>"$T/err"
[ $? -eq 1 ] || fail "existing output: exit code not 1"
grep -q -- "--replace" "$T/err" || fail "existing output: no hint at --replace"

# truncated JSON: one line naming the file, exit 1, nothing written
head -c 300 "$F/gt.json" > "$T/trunc.json"
"$B" coco-panoptic --json "$T/trunc.json" --png-dir "$F/gt" -o "$T/bad.db" 2>"$T/err"
[ $? -eq 1 ] || fail "truncated JSON: exit code not 1"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "truncated JSON: not one error line: $(cat "$T/err")"
grep -q "trunc.json" "$T/err" || fail "truncated JSON: the file is not named"
[ -e "$T/bad.db" ] && fail "truncated JSON: output left behind"

# missing PNG: the PNG and the image are named
mkdir -p "$T/gt_missing" && cp "$F"/gt/*.png "$T/gt_missing/" && rm "$T/gt_missing/tiny_000002.png"
"$B" coco-panoptic --json "$F/gt.json" --png-dir "$T/gt_missing" -o "$T/bad.db" 2>"$T/err"
[ $? -eq 1 ] || fail "missing PNG: exit code not 1"
[ "$(wc -l < "$T/err")" -eq 1 ] || fail "missing PNG: not one error line"
grep -q "tiny_000002.png" "$T/err" || fail "missing PNG: not named: $(cat "$T/err")"
[ -e "$T/bad.db" ] && fail "missing PNG: output left behind"
# --lenient skips it and lists it
"$B" coco-panoptic --json "$F/gt.json" --png-dir "$T/gt_missing" -o "$T/lenient.db" --lenient 2>"$T/err" \
  || fail "--lenient failed"
grep -q "skipped 1 image" "$T/err" || fail "--lenient does not list the skipped image: $(cat "$T/err")"

# export and back
"$B" export coco-panoptic "$T/gt.db" -o "$T/out.json" 2>/dev/null || fail "export coco-panoptic"
[ -f "$T/out/tiny_000001.png" ] || fail "export coco-panoptic wrote no PNG"
"$B" coco-panoptic --json "$T/out.json" --png-dir "$T/out" -o "$T/gt2.db" --quiet || fail "re-import"
"$B" export coco-instances "$T/pred.db" -o "$T/res.json" 2>/dev/null || fail "export coco-instances"
"$B" export label-maps "$T/gt.db" -o "$T/maps" 2>/dev/null || fail "export label-maps"
"$B" label-maps --dir "$T/maps" -o "$T/maps.db" --quiet || fail "label-maps"
"$B" merge "$T/gt.db" "$T/maps.db" -o "$T/merged.db" --quiet 2>/dev/null
[ $? -eq 1 ] || fail "merge with clashing image names should fail"
"$B" split "$T/gt.db" --ratio 0.5 -o "$T/a.db" --rest "$T/b.db" --quiet || fail "split"

echo "$fails failure(s)"
[ "$fails" -eq 0 ]
