"""Kubernetes manifests, validated offline: every overlay renders with kustomize and passes strict schema
validation; every container is probed and sized; references resolve; GPU only where it belongs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from deploy_support import OVERLAYS, REPO, Rendered, render_kustomization, run

ALL = ("base", *OVERLAYS)
APP = {
    "saelab-gateway": "gateway",
    "saelab-collector": "collector",
    "saelab-trainer": "trainer",
    "saelab-analyser": "analyser",
    "saelab-flower": "flower",
}
"""Deployment name -> contract process."""


def containers(spec: dict) -> list[dict]:
    return list(spec.get("containers", []))


def env_names(rendered: Rendered, container: dict) -> set[str]:
    """Variables a container receives: explicit env plus the keys of the ConfigMaps/Secrets it imports."""
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(rendered.get("ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            secret = rendered.get("Secret", source["secretRef"]["name"])
            names |= set(secret.get("data", {})) | set(secret.get("stringData", {}))
    return names


@pytest.mark.parametrize("name", ALL)
def test_renders_and_passes_strict_schema_validation(rendered, kubernetes_validate, name):
    result = run([kubernetes_validate, "--strict", "--quiet", str(rendered[name].path)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validation_rejects_an_unknown_field(kubernetes_validate, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n"
        "spec: {ports: [{port: 80}], selector: {a: b}, sessionAfinity: None}\n"
    )
    result = run([kubernetes_validate, "--strict", "--quiet", str(bad)])
    assert result.returncode != 0 and "sessionAfinity" in result.stdout + result.stderr


@pytest.mark.parametrize("name", ALL)
def test_every_container_has_probes_and_resource_requests_and_limits(rendered, name):
    checked = 0
    for workload, spec in rendered[name].pod_specs():
        for c in containers(spec):
            where = f"{name}: {workload}/{c['name']}"
            for kind in ("requests", "limits"):
                res = c.get("resources", {}).get(kind, {})
                assert {"cpu", "memory"} <= set(res), f"{where}: resources.{kind} needs cpu and memory"
            if not workload.startswith("Job/"):  # a Job's container runs to completion: nothing to probe
                assert "livenessProbe" in c and "readinessProbe" in c, (
                    f"{where}: liveness/readiness probe missing"
                )
            checked += 1
    assert checked >= 6


@pytest.mark.parametrize("name", ALL)
def test_containers_run_non_root_without_privilege_escalation(rendered, name):
    for workload, spec in rendered[name].pod_specs():
        assert spec["securityContext"]["runAsNonRoot"] is True, workload
        for c in containers(spec):
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, f"{workload}/{c['name']}"


@pytest.mark.parametrize("name", ALL)
def test_processes_run_the_contract_commands(rendered, contract, name):
    r = rendered[name]
    for deployment, process in APP.items():
        (c,) = containers(r.get("Deployment", deployment)["spec"]["template"]["spec"])
        assert contract.command_of(c["command"]) == contract.commands[process], f"{name}: {deployment}"
    (job,) = containers(r.get("Job", "saelab-migrate")["spec"]["template"]["spec"])
    assert job["command"] == contract.commands["migrate"]


@pytest.mark.parametrize("name", ALL)
def test_app_containers_get_the_contract_variables(rendered, contract, settings_env_names, name):
    r = rendered[name]
    app_containers = [
        containers(r.get("Deployment", d)["spec"]["template"]["spec"])[0] for d in APP if d != "saelab-flower"
    ]
    app_containers += containers(r.get("Job", "saelab-migrate")["spec"]["template"]["spec"])
    for c in app_containers:
        names = env_names(r, c)
        assert contract.env <= names, f"{name}/{c['name']}: missing {sorted(contract.env - names)}"
        unknown = {n for n in names if n.startswith("SAELAB_")} - settings_env_names
        assert not unknown, f"{name}/{c['name']}: variables no settings class reads: {sorted(unknown)}"
    (flower,) = containers(r.get("Deployment", "saelab-flower")["spec"]["template"]["spec"])
    assert "SAELAB_BROKER_URL" in env_names(r, flower)


@pytest.mark.parametrize("name", ALL)
def test_references_resolve(rendered, name):
    r = rendered[name]
    config_maps = {d["metadata"]["name"] for d in r.of_kind("ConfigMap")}
    secrets = {d["metadata"]["name"] for d in r.of_kind("Secret")}
    claims = {d["metadata"]["name"] for d in r.of_kind("PersistentVolumeClaim")}
    for workload, spec in r.pod_specs():
        for c in containers(spec):
            for source in c.get("envFrom", []):
                ref = source.get("configMapRef") or source.get("secretRef")
                assert ref["name"] in (config_maps if "configMapRef" in source else secrets), (workload, ref)
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["key"] in r.get("Secret", ref["name"])["data"], (workload, ref)
            mounts = {m["name"] for m in c.get("volumeMounts", [])}
            assert mounts <= {v["name"] for v in spec.get("volumes", [])} | {
                t["metadata"]["name"] for t in _claim_templates(r, workload)
            }, workload
        for v in spec.get("volumes", []):
            if "persistentVolumeClaim" in v:
                assert v["persistentVolumeClaim"]["claimName"] in claims, (workload, v)


def _claim_templates(r: Rendered, workload: str) -> list[dict]:
    kind, name = workload.split("/")
    return r.get(kind, name)["spec"].get("volumeClaimTemplates", []) if kind == "StatefulSet" else []


@pytest.mark.parametrize("name", ALL)
def test_services_ingress_and_hpas_point_at_real_targets(rendered, name):
    r = rendered[name]
    pods = [
        (d["spec"]["template"]["metadata"]["labels"], d)
        for d in r.docs
        if d["kind"] in ("Deployment", "StatefulSet")
    ]
    for svc in r.of_kind("Service"):
        selector = svc["spec"]["selector"]
        matches = [d for labels, d in pods if selector.items() <= labels.items()]
        assert matches, f"{name}: Service {svc['metadata']['name']} selects no pods"
        ports = {
            p["name"] for c in containers(matches[0]["spec"]["template"]["spec"]) for p in c.get("ports", [])
        }
        for port in svc["spec"]["ports"]:
            target = port.get("targetPort", port["port"])
            assert isinstance(target, int) or target in ports, (
                f"{name}: {svc['metadata']['name']} -> {target}"
            )
    services = {s["metadata"]["name"]: s for s in r.of_kind("Service")}
    for ing in r.of_kind("Ingress"):
        for rule in ing["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                svc_ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                assert backend["port"]["name"] in svc_ports
    scaled = {h["spec"]["scaleTargetRef"]["name"] for h in r.of_kind("HorizontalPodAutoscaler")}
    assert scaled == {"saelab-collector", "saelab-analyser"}
    for target in scaled:
        r.get("Deployment", target)


@pytest.mark.parametrize("name", ALL)
def test_workers_run_one_task_at_a_time_with_threads_sized_to_their_cpu_limit(rendered, name):
    for deployment in ("saelab-collector", "saelab-trainer", "saelab-analyser"):
        (c,) = containers(rendered[name].get("Deployment", deployment)["spec"]["template"]["spec"])
        env = {e["name"]: e for e in c["env"]}
        assert env["CELERY_WORKER_CONCURRENCY"]["value"] == "1", deployment
        field = env["OMP_NUM_THREADS"]["valueFrom"]["resourceFieldRef"]
        assert field["resource"] == "limits.cpu" and field["containerName"] == c["name"], deployment


def _gpu_requests(r: Rendered) -> dict[str, tuple]:
    out = {}
    for workload, spec in r.pod_specs():
        for c in containers(spec):
            res = c.get("resources", {})
            if "nvidia.com/gpu" in res.get("limits", {}) or "nvidia.com/gpu" in res.get("requests", {}):
                out[workload] = (res["limits"].get("nvidia.com/gpu"), spec, c)
    return out


def test_gpu_overlay_puts_only_the_trainer_on_a_gpu_node(rendered):
    gpu = _gpu_requests(rendered["gpu"])
    assert list(gpu) == ["Deployment/saelab-trainer"]
    limit, spec, container = gpu["Deployment/saelab-trainer"]
    assert limit == "1"
    assert container["image"].startswith("saelab-trainer:")
    assert spec["nodeSelector"], "the trainer must be pinned to GPU nodes"
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])


def test_dev_overlay_is_self_contained_and_cpu_only(rendered):
    dev = rendered["dev"]
    assert not _gpu_requests(dev)
    for server in ("postgres", "redis", "minio"):
        dev.get("StatefulSet", server)
        dev.get("Service", server)
    config = dev.of_kind("ConfigMap")[0]["data"]
    assert config["SAELAB_ENV"] == "development" and config["SAELAB_S3_ENDPOINT"] == "minio:9000"
    assert all(d["metadata"].get("namespace") == "saelab-dev" for d in dev.docs if d["kind"] != "Namespace")


def test_base_ships_only_placeholder_secrets_that_production_refuses(rendered, monkeypatch):
    import base64

    from shared.settings import Settings

    base = rendered["base"]
    assert base.of_kind("ConfigMap")[0]["data"]["SAELAB_ENV"] == "production"
    secret = {k: base64.b64decode(v).decode() for k, v in base.of_kind("Secret")[0]["data"].items()}
    for key, value in {**base.of_kind("ConfigMap")[0]["data"], **secret}.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="placeholder"):
        Settings()


def test_keda_component_replaces_cpu_hpas_with_queue_scalers(kubectl, kubernetes_validate, tmp_path):
    k8s = Path(os.path.relpath(REPO / "k8s", tmp_path))  # kustomize accepts only relative bases
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{k8s / 'overlays' / 'gpu'}]\ncomponents: [{k8s / 'components' / 'keda'}]\n"
    )
    out = tmp_path / "keda.yaml"
    r = Rendered("keda", out, render_kustomization(kubectl, tmp_path, out))
    assert not r.of_kind("HorizontalPodAutoscaler")
    scaled = r.of_kind("ScaledObject")
    assert {s["spec"]["scaleTargetRef"]["name"] for s in scaled} == {"saelab-collector", "saelab-analyser"}
    for s in scaled:
        (c,) = containers(
            r.get("Deployment", s["spec"]["scaleTargetRef"]["name"])["spec"]["template"]["spec"]
        )
        queue = c["command"][c["command"].index("-Q") + 1]
        assert s["spec"]["triggers"][0]["metadata"]["listName"] == queue  # Celery's Redis list = queue name
    result = run([kubernetes_validate, "--strict", "--quiet", str(out)])
    assert result.returncode == 0, result.stdout + result.stderr
