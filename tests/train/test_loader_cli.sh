#!/usr/bin/env bash
# tests/train/test_loader_cli.sh: entseg-train on images of mixed, non-square sizes:
# multi-scale fit (streaming loader), validation and infer at the images' original sizes
# (the prediction store refuses masks of any other size; entseg-eval reads them back), and
# one error line naming the file when a training image is truncated.
. "$(dirname "$0")/train_cli.sh"
small="--set channels=32 --set stem=16 --set widths=16,32,32,32 --set num_kernels=8 --set ffn_channels=64 --set batch=2 --set log_every=1 --set val_every=0 --set ckpt_every=0"
data="--set scales=64,96 --set max_size=128 --set test_scale=96 --set loader_threads=2"
synth="--size 60x100-200x150 --max-entities 4 --no-crowd --no-tiny --no-thin --quiet"
synth_stores 5 11 $synth

check '"$ES_BIN/entseg-train" fit --train train.db --val val.db -o run --iters 3 --device cpu --threads 1 $small $data > fit.log 2>&1' "multi-scale fit runs"
check 'grep -q "6 images, streamed on 2 loader threads" fit.log' "several scales: streamed, not cached"
check 'grep -q "^iter 3/3 .*loss" fit.log && grep -q "^val iter 3 .*AP^e" fit.log' "progress and validation"
check '"$ES_BIN/entseg-train" infer --ckpt run/last.safetensors --images val.db -o pred.db --device cpu --threads 1 > infer.log 2>&1' "infer runs"
check 'grep -q "wrote pred.db: 3 images" infer.log' "infer wrote 3 images"
check '"$ES_BIN/entseg-eval" pred.db val.db > eval.log 2>&1' "entseg-eval accepts masks at the original sizes"
check '"$ES_BIN/entseg-train" fit --train train.db -o run1 --iters 1 --device cpu --threads 1 $small --set image_size=64 > alias.log 2>&1 && grep -q "6 images cached" alias.log' "image_size alias: one scale, cached"

# a truncated training image: one error line that names it, non-zero exit
img=$(ls train.db.images/*.png | sed -n 3p)
head -c 200 "$img" > cut.png && mv cut.png "$img"
check '! "$ES_BIN/entseg-train" fit --train train.db -o run2 --iters 4 --device cpu --threads 1 $small $data --set batch=6 > /dev/null 2> e1.log' "truncated image fails the run"
check '[ "$(grep -c "entseg-train: .*$(basename "$img")" e1.log)" = 1 ]' "one error line naming $(basename "$img")"
cat e1.log
exit $fail
