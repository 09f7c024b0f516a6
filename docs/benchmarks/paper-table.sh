#!/usr/bin/env bash
# The WinoGrande-S or ARC-Easy table of docs/results.md, with the ablation rows: stories260K, three LoRA seeds.
# WinoGrande's train_s is not available: its substitute (640 real dev rows) trains and validates, the other 627 dev
# rows test (../shared/data/README.md says how they were cut). ARC-Easy: the first 80 % of the training file's
# four-choice rows fine-tune, the rest validate; dev tests. Every step is skipped when its output exists.
# Usage: docs/benchmarks/paper-table.sh winogrande|arc MODEL_DIR DATA_DIR [WORK_DIR]
#   MODEL_DIR holds stories260K.bin and tok512.bin; DATA_DIR holds winogrande/{train_s_substitute,dev_rest}.jsonl
#   and arc-easy/{train,dev}.jsonl
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
L="$root/laplace-lora"
usage="usage: paper-table.sh winogrande|arc MODEL_DIR DATA_DIR [WORK_DIR]"
TASK=${1:?$usage}
MD=${2:?$usage}
D=${3:?$usage}
THREADS=${THREADS:-2}
case $TASK in
  winogrande) FILE="$D/winogrande/train_s_substitute.jsonl"; TEST="$D/winogrande/dev_rest.jsonl"; LEN=300; EPOCHS=50
              TITLE="WinoGrande-S (substitute) → dev_rest" ;;
  arc)        FILE="$D/arc-easy/train.jsonl"; TEST="$D/arc-easy/dev.jsonl"; LEN=512; EPOCHS=15
              TITLE="ARC-Easy train → dev" ;;
  *)          echo "$usage" >&2; exit 2 ;;
esac
W=${4:-bench/$TASK}
M=(--model "$MD/stories260K.bin" --tokenizer "$MD/tok512.bin" --task "$TASK" --max-length "$LEN" --threads "$THREADS")
for seed in 21 42 87; do
  d=$W/$TASK$seed
  [[ -f $d/adapter/training.json ]] || "$L" finetune "${M[@]}" --train "$FILE[:80%]" --out "$d/adapter" --epochs "$EPOCHS" \
      --lr 2e-3 --batch-size 4 --seed "$seed"
  [[ -f $d/posterior.safetensors ]] || "$L" fit-posterior "${M[@]}" --adapter "$d/adapter" --train "$FILE[:80%]" \
      --val "$FILE[80%:]" --out "$d/posterior.safetensors"
  [[ -f $d/eval.json ]] || "$L" evaluate "${M[@]}" --adapter "$d/adapter" --posterior "$d/posterior.safetensors" \
      --val "$FILE[80%:]" --test "$TEST" --json "$d/eval.json"
done
"$L" report --title "### $TITLE" "$W/$TASK"*/eval.json
