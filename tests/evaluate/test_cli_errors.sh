#!/usr/bin/env bash
# tests/evaluate/test_cli_errors.sh: entseg-eval's bad-input handling and CLI contract:
# one clear error line and a non-zero exit for swapped arguments, wrong store kinds,
# prediction images missing from the ground truth, image sizes that disagree, overlapping
# predictions under --overlap error, bad options (exit 2); a warning with the count for
# ground-truth images without predictions; --json - on stdout; --coco-summary lines;
# --per-image and --report files.
set -uo pipefail
: "${ES_BIN:?}" "${ES_SHARED_DIR:?}" "${ES_TMP:?}"
[ -d "$ES_SHARED_DIR/fixtures" ] || { echo "SKIP: $ES_SHARED_DIR/fixtures absent"; exit 77; }
rm -rf "$ES_TMP" && mkdir -p "$ES_TMP"
cd "$ES_TMP" || exit 1
conv="$ES_BIN/entseg-convert"
ev="$ES_BIN/entseg-eval"
fail=0
F="$ES_SHARED_DIR/fixtures/tiny"
S="$ES_SHARED_DIR/fixtures/small"
"$conv" coco-panoptic --json "$F/gt.json" --png-dir "$F/gt" -o gt.db --quiet || exit 1
"$conv" coco-results --json "$F/pred_instances.json" --gt gt.db -o pred.db --quiet || exit 1
"$conv" coco-panoptic --json "$S/gt.json" --png-dir "$S/gt" -o small-gt.db --quiet || exit 1
"$conv" coco-results --json "$S/pred_instances.json" --gt small-gt.db -o small-pred.db --quiet || exit 1

# expect_error CODE PATTERN -- command...: exit code CODE, exactly one stderr line matching PATTERN
expect_error() {
  local code=$1 pat=$2; shift 3
  "$@" > out.txt 2> err.txt
  local rc=$?
  if [ $rc -ne "$code" ]; then echo "FAIL ($*): exit $rc, expected $code"; cat err.txt; fail=1; return; fi
  if ! grep -q -- "$pat" err.txt; then echo "FAIL ($*): stderr lacks '$pat'"; cat err.txt; fail=1; fi
  if [ "$(grep -c . err.txt)" -gt 2 ]; then echo "FAIL ($*): more than one error line"; cat err.txt; fail=1; fi
}

expect_error 1 "arguments swapped" -- "$ev" gt.db pred.db --quiet
expect_error 1 "not predictions" -- "$ev" gt.db gt.db --quiet
expect_error 1 "not ground truth" -- "$ev" pred.db pred.db --quiet
expect_error 1 "overlap" -- "$ev" pred.db gt.db --quiet --overlap error
expect_error 1 "cannot open" -- "$ev" missing.db gt.db --quiet
expect_error 2 "unknown option" -- "$ev" pred.db gt.db --bogus
expect_error 2 "--overlap" -- "$ev" pred.db gt.db --overlap maybe
expect_error 2 "--metrics" -- "$ev" pred.db gt.db --metrics ap_x
expect_error 2 "--max-dets" -- "$ev" pred.db gt.db --max-dets 1,10
expect_error 2 "--shard" -- "$ev" pred.db gt.db --shard 2/2 --json x.json
expect_error 2 "give PRED and GT" -- "$ev" pred.db
expect_error 1 "swapped" -- "$ev" "$F/gt.json" "$F/pred_instances.json" --png-dir "$F/gt" --quiet

# malformed partial results: an error, never a crash
echo '{"entseg_eval_partial": 1}' > bad1.json
echo '{"entseg_eval_partial": 1, "cfg": {"metrics": 1, "iou_thrs": [0.5], "max_dets": [1, 10, 100],
  "dilation_ratio": 0.02, "class_aware": 0, "overlap": 0, "pq_gt_overlapping": 0, "pq": null},
  "classes": [], "pq_categories": [], "notes": "", "images": [{"id": 1, "coco": [1, 2]}]}' > bad2.json
printf '{"entseg_eval_partial": 1, "cfg": {' > bad3.json
expect_error 1 "bad1.json: " -- "$ev" merge bad1.json --quiet
expect_error 1 "malformed" -- "$ev" merge bad2.json --quiet
expect_error 1 "not a partial result" -- "$ev" merge bad3.json --quiet
expect_error 1 "cannot open" -- "$ev" merge nothere.json --quiet

# prediction images missing from the ground truth: a GT store holding 2 of the 3 images
sqlite3 gt.db 'select name from images' > names.txt 2>/dev/null || true
head -n 2 names.txt > two.txt 2>/dev/null
if [ -s two.txt ]; then
  "$conv" split gt.db --list two.txt -o gt-two.db --quiet 2>/dev/null &&
    expect_error 1 "is not in the ground truth" -- "$ev" pred.db gt-two.db --quiet
fi

# image sizes that disagree: two synthetic sets with the same image names, other sizes
"$conv" synth -o a.db --images 2 --size 40x30 --seed 3 --quiet &&
"$conv" synth -o b.db --images 2 --size 48x32 --seed 3 --quiet &&
"$conv" synth-pred --gt a.db -o a-pred.db --quiet &&
  expect_error 1 "ground truth is" -- "$ev" a-pred.db b.db --quiet

# warnings: GT images without predictions (small has one)
"$ev" small-pred.db small-gt.db --quiet --json small.json 2> warn.txt
grep -q "1 ground-truth images have no predictions" warn.txt || { echo "FAIL no warning for images without predictions"; cat warn.txt; fail=1; }

# --json - is the only stdout; it parses and holds the documented keys
"$ev" pred.db gt.db --json - > stdout.json 2>/dev/null || { echo "FAIL --json -"; fail=1; }
python3 - stdout.json <<'EOF' || { echo "FAIL --json - keys"; fail=1; }
import json, sys
j = json.load(open(sys.argv[1]))
need = ["ap_e", "ap_m", "pq", "pq_classes", "ap_classes", "boundary_ap", "boundary_pq",
        "boundary_pq_classes", "boundary_ap_classes", "overlap"]
miss = [k for k in need if k not in j]
stats = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]
bad = [k for k in ["ap_e", "ap_m", "boundary_ap"] if list(j[k].keys()) != stats]
if miss or bad or j["overlap"]["policy"] != "resolve": print(miss, bad); sys.exit(1)
EOF
# ap_box on request
"$ev" pred.db gt.db --quiet --metrics ap_e,ap_box --json box.json && grep -q '"ap_box"' box.json || { echo "FAIL ap_box"; fail=1; }

# --coco-summary prints pycocotools' lines
"$ev" pred.db gt.db --metrics ap_e --coco-summary > summary.txt 2>/dev/null
grep -q "^ Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all | maxDets=100 \] = 0.554$" summary.txt ||
  { echo "FAIL --coco-summary line"; cat summary.txt; fail=1; }

# --per-image and --report files
"$ev" pred.db gt.db --quiet --per-image per.jsonl --report report.html || { echo "FAIL --per-image/--report"; fail=1; }
[ "$(wc -l < per.jsonl)" -eq 3 ] || { echo "FAIL per-image lines"; fail=1; }
grep -q "<svg" report.html || { echo "FAIL report has no SVG"; fail=1; }

# --images narrows like pycocotools imgIds: only image 1 of tiny
"$ev" pred.db gt.db --quiet --images 1 --json one.json && python3 -c "
import json,sys; j=json.load(open('one.json')); sys.exit(0 if j['images']==1 else 1)" || { echo "FAIL --images"; fail=1; }

[ $fail = 0 ] && echo "all CLI checks passed"
exit $fail
