#!/usr/bin/env bash
# Fetch the wheels the GPU training bench needs beyond the H200 image (pydantic, for shared.config) into .whl/,
# then print the one `run` command for the lent machine. Run here, in the repo root, before the device call.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qxF '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
mkdir -p .whl
for spec in pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
  typing-extensions==4.16.0; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "$spec"
done
ls .whl >&2
cat <<'CMD'
device run (carry [".whl"], timeout_s 420):
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 && nvidia-smi --query-gpu=name --format=csv,noheader && python3 -m bench.train_throughput --device cuda --out $OUT/train_gpu.jsonl
CMD
