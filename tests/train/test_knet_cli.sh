#!/usr/bin/env bash
# tests/train/test_knet_cli.sh: entseg-train end to end on a tiny synthetic store:
# fit (a few iterations of a small config, with validation and a checkpoint), --resume,
# infer into a prediction store that entseg-eval accepts, and clear errors on bad input.
. "$(dirname "$0")/train_cli.sh"
small="--set image_size=64 --set channels=32 --set stem=16 --set widths=16,32,32,32 --set num_kernels=8 --set ffn_channels=64 --set batch=2 --set log_every=1 --set val_every=0 --set ckpt_every=2"
synth="--size 64x64 --max-entities 4 --no-crowd --no-tiny --no-thin --quiet"
synth_stores 3 9 $synth

check '"$ES_BIN/entseg-train" fit --train train.db --val val.db -o run --iters 3 --device cpu --threads 1 $small > fit.log 2>&1' "fit runs"
check 'grep -q "^iter 3/3 .*loss .*img/s.*ETA" fit.log' "progress line"
check 'grep -q "^val iter 3 .*AP^e .*AP^e50" fit.log' "final validation AP^e"
check '[ -s run/last.safetensors ] && [ -s run/train_log.csv ]' "checkpoint and log written"
check '"$ES_BIN/entseg-train" fit --train train.db -o run --iters 5 --resume --device cpu --threads 1 $small > resume.log 2>&1' "resume runs"
check 'grep -q "resumed from run/last.safetensors at iteration 3" resume.log && grep -q "^iter 5/5" resume.log' "resume continues at iteration 3"
check '"$ES_BIN/entseg-train" infer --ckpt run/last.safetensors --images val.db -o pred.db --device cpu --threads 1 > infer.log 2>&1' "infer runs"
check 'grep -q "wrote pred.db: 3 images" infer.log' "infer wrote 3 images"
check '"$ES_BIN/entseg-eval" pred.db val.db > eval.log 2>&1' "entseg-eval accepts the predictions"
cat eval.log | head -5

# bad input: one clear line, non-zero exit
check '! "$ES_BIN/entseg-train" fit --train missing.db -o run2 --iters 1 --device cpu 2> e1.log && [ "$(wc -l < e1.log)" -le 3 ] && grep -q "entseg-train:" e1.log' "missing store refused"
check '! "$ES_BIN/entseg-train" fit --train train.db -o run2 --set bogus=1 2> e2.log && grep -q "unknown config key" e2.log' "unknown --set key refused"
check '! "$ES_BIN/entseg-train" infer --ckpt train.db --images val.db -o p.db 2> e3.log && grep -q "entseg-train:" e3.log' "non-checkpoint refused"
check '! "$ES_BIN/entseg-train" fit --model maskrcnn --train train.db -o r 2> e4.log && grep -q "unknown model" e4.log' "unknown model refused"
check '! "$ES_BIN/entseg-train" frobnicate 2> /dev/null' "unknown command refused"
exit $fail
