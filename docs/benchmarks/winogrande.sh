#!/usr/bin/env bash
# The WinoGrande-S table of docs/results.md, with the ablation rows: stories260K, three LoRA seeds.
# WinoGrande's train_s is not available: its substitute (640 real dev rows) trains and validates, the other 627 dev
# rows test (../shared/data/README.md says how they were cut). Every step is skipped when its output exists.
# Usage: docs/benchmarks/winogrande.sh MODEL_DIR DATA_DIR [WORK_DIR]
#   MODEL_DIR holds stories260K.bin and tok512.bin; DATA_DIR holds winogrande/{train_s_substitute,dev_rest}.jsonl
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
L="$root/laplace-lora"
MD=${1:?usage: winogrande.sh MODEL_DIR DATA_DIR [WORK_DIR]}
D=${2:?usage: winogrande.sh MODEL_DIR DATA_DIR [WORK_DIR]}
W=${3:-bench/winogrande}
THREADS=${THREADS:-2}
TRAIN="$D/winogrande/train_s_substitute.jsonl[:80%]"
VAL="$D/winogrande/train_s_substitute.jsonl[80%:]"
M=(--model "$MD/stories260K.bin" --tokenizer "$MD/tok512.bin" --task winogrande --max-length 300 --threads "$THREADS")
for seed in 21 42 87; do
  d=$W/wg$seed
  [[ -f $d/adapter/training.json ]] || "$L" finetune "${M[@]}" --train "$TRAIN" --out "$d/adapter" --epochs 50 --lr 2e-3 \
      --batch-size 4 --seed "$seed"
  [[ -f $d/posterior.safetensors ]] || "$L" fit-posterior "${M[@]}" --adapter "$d/adapter" --train "$TRAIN" --val "$VAL" \
      --out "$d/posterior.safetensors"
  [[ -f $d/eval.json ]] || "$L" evaluate "${M[@]}" --adapter "$d/adapter" --posterior "$d/posterior.safetensors" --val "$VAL" \
      --test "$D/winogrande/dev_rest.jsonl" --json "$d/eval.json"
done
"$L" report --title "### WinoGrande-S (substitute) → dev_rest" "$W"/wg*/eval.json
