"""The committed web/schema.graphql is the schema the gateway serves (the web client's types come from it)."""

from __future__ import annotations

from services.gateway.export_schema import SCHEMA_FILE, main, schema_sdl


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "web/schema.graphql is stale: python -m services.gateway.export_schema"
    )


def test_check_flag_reports_a_stale_file(tmp_path) -> None:  # noqa: ANN001
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    assert main(["--out", str(stale), "--check"]) == 1
    assert main(["--out", str(stale)]) == 0 and main(["--out", str(stale), "--check"]) == 0
    assert "analysePrompt" in stale.read_text()
