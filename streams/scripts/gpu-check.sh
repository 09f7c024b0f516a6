#!/usr/bin/env bash
# GPU check: the stories260K fixture comparison and the forward benchmark on a CUDA GPU.
#
# Maven Central has no CUDA libtorch, so DJL must be pointed at a host copy of libtorch 2.7.1 built for
# CUDA 12.8 (cxx11 ABI; the pytorch-jni jar already carries DJL's cu128 JNI glue):
#   LIBTORCH=/path/to/libtorch streams/scripts/gpu-check.sh [OUT_DIR]
# The version must be exactly 2.7.1: with any other, DJL's JNI library does not match and it tries to
# download one (which fails offline).
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${LIBTORCH:?set LIBTORCH to a libtorch 2.7.1+cu128 directory (it holds lib/libtorch.so)}"
out="${1:-gpu-results}"
mkdir -p "$out"
export PYTORCH_LIBRARY_PATH="$LIBTORCH/lib" PYTORCH_VERSION=2.7.1 PYTORCH_FLAVOR=cu128 DJL_OFFLINE=true
nvidia-smi | tee "$out/nvidia-smi.txt"
mvn -B -q -Pcuda -DskipTests install
mvn -B -Pcuda -pl model surefire:test -Dtest=ReferenceLogitsTest -Dlaplace.lora.test.device=gpu \
  -Dtest.torch.threads=4 | tee "$out/reference-logits-gpu.txt"
export LAPLACE_LORA_MAVEN_ARGS=-Pcuda
for logits in last all; do
  ./laplace-lora bench forward --device gpu --model model/src/test/resources/stories260K/stories260K.bin \
    --tokenizer model/src/test/resources/stories260K/tok512.bin --logits "$logits" --warmup 5 --repeats 20 \
    | tee "$out/bench-forward-gpu-$logits.txt"
done
