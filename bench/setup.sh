#!/usr/bin/env bash
# Installs what the PyTorch side of the benchmarks needs (docs/benchmarks.md): Debian's python3-torch (PyTorch 1.13,
# about 900 MB, 2-3 minutes) and libopenblas0. Run as root (or with sudo) once per machine; does nothing when
# /usr/bin/python3 already imports torch. Without it `dotnet run --project bench/Jepa.Bench -c Release` skips section 2.
set -euo pipefail
if /usr/bin/python3 -c "import torch" 2>/dev/null && dpkg -s libopenblas0 >/dev/null 2>&1; then
    echo "bench/setup.sh: python3-torch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') and libopenblas0 are installed"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update
$sudo apt-get install -y --no-install-recommends python3-torch libopenblas0
/usr/bin/python3 -c "import torch; print('bench/setup.sh: torch', torch.__version__)"
