#!/usr/bin/env bash
# `make bench`: create the peer venvs if missing, run the benchmarks, write bench/out/*.jsonl, print the JSON lines.
# Usage: bench/run.sh [train] [collect] [analysis] [gateway] [load] [sweep] [quality]   (default: all but sweep
# and quality;
# BENCH_GATEWAY=0 leaves gateway and load out). Extra flags per benchmark: BENCH_TRAIN_ARGS, BENCH_COLLECT_ARGS,
# BENCH_ANALYSIS_ARGS, BENCH_GATEWAY_ARGS, BENCH_LOAD_ARGS, BENCH_SWEEP_ARGS, BENCH_QUALITY_ARGS (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || { echo "bench: $PY not found; run 'make setup' (or set PYTHON)" >&2; exit 1; }

benches=("$@")
if [ ${#benches[@]} -eq 0 ]; then
  benches=(train collect analysis)
  [ "${BENCH_GATEWAY:-1}" = 0 ] || benches+=(gateway load)
fi
for name in "${benches[@]}"; do
  case "$name" in train | collect | analysis | gateway | load | sweep | quality) ;; *) echo "bench: unknown benchmark '$name'" >&2; exit 2 ;; esac
done

case " ${benches[*]} " in
  *" train "* | *" analysis "*) bench/peers/setup_venvs.sh ;;
  *" quality "*) bench/peers/setup_venvs.sh saelens ;;
esac
mkdir -p bench/out
for name in "${benches[@]}"; do
  out="bench/out/${name}.jsonl"
  : >"$out"
  module="bench.${name}_throughput"
  [ "$name" = gateway ] && module=bench.gateway_latency
  [ "$name" = load ] && module=bench.gateway_load
  [ "$name" = quality ] && module=bench.quality
  extra_var="BENCH_${name^^}_ARGS"
  echo "bench: $module (JSON lines -> $out)" >&2
  # shellcheck disable=SC2086  # the extra flags are meant to split
  "$PY" -m "$module" --out "$out" ${!extra_var:-} >/dev/null
  cat "$out"
done
