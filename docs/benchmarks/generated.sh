#!/usr/bin/env bash
# The generated-task benchmark of docs/results.md: the demo's task family offline, three LoRA seeds on one model.
# Every step is skipped when its output exists, so an interrupted run resumes where it stopped.
# Usage: docs/benchmarks/generated.sh [WORK_DIR]   (default: bench/generated)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
L="$root/laplace-lora"
W=${1:-bench/generated}
T=(--task generic --answers A,B --max-length 64)

[[ -f $W/test-rule-shift.jsonl && -f $W/model/config.json ]] || "$L" datasets generated --out "$W"
for seed in 21 42 87; do
  d=$W/seed$seed
  M=(--model "$W/model" "${T[@]}")
  # The demo's recipe: a small training set with 10 % label noise, fitted until it fits the noise too.
  [[ -f $d/adapter/training.json ]] || "$L" finetune "${M[@]}" --train "$W/train.jsonl" --out "$d/adapter" \
      --epochs 60 --lr 3e-3 --batch-size 16 --dropout 0.05 --seed "$seed"
  [[ -f $d/posterior.safetensors ]] || "$L" fit-posterior "${M[@]}" --adapter "$d/adapter" --train "$W/train.jsonl" \
      --val "$W/validation.jsonl" --out "$d/posterior.safetensors"
  E=("${M[@]}" --adapter "$d/adapter" --posterior "$d/posterior.safetensors" --val "$W/validation.jsonl")
  [[ -f $d/test.json && -f $d/test.jsonl ]] || "$L" evaluate "${E[@]}" --test "$W/test.jsonl" --json "$d/test.json" \
      --predictions-out "$d/test.jsonl"
  for shift in input-shift rule-shift; do
    [[ -f $d/$shift.json ]] || "$L" evaluate "${E[@]}" --test "$W/test-$shift.jsonl" --in-domain "$d/test.jsonl" \
        --json "$d/$shift.json"
  done
done
"$L" report --title "### Generated task: in distribution" "$W"/seed*/test.json
"$L" report --title "### Generated task: input shift (new words, same rule)" "$W"/seed*/input-shift.json
"$L" report --title "### Generated task: rule shift (same words, the rule reversed)" "$W"/seed*/rule-shift.json
