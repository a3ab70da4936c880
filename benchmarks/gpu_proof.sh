#!/usr/bin/env bash
# The whole GPU proof (the GPU-proof issue) in one run of at most 8 minutes on a lent H100.
#
# Prepare once, on the development machine (it needs the package index), in the repository root:
#   bash ../shared/tools/device-wheels.sh pytest pluggy iniconfig packaging pygments exceptiongroup
#   (→ .whl/, kept out of git; pytest and what it needs, beside fvcore, torchinfo, plotly, NVML;
#   all pure Python. A Python older than 3.11 would also need tomli, whose wheel is compiled.)
# Run on the device, carrying .whl (the GPU image has torch, pandas, typer, rich, numpy):
#   python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl \
#     && export PYTHONPATH=/tmp/site:$PWD && bash benchmarks/gpu_proof.sh
#
# Everything lands in one folder: $OUT/gpu-proof-<UTC time>/ when $OUT is set (the device
# machine brings $OUT back), else benchmarks/results/gpu-proof-<UTC time>/. Each step runs under
# `timeout`, which sends SIGTERM: the bench then writes what it measured (exit 143) and the next
# step starts, so a slow step costs its own results only. summary.md says what was met.
#
# Steps and their limits (seconds), in order of importance: device roofs 40, pytest -m cuda 170,
# latency table against torch.utils.benchmark 150, ResNet-50 batch 256 best configuration 70,
# per-layer CUDA time 30, summary 10: 470 s at most, plus installing.
set -uo pipefail
cd "$(dirname "$0")/.."

stamp=$(date -u +%Y%m%d-%H%M%S)
out=${OUT_DIR:-${OUT:-benchmarks/results}/gpu-proof-$stamp}
mkdir -p "$out"
began=$SECONDS

log() { printf '%s +%ss %s\n' "$(date -u +%H:%M:%S)" "$((SECONDS - began))" "$*" | tee -a "$out/steps.log"; }

# step NAME LIMIT COMMAND...: stdout and stderr to NAME.out / NAME.err, a line in steps.tsv
step() {
  local name=$1 limit=$2 t0=$SECONDS rc
  shift 2
  log "start $name (limit ${limit}s)"
  timeout --signal=TERM --kill-after=15 "$limit" "$@" >"$out/$name.out" 2>"$out/$name.err"
  rc=$?
  log "end $name: exit $rc after $((SECONDS - t0))s"
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >>"$out/steps.tsv"
}

# Install from the wheels built beforehand, unless the caller already did.
if ! python3 -c "import fvcore, torchinfo, plotly" 2>/dev/null; then
  if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
  else
    log "no .whl/ folder: build it with ../shared/tools/device-wheels.sh (see the header)"
  fi
fi
export PYTHONPATH=/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}

nvidia-smi >"$out/nvidia-smi.txt" 2>&1
nvidia-smi -q -d CLOCK,POWER,TEMPERATURE,PERFORMANCE >>"$out/nvidia-smi.txt" 2>&1
python3 -c "import torch; print(torch.__version__, '/ CUDA', torch.version.cuda, '/',
torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device')" \
  >"$out/versions.txt" 2>&1
log "versions: $(cat "$out/versions.txt")"

# 1. The machine's roofs: matmul peak per math mode (fp32, TF32, bf16, fp16), HBM bandwidth.
step device 40 python3 -m archscope device --device cuda --dtype fp32,bf16,fp16 -f json -o "$out/device.json"

# 2. The CUDA tests, real kernels and clocks (graph = eager, events = wall clock, compile beats
#    eager on resnet50 at 256, every variant ok, graph peak memory its own, cuda:0, per-layer,
#    and the predicted training-step peak within 5 % of the allocator's).
#    -o addopts= : pyproject's "-n auto" needs pytest-xdist, which the device's wheels leave out.
#    test_memory.py: the training-step peak against torch.cuda.max_memory_allocated (issue 12).
step pytest 170 python3 -m pytest -o addopts= -m cuda -q -rA -p no:cacheprovider \
  --junitxml="$out/pytest.xml" \
  tests/test_bench_cuda.py tests/test_bench_peak.py tests/test_bench_run.py tests/test_memory.py

# 3. The latency table: 4 models × batch 1/64/256 × fp32/bf16 × NCHW/NHWC × eager/graph, and
#    resnet50 compiled (bf16, NHWC, batch 256), each beside torch.utils.benchmark's median.
step latency 150 python3 benchmarks/gpu_bench.py --models resnet50,vgg16,googlenet,resnet18 \
  --compile-models resnet50 --compile-batches 256 --budget 0.25 --out-dir "$out"

# 4. ResNet-50 at batch 256: eager, CUDA graph and compiled, bf16 and channels_last, with NVML
#    energy per image (windows of at least 1 s: --budget 2).
step resnet50_best 70 python3 -m archscope bench resnet50 --device cuda -b 256 --dtype bf16 \
  --channels-last --cuda-graphs --compile --budget 2 -f markdown -o "$out/resnet50-b256.json"

# 5. Per-layer CUDA time from the profiler, ResNet-50 batch 64 bf16, and its Perfetto trace.
step per_layer 30 python3 -m archscope bench resnet50 --device cuda -b 64 --dtype bf16 --per-layer \
  --trace "$out/resnet50-b64-bf16-trace.json" -f markdown -o "$out/resnet50-b64-per-layer.json"

step summary 10 python3 benchmarks/gpu_summary.py "$out"
cat "$out/summary.md" 2>/dev/null
log "done in $((SECONDS - began))s: $out"
