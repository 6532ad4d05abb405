# tests/train/train_cli.sh: sourced by the entseg-train CLI tests (test_*_cli.sh): checks
# the environment, works in a fresh $ES_TMP, and gives them check() and synth_stores.
set -uo pipefail
: "${ES_BIN:?}" "${ES_TMP:?}"
[ -x "$ES_BIN/entseg-train" ] || { echo "SKIP: entseg-train not built"; exit 77; }
rm -rf "$ES_TMP" && mkdir -p "$ES_TMP" && cd "$ES_TMP" || exit 1
fail=0
# check COMMAND DESCRIPTION: runs COMMAND (eval), prints ok or FAIL; a FAIL sets fail=1
check() { if ! eval "$1"; then echo "FAIL: $2"; fail=1; else echo "ok   $2"; fi; }
# synth_stores TRAIN_SEED VAL_SEED SYNTH_OPTIONS...: train.db (6 images), val.db (3, split val)
synth_stores() {
  local train_seed=$1 val_seed=$2
  shift 2
  "$ES_BIN/entseg-convert" synth -o train.db --images 6 --seed "$train_seed" "$@" || exit 1
  "$ES_BIN/entseg-convert" synth -o val.db --images 3 --seed "$val_seed" --prefix v_ --split val "$@" || exit 1
}
