"""docker-compose.yml, validated offline: it parses, enforces its secrets, orders start-up by health and uses
exactly the contract's commands and variables."""

from __future__ import annotations

import re
import subprocess

import pytest
from deploy_support import REPO, bare_env, compose_config, run

APP_SERVICES = {"gateway", "collector", "trainer", "trainer-cpu", "analyser"}
"""Services that run saelab code with the full settings (migrate and flower need less)."""
LM_SERVICES = {"gateway", "collector", "trainer", "trainer-cpu", "analyser"}
"""Services that load a language model, so share the Hugging Face cache."""
TOOL_VARIABLES = {"CELERY_WORKER_CONCURRENCY"}
"""Variables besides the contract's that app services may get (read by Celery itself)."""


def one_shot(service: dict) -> bool:
    return service.get("restart") == "no"


@pytest.mark.parametrize("profiles", [(), ("cpu",), ("gpu",)])
def test_compose_config_is_valid_for_every_profile(compose, profiles):
    argv = [*compose, "-f", "docker-compose.yml", "--env-file", ".env.example"]
    for profile in profiles:
        argv += ["--profile", profile]
    result = run([*argv, "config", "-q"], env=bare_env())
    assert result.returncode == 0, result.stderr


def test_missing_secret_stops_compose_naming_the_variable(compose, tmp_path):
    env = tmp_path / ".env"
    example = (REPO / ".env.example").read_text()
    env.write_text(re.sub(r"^POSTGRES_PASSWORD=.*$", "", example, flags=re.M))
    result = run(
        [*compose, "-f", "docker-compose.yml", "--env-file", str(env), "config", "-q"], env=bare_env()
    )
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr and ".env" in result.stderr


def test_every_required_variable_is_in_env_example():
    text = (REPO / "docker-compose.yml").read_text()
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", text))
    example = {
        line.split("=", 1)[0] for line in (REPO / ".env.example").read_text().splitlines() if "=" in line
    }
    assert required, "compose should require its secrets with ${VAR:?message}"
    assert required <= example, f"missing from .env.example: {sorted(required - example)}"


def test_long_running_services_have_healthchecks_and_one_shots_are_awaited(compose_model):
    services = compose_model["services"]
    for name, svc in services.items():
        if one_shot(svc):
            continue
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
    for name, svc in services.items():
        for dep, how in (svc.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if one_shot(services[dep]) else "service_healthy"
            assert how["condition"] == expected, f"{name} -> {dep}: {how['condition']}, expected {expected}"


def test_one_shot_jobs_are_migrate_and_bucket_creation_and_gate_the_app(compose_model):
    services = compose_model["services"]
    assert {n for n, s in services.items() if one_shot(s)} == {"migrate", "createbuckets"}
    for name in APP_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["createbuckets"]["condition"] == "service_completed_successfully", name


def test_services_run_the_contract_commands(compose_model, contract):
    services = compose_model["services"]
    for name, expected in contract.commands.items():
        assert contract.command_of(services[name]["command"]) == expected, name
    assert services["trainer-cpu"]["command"] == contract.commands["trainer"]


def test_app_services_get_exactly_the_contract_variables(compose_model, contract, settings_env_names):
    services = compose_model["services"]
    for name in APP_SERVICES | {"migrate"}:
        env = set(services[name]["environment"])
        ours = {k for k in env if k.startswith("SAELAB_") or k == "HF_HOME"}
        assert ours == contract.env, f"{name}: extra {ours - contract.env}, missing {contract.env - ours}"
        assert env - ours <= TOOL_VARIABLES, f"{name}: unexpected variables {env - ours - TOOL_VARIABLES}"
    used = {k for svc in services.values() for k in (svc.get("environment") or {}) if k.startswith("SAELAB_")}
    assert used <= settings_env_names, (
        f"variables no settings class reads: {sorted(used - settings_env_names)}"
    )


def test_workers_run_one_task_at_a_time(compose_model):
    # The contract command has no --concurrency: Celery reads CELERY_WORKER_CONCURRENCY. Without it a worker
    # forks one process per CPU and runs that many trainings on one GPU.
    for name in ("collector", "trainer", "trainer-cpu", "analyser"):
        assert compose_model["services"][name]["environment"]["CELERY_WORKER_CONCURRENCY"] == "1", name


def test_services_reach_each_other_by_compose_names(compose_model):
    env = compose_model["services"]["collector"]["environment"]
    assert "@postgres:5432/" in env["SAELAB_DATABASE_URL"]
    assert env["SAELAB_BROKER_URL"].startswith("redis://") and "@redis:6379/" in env["SAELAB_BROKER_URL"]
    assert env["SAELAB_S3_ENDPOINT"] == "minio:9000"  # host:port, no scheme (shared.settings)
    flower = compose_model["services"]["flower"]["environment"]
    assert flower["SAELAB_BROKER_URL"] == env["SAELAB_BROKER_URL"]


def test_trainer_reserves_a_gpu_and_has_a_cpu_fallback(compose_model):
    services = compose_model["services"]
    gpu, cpu = services["trainer"], services["trainer-cpu"]
    assert gpu["profiles"] == ["gpu"] and cpu["profiles"] == ["cpu"]
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"] and devices[0]["driver"] == "nvidia"
    assert gpu["build"]["dockerfile"] == "Dockerfile.trainer"
    assert cpu["build"]["dockerfile"] == "Dockerfile.worker"
    assert "deploy" not in cpu


def test_model_cache_is_one_named_volume_shared_by_every_model_loader(compose_model):
    services = compose_model["services"]
    for name in LM_SERVICES:
        hf_home = services[name]["environment"]["HF_HOME"]
        mounts = {v["target"]: v for v in services[name]["volumes"]}
        assert hf_home in mounts, f"{name}: HF_HOME {hf_home} is not on a volume"
        assert mounts[hf_home]["type"] == "volume" and mounts[hf_home]["source"] == "hf-cache", name
    assert "hf-cache" in compose_model["volumes"]


def test_stateful_services_keep_data_on_named_volumes(compose_model):
    services = compose_model["services"]
    for name, target in [("postgres", "/var/lib/postgresql/data"), ("redis", "/data"), ("minio", "/data")]:
        mounts = {v["target"]: v for v in services[name]["volumes"]}
        assert mounts[target]["type"] == "volume", name


def test_third_party_images_are_pinned_and_ours_are_built(compose_model):
    for name, svc in compose_model["services"].items():
        image = svc["image"]
        if "build" in svc:
            assert (REPO / svc["build"]["dockerfile"]).is_file(), name
            assert image.startswith("saelab-"), name
        else:
            tag = image.rsplit(":", 1)[-1]
            assert ":" in image and tag != "latest" and re.search(r"\d", tag), f"{name}: unpinned {image}"


def test_generated_env_has_no_placeholders_and_is_accepted_in_production(compose, tmp_path, monkeypatch):
    out = tmp_path / ".env"
    subprocess.run(["bash", str(REPO / "deploy" / "init-env.sh"), str(out)], check=True, capture_output=True)
    assert "change-me" not in out.read_text()
    model = compose_config(compose, out, profiles=("cpu",))
    env = model["services"]["collector"]["environment"]
    assert env["SAELAB_ENV"] == "production"
    from shared.settings import Settings

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()  # refuses placeholder secrets in production; these are random
    assert settings.broker is not None and settings.s3_endpoint == "minio:9000"


def test_example_env_placeholders_are_refused_in_production(compose_model, monkeypatch):
    from shared.settings import Settings

    for key, value in compose_model["services"]["gateway"]["environment"].items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValueError, match="SAELAB_API_TOKEN"):
        Settings()


def test_init_env_never_overwrites(tmp_path):
    out = tmp_path / ".env"
    out.write_text("KEEP=1\n")
    subprocess.run(["bash", str(REPO / "deploy" / "init-env.sh"), str(out)], check=True, capture_output=True)
    assert out.read_text() == "KEEP=1\n"


def test_gateway_serves_the_probed_healthz_route():
    source = "\n".join(p.read_text() for p in (REPO / "services" / "gateway").rglob("*.py"))
    assert re.search(r"""["']/healthz["']""", source), (
        "the gateway must serve GET /healthz: compose, Dockerfile.gateway and the k8s probes call it"
    )


def test_flower_serves_the_probed_healthcheck_route():
    import flower.urls

    patterns = [h[0] if isinstance(h, tuple) else h.regex.pattern for h in flower.urls.handlers]
    assert any(p.startswith("/healthcheck") for p in patterns)


def test_contract_commands_name_modules_that_exist(contract):
    modules = {"shared.db.prestart", "services.gateway.app"}
    modules |= {f"services.{q}.celery_app" for q in ("collector", "trainer", "analyser")}
    for command in contract.commands.values():
        assert any(m in " ".join(command) for m in modules) or "flower" in command
    for module in sorted(modules):
        path = REPO / (module.replace(".", "/") + ".py")
        assert path.is_file(), f"{module} (started by compose and k8s) does not exist at {path}"
