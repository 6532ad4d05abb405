#!/usr/bin/env bash
# tests/evaluate/test_fixtures_cli.sh: entseg-eval through the converters against the
# reference numbers in ../shared (all stats to 1e-12):
#  - fixtures tiny / small / coco_sample, two-step route (entseg-convert coco-panoptic +
#    coco-results, then entseg-eval) and the on-the-fly route (entseg-eval results.json
#    gt.json --png-dir): ap_m, ap_e, boundary_ap, ap_e_entity_ref (--compat entity), pq;
#  - coco-val2014-100 (coco-instances --overlap keep): ap_classes;
#  - fce-boundary-synthetic: boundary_ap_classes;
#  - --shard 0/2 + 1/2 then merge: the same JSON numbers as one run.
set -uo pipefail
: "${ES_BIN:?}" "${ES_SHARED_DIR:?}" "${ES_TMP:?}"
[ -d "$ES_SHARED_DIR/fixtures" ] || { echo "SKIP: $ES_SHARED_DIR/fixtures absent"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 needed to read JSON"; exit 77; }
rm -rf "$ES_TMP" && mkdir -p "$ES_TMP"
fail=0
conv="$ES_BIN/entseg-convert"
ev="$ES_BIN/entseg-eval"

# compare.py OURS.json EXPECTED.json 'ours_key=expected_path' ... : 12 stats / PQ numbers
cat > "$ES_TMP/compare.py" <<'EOF'
import json, sys
ours = json.load(open(sys.argv[1])); exp = json.load(open(sys.argv[2]))
bad = 0
def get(d, path):
    for p in path.split('.'):
        d = d[p]
    return d
for spec in sys.argv[3:]:
    mine, ref = spec.split('=')
    a = get(ours, mine); b = get(exp, ref)
    if isinstance(b, dict) and 'pq' in b and 'PQ' in a:   # panopticapi per_class layout
        pairs = [('PQ','pq'), ('SQ','sq'), ('RQ','rq'), ('TP','tp'), ('FP','fp'), ('FN','fn'), ('IoU_sum','iou_sum')]
    else:
        pairs = [(k, k) for k in b]
    for ka, kb in pairs:
        if kb not in b: continue
        x, y = a.get(ka), b[kb]
        if x is None or y is None:
            ok = x is None and y is None
        else:
            ok = abs(x - y) <= 1e-12
        if not ok:
            print(f"  FAIL {sys.argv[1]} {mine}.{ka} = {x!r}, expected {y!r}"); bad = 1
sys.exit(bad)
EOF
cmp() { python3 "$ES_TMP/compare.py" "$@" || fail=1; }

for c in tiny small coco_sample; do
  F="$ES_SHARED_DIR/fixtures/$c"
  "$conv" coco-panoptic --json "$F/gt.json" --png-dir "$F/gt" -o "$ES_TMP/$c-gt.db" --quiet || { echo "FAIL convert gt $c"; fail=1; continue; }
  "$conv" coco-results --json "$F/pred_instances.json" --gt "$ES_TMP/$c-gt.db" -o "$ES_TMP/$c-pred.db" --quiet || { echo "FAIL convert pred $c"; fail=1; continue; }
  "$ev" "$ES_TMP/$c-pred.db" "$ES_TMP/$c-gt.db" --quiet --json "$ES_TMP/$c.json" || { echo "FAIL eval $c"; fail=1; continue; }
  cmp "$ES_TMP/$c.json" "$F/expected.json" ap_m=ap_m.stats ap_e=ap_e.stats boundary_ap=boundary_ap.stats \
      'pq=pq_agnostic.per_class.1'
  "$ev" "$ES_TMP/$c-pred.db" "$ES_TMP/$c-gt.db" --quiet --compat entity --metrics ap_e --json "$ES_TMP/$c-entity.json" || { echo "FAIL eval --compat entity $c"; fail=1; }
  cmp "$ES_TMP/$c-entity.json" "$F/expected.json" ap_e=ap_e_entity_ref.stats
  # on the fly: results.json gt.json --png-dir
  "$ev" "$F/pred_instances.json" "$F/gt.json" --png-dir "$F/gt" --quiet --json "$ES_TMP/$c-otf.json" || { echo "FAIL on-the-fly $c"; fail=1; continue; }
  cmp "$ES_TMP/$c-otf.json" "$F/expected.json" ap_m=ap_m.stats ap_e=ap_e.stats boundary_ap=boundary_ap.stats
  # shards merged == one run (every number in the JSON)
  "$ev" "$ES_TMP/$c-pred.db" "$ES_TMP/$c-gt.db" --quiet --shard 0/2 --json "$ES_TMP/$c-s0.json" &&
  "$ev" "$ES_TMP/$c-pred.db" "$ES_TMP/$c-gt.db" --quiet --shard 1/2 --json "$ES_TMP/$c-s1.json" &&
  "$ev" merge "$ES_TMP/$c-s1.json" "$ES_TMP/$c-s0.json" --quiet --json "$ES_TMP/$c-merged.json" || { echo "FAIL shard/merge $c"; fail=1; continue; }
  python3 - "$ES_TMP/$c.json" "$ES_TMP/$c-merged.json" <<'EOF' || { echo "FAIL merged != single run ($c)"; fail=1; }
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
keys = [k for k in a if k not in ('notes',)]
diff = [k for k in keys if a[k] != b.get(k)]
if diff: print("  differs:", diff); sys.exit(1)
EOF
done

D="$ES_SHARED_DIR/data/coco-val2014-100"
"$conv" coco-instances --json "$D/instances_val2014_100.json" --overlap keep -o "$ES_TMP/coco100-gt.db" --quiet &&
"$conv" coco-results --json "$D/instances_val2014_fakesegm100_results.json" --gt "$ES_TMP/coco100-gt.db" -o "$ES_TMP/coco100-pred.db" --quiet &&
"$ev" "$ES_TMP/coco100-pred.db" "$ES_TMP/coco100-gt.db" --quiet --metrics ap_classes,ap_m --json "$ES_TMP/coco100.json" || { echo "FAIL coco-val2014-100 route"; fail=1; }
cat > "$ES_TMP/coco100-expected.json" <<'EOF'
{"segm": {"AP": 0.3195452758576433, "AP50": 0.5622883972521636, "AP75": 0.29892653412086784,
  "APs": 0.3873740315997838, "APm": 0.31018272403369485, "APl": 0.3269339071005138,
  "AR1": 0.2682297225711534, "AR10": 0.41544868114906375, "AR100": 0.4168394992198818,
  "ARs": 0.4694498622754236, "ARm": 0.37675922666197265, "ARl": 0.3814715099715099}}
EOF
cmp "$ES_TMP/coco100.json" "$ES_TMP/coco100-expected.json" ap_classes=segm
# the default run on overlapping GT: PQ skipped with a note, asking for PQ is an error
"$ev" "$ES_TMP/coco100-pred.db" "$ES_TMP/coco100-gt.db" --quiet --json "$ES_TMP/coco100-default.json" || { echo "FAIL default run on overlapping GT"; fail=1; }
grep -q "PQ skipped" "$ES_TMP/coco100-default.json" || { echo "FAIL no PQ note on overlapping GT"; fail=1; }
if "$ev" "$ES_TMP/coco100-pred.db" "$ES_TMP/coco100-gt.db" --quiet --metrics pq 2>/dev/null; then echo "FAIL --metrics pq on overlapping GT should fail"; fail=1; fi

D="$ES_SHARED_DIR/data/fce-boundary-synthetic"
"$ev" "$D/dt_dataset.json" "$D/gt_dataset.json" --quiet --metrics boundary_ap_classes --json "$ES_TMP/fce.json" || { echo "FAIL fce-boundary-synthetic on the fly"; fail=1; }
cat > "$ES_TMP/fce-expected.json" <<'EOF'
{"b": {"AP": 0.6947194719471946, "AP50": 0.6947194719471946, "AP75": 0.6947194719471946, "APs": -1,
  "APm": 0.7367986798679867, "APl": 0.0, "AR1": 0.6666666666666666, "AR10": 0.75, "AR100": 0.75,
  "ARs": -1, "ARm": 0.7916666666666666, "ARl": 0.0}}
EOF
cmp "$ES_TMP/fce.json" "$ES_TMP/fce-expected.json" boundary_ap_classes=b

[ $fail = 0 ] && echo "all fixture checks passed"
exit $fail
