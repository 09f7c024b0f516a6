#!/usr/bin/env bash
# The sentiment benchmark of docs/results.md: a small LLaMA pre-trained here on SST-2's unlabelled training text,
# LoRA-fine-tuned on 1,600 labelled SST-2 rows (three seeds), tested in domain (SST-2 test) and under shift (UCI
# Yelp, Amazon and IMDb review sentences). Every step is skipped when its output exists, so an interrupted run
# resumes where it stopped; the pre-training is cached by its settings.
# Usage: docs/benchmarks/sentiment.sh DATA_DIR [WORK_DIR]
#   DATA_DIR holds sst2/{train,test}.tsv and uci/{yelp,amazon_cells,imdb}_labelled.txt (README: where they come from)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
L="$root/laplace-lora"
D=${1:?usage: sentiment.sh DATA_DIR [WORK_DIR]}
W=${2:-bench/sentiment}
THREADS=${THREADS:-2}
mkdir -p "$W"

# Domain-adaptive pre-training: the text of SST-2's training file only, never its labels (about 25 minutes on 2 cores).
"$L" pretrain --text "$D/sst2/train.tsv" --column sentence --out "$W/sst2-llama" \
    --keep-words "Review: Sentiment: negative positive" --steps 6000 --warmup 200 --threads "$THREADS"
# The labelled rows: 2,000 distinct training rows of at least six words, seeded; 80 % to fine-tune, 20 % to tune on.
[[ -f $W/sst2-2000.tsv ]] || "$L" datasets sentiment --sst2-train "$D/sst2/train.tsv" --size 2000 --min-words 6 --seed 1 \
    --out "$W/sst2-2000.tsv"
TRAIN="$W/sst2-2000.tsv[:80%]"
VAL="$W/sst2-2000.tsv[80%:]"
M=(--model "$W/sst2-llama" --task sentiment --max-length 256 --threads "$THREADS")
for seed in 21 42 87; do
  d=$W/seed$seed
  # The recipe with the best MAP accuracy on the validation rows (seed 21) of the seven tried (docs/results.md).
  [[ -f $d/adapter/training.json ]] || "$L" finetune "${M[@]}" --train "$TRAIN" --out "$d/adapter" \
      --epochs 10 --lr 1e-3 --batch-size 8 --rank 16 --alpha 32 \
      --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj,lm_head --seed "$seed"
  [[ -f $d/posterior.safetensors ]] || "$L" fit-posterior "${M[@]}" --adapter "$d/adapter" --train "$TRAIN" --val "$VAL" \
      --out "$d/posterior.safetensors"
  E=("${M[@]}" --adapter "$d/adapter" --posterior "$d/posterior.safetensors" --val "$VAL")
  [[ -f $d/sst2.json && -f $d/sst2.jsonl ]] || "$L" evaluate "${E[@]}" --test "$D/sst2/test.tsv" --json "$d/sst2.json" \
      --predictions-out "$d/sst2.jsonl"
  for domain in yelp amazon_cells imdb; do
    [[ -f $d/$domain.json ]] || "$L" evaluate "${E[@]}" --test "$D/uci/${domain}_labelled.txt" --in-domain "$d/sst2.jsonl" \
        --json "$d/$domain.json"
  done
done
"$L" report --title "### Sentiment: SST-2 test (in domain)" "$W"/seed*/sst2.json
for domain in yelp amazon_cells imdb; do
  "$L" report --title "### Sentiment: UCI $domain (shifted)" "$W"/seed*/$domain.json
done
