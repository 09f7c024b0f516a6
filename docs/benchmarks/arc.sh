#!/usr/bin/env bash
# The ARC-Easy table of docs/results.md, with the ablation rows and the link chosen on validation: stories260K,
# three LoRA seeds; train → dev.
# The first 80 % of the training file's four-choice rows fine-tune, the rest validate; dev tests. Every step is
# skipped when its output exists. The first run took 28-40 min of fine-tuning and 16 of curvature per seed on one
# thread, before AdamW stopped leaking (fine-tuning is several times faster since).
# Usage: docs/benchmarks/arc.sh MODEL_DIR DATA_DIR [WORK_DIR]
#   MODEL_DIR holds stories260K.bin and tok512.bin; DATA_DIR holds arc-easy/{train,dev}.jsonl
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
L="$root/laplace-lora"
MD=${1:?usage: arc.sh MODEL_DIR DATA_DIR [WORK_DIR]}
D=${2:?usage: arc.sh MODEL_DIR DATA_DIR [WORK_DIR]}
W=${3:-bench/arc-easy}
THREADS=${THREADS:-2}
TRAIN="$D/arc-easy/train.jsonl[:80%]"
VAL="$D/arc-easy/train.jsonl[80%:]"
M=(--model "$MD/stories260K.bin" --tokenizer "$MD/tok512.bin" --task arc --max-length 512 --threads "$THREADS")
for seed in 21 42 87; do
  d=$W/arc$seed
  [[ -f $d/adapter/training.json ]] || "$L" finetune "${M[@]}" --train "$TRAIN" --out "$d/adapter" --epochs 15 --lr 2e-3 \
      --batch-size 4 --seed "$seed"
  [[ -f $d/posterior.safetensors ]] || "$L" fit-posterior "${M[@]}" --adapter "$d/adapter" --train "$TRAIN" --val "$VAL" \
      --out "$d/posterior.safetensors"
  [[ -f $d/eval.json ]] || "$L" evaluate "${M[@]}" --adapter "$d/adapter" --posterior "$d/posterior.safetensors" --val "$VAL" \
      --test "$D/arc-easy/dev.jsonl" --json "$d/eval.json"
done
"$L" report --title "### ARC-Easy train → dev" "$W"/arc*/eval.json
