#!/usr/bin/env bash
# Reproduce the run behind docs/feature_case_studies.md: SmolLM2-135M-Instruct (packaged GGUF) at
# blocks.15.hook_resid_pre, TinyStories (offline copy in ../shared/data/tinystories), a ReLU SAE, then evaluate
# and analyse. CPU only; every output goes under artifacts/ (git-ignored). Prints the wall time of each stage.
#
#   bash docs/case_study.sh            # from the repository root, with .venv set up (make setup)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .venv/bin/activate

RUN=artifacts/runs/smollm2-l15-relu-2048

stage() {
    local name=$1
    shift
    local t0=$SECONDS
    "$@"
    echo "== ${name}: $((SECONDS - t0)) s wall"
}

stage collect saelab collect --config configs/case_study_collect.yaml
stage train saelab train --config configs/case_study_train.yaml
stage evaluate saelab evaluate --config configs/case_study_evaluate.yaml
stage analyse saelab analyse --config configs/case_study_analyse.yaml
# The feature picks and the per-feature sections of the doc (prints markdown; see the doc for the method).
stage report sh -c "python docs/case_study_report.py $RUN > $RUN/case_study_report.md"
