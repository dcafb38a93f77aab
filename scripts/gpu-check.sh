#!/usr/bin/env bash
# The GPU check (docs/scale-out.md): runs the committed PyTorch programs of the examples on one CUDA GPU in fp32 (TF32
# off) and in bf16, and prints steps per second, peak GPU memory and the first step's loss against the CPU run's.
# Needs Python 3 with PyTorch 2.x and CUDA, and numpy; no .NET. Run it from anywhere:
#
#   scripts/gpu-check.sh                       # each program's data in data/: the digits (CSV), MNIST-10k for 28x28 inputs
#   scripts/gpu-check.sh --data PATH...        # what the programs take (docs/data.md): a CSV, .npy/.npz, IDX files or folders;
#                                              # a program whose input does not fit that data is skipped (said so)
#
# STEPS (default 300) sets the GPU run length, CPU_STEPS (default 3) the CPU reference's, PYTHON the interpreter.
# JEPA_GPU_CHECK_DEVICE=cpu runs the "GPU" runs on the CPU instead (fp32 only): a dry run of this script where no GPU is.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-python3}"
steps="${STEPS:-300}"
cpu_steps="${CPU_STEPS:-3}"
device="${JEPA_GPU_CHECK_DEVICE:-cuda}"
given=()
if [ "${1:-}" = "--data" ]; then shift; given=("$@"); fi
export PYTHONPATH="$repo/python${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-4}"

"$python" - "$device" <<'PY'
import sys, torch
device = sys.argv[1]
print(f"PyTorch {torch.__version__}, CUDA {torch.version.cuda}, " + (f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"))
if device == "cuda" and not torch.cuda.is_available():
    sys.exit("gpu-check: CUDA is not available to this PyTorch (set JEPA_GPU_CHECK_DEVICE=cpu for a dry run on the CPU).")
PY

out="$(mktemp -d "${TMPDIR:-/tmp}/jepa-gpu-check.XXXXXX")"
precisions=(fp32 bf16)
[ "$device" = cpu ] && precisions=(fp32)
printf '\n%-26s %-9s %10s %12s %14s %14s %10s\n' program precision "steps/s" "peak MiB" "first loss" "CPU first" "rel. diff"
for program in "$repo"/examples/*/pytorch/train_*.py; do
  name="$(basename "$program" .py)"
  if [ ${#given[@]} -gt 0 ]; then data=("${given[@]}")
  elif grep -q '^    input_shape = (1, 28, 28)' "$program"; then data=("$repo/data/mnist10k")
  else data=("$repo/data/digits.csv.gz"); fi
  if ! "$python" "$program" --data "${data[@]}" --device cpu --steps "$cpu_steps" --out "$out/$name-cpu" --print-every 1000000 >"$out/$name-cpu.log" 2>&1; then
    if grep -q "DataError: The experiment expects samples of shape" "$out/$name-cpu.log"; then
      printf '%-26s skipped: its input does not fit the data (%s)\n' "$name" "$(grep -o "expects samples of shape [^(]*" "$out/$name-cpu.log" | tail -1 | sed 's/ *$//')"; continue
    fi
    echo "gpu-check: $name failed on the CPU; see $out/$name-cpu.log"; tail -5 "$out/$name-cpu.log"; exit 1
  fi
  for precision in "${precisions[@]}"; do
    run="$out/$name-$device-$precision"
    "$python" "$program" --data "${data[@]}" --device "$device" --precision "$precision" --steps "$steps" --out "$run" --print-every 1000000 >"$run.log" 2>&1 \
      || { echo "gpu-check: $name failed on $device in $precision; see $run.log"; tail -5 "$run.log"; exit 1; }
    "$python" - "$run/summary.json" "$out/$name-cpu/summary.json" "$name" <<'PY'
import json, sys
gpu, cpu = (json.load(open(p)) for p in sys.argv[1:3])
fmt = lambda v, f: format(v, f) if v is not None else "-".rjust(int(f.split(".")[0]))
diff = abs(gpu["first_loss"] - cpu["first_loss"]) / abs(cpu["first_loss"])
print(f"{sys.argv[3]:26s} {gpu['precision']:9s} {fmt(gpu['steps_per_s'], '10.1f')} {fmt(gpu['peak_memory_mib'], '12.1f')} "
      f"{gpu['first_loss']:14.7g} {cpu['first_loss']:14.7g} {diff:10.2e}")
PY
  done
done
echo
echo "Runs, logs and summaries: $out"
