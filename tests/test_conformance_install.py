"""UK Core shipped with wb_fhir, and ``profiles install`` (UK Core first) through FhirClient, mocked at its seam."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import responses
from click.testing import CliRunner

from wb_fhir.cli import main
from wb_fhir.conformance import conformance_resources
from wb_fhir.conformance.install import (
    FHIR_XML,
    LARGE_ATTEMPTS,
    LARGE_TIMEOUT,
    default_plan,
    install,
    plan,
    xml_transaction,
)
from wb_fhir.conformance.packages import (
    SHIPPED,
    ConformancePackage,
    load_uk_core,
    shipped_uk_core_folder,
    wb_fhir_package,
)
from wb_fhir.errors import InputError, ServerError
from wb_fhir.sync.auth import BearerAuth
from wb_fhir.sync.client import FhirClient, Timeouts, bundle_is_idempotent

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://127.0.0.1:9/fhir"
UK_CORE = "UKCore.R4.STU.02.00.00"
OURS = len(conformance_resources())
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "HAPI-1094: bad reference"}],
}


# --- the shipped package -------------------------------------------------------------------


def test_uk_core_ships_as_a_fhir_package_with_its_licence_and_source() -> None:
    folder = shipped_uk_core_folder()
    manifest = json.loads((folder / "package.json").read_text(encoding="utf-8"))
    assert (manifest["name"], manifest["version"], manifest["fhirVersions"]) == (UK_CORE, "2.0.0", ["4.0.1"])
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    notice = (folder / "NOTICE").read_text(encoding="utf-8")
    assert "https://github.com/NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN" in notice
    assert "3d2827e3e9918674640d0c14a0f870084397a615" in notice


def _build_tool() -> Any:
    spec = importlib.util.spec_from_file_location("ukcore_build", ROOT / "ukcore" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_package_is_as_its_build_tool_writes_it() -> None:
    folder = shipped_uk_core_folder()
    tool = _build_tool()
    resources = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*-*.json"))]
    for resource in resources:
        assert (folder / tool.file_name(resource)).read_text(encoding="utf-8") == tool.dumps(resource)
    assert (folder / ".index.json").read_text(encoding="utf-8") == tool.dumps(tool.index(resources))


def test_the_shipped_index_lists_every_resource_and_nothing_else() -> None:
    folder = shipped_uk_core_folder()
    index = json.loads((folder / ".index.json").read_text(encoding="utf-8"))
    files = {e["filename"]: e for e in index["files"]}
    on_disk = {p.name for p in folder.glob("*.json")} - {"package.json", ".index.json"}
    assert set(files) == on_disk
    for name, entry in files.items():
        resource = json.loads((folder / name).read_text(encoding="utf-8"))
        assert name == f"{resource['resourceType']}-{resource['id']}.json"
        assert (entry["resourceType"], entry["id"], entry["url"]) == (
            resource["resourceType"],
            resource["id"],
            resource["url"],
        )


def test_the_shipped_uk_core_holds_what_our_profiles_derive_from() -> None:
    uk_core = load_uk_core()
    assert (uk_core.name, uk_core.version, uk_core.source) == (UK_CORE, "2.0.0", SHIPPED)
    assert uk_core.counts() == {"CodeSystem": 88, "ValueSet": 134, "StructureDefinition": 153}
    urls = {r["url"] for r in uk_core.resources}
    bases = {r["baseDefinition"] for r in conformance_resources() if r["resourceType"] == "StructureDefinition"}
    uk_bases = {b for b in bases if b.startswith("https://fhir.hl7.org.uk/")}
    assert uk_bases and uk_bases <= urls


# --- other copies of UK Core ----------------------------------------------------------------


def _xml_copy(folder: Path) -> Path:
    (folder / "package.json").write_text('{"name": "UKCore.next", "version": "2.1.0"}', encoding="utf-8")
    for sub, root, ids in (("structuredefinitions", "StructureDefinition", "ab"), ("codesystems", "CodeSystem", "c")):
        (folder / sub).mkdir(parents=True)
        for id_ in ids:
            xml = f'<{root} xmlns="http://hl7.org/fhir"><id value="{id_}"/></{root}>'
            (folder / sub / f"{id_}.xml").write_text(f'<?xml version="1.0"?>\n{xml}', encoding="utf-8")
    return folder


def _json_copy(folder: Path) -> Path:
    package = folder / "package"
    package.mkdir(parents=True)
    (package / "package.json").write_text('{"name": "UKCore.next", "version": "2.1.0"}', encoding="utf-8")
    resources = [
        {"resourceType": "StructureDefinition", "id": "p", "url": "https://example.org/p"},
        {"resourceType": "ValueSet", "id": "v", "url": "https://example.org/v"},
        {"resourceType": "SearchParameter", "id": "s", "url": "https://example.org/s"},  # not needed: left out
    ]
    for r in resources:
        (package / f"{r['resourceType']}-{r['id']}.json").write_text(json.dumps(r), encoding="utf-8")
    (package / ".index.json").write_text('{"index-version": 1, "files": []}', encoding="utf-8")
    return folder


def test_a_newer_copy_may_be_uk_cores_repository_in_xml(tmp_path: Path) -> None:
    uk_core = load_uk_core(_xml_copy(tmp_path))
    assert (uk_core.name, uk_core.version, uk_core.count, uk_core.source) == ("UKCore.next", "2.1.0", 3, str(tmp_path))
    assert uk_core.counts() == {"CodeSystem": 1, "StructureDefinition": 2}
    data = xml_transaction(uk_core.xml).decode()
    assert data.startswith('<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>')
    assert '<url value="StructureDefinition/a"/>' in data and "<?xml" not in data
    # Only PUT Type/id entries: what makes the XML transaction safe to retry.
    assert re.findall(r'<method value="(\w+)"/>', data) == ["PUT"] * 3


def test_a_newer_copy_may_be_a_fhir_package_folder(tmp_path: Path) -> None:
    uk_core = load_uk_core(_json_copy(tmp_path))
    assert (uk_core.name, uk_core.version) == ("UKCore.next", "2.1.0")
    assert [(r["resourceType"], r["id"]) for r in uk_core.resources] == [
        ("ValueSet", "v"),
        ("StructureDefinition", "p"),
    ]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: None, "no package.json: not a FHIR package or UK Core's repository"),
        (lambda d: (d / "package.json").write_text("{}"), "package.json names no name and version"),
        (lambda d: (d / "package.json").write_text('{"name": "x", "version": "1"}'), "holds no CodeSystem"),
        (
            lambda d: [
                (d / "package.json").write_text('{"name": "x", "version": "1"}'),
                (d / "X.json").write_text("{"),
            ],
            "X.json: not a FHIR JSON resource",
        ),
    ],
)
def test_a_folder_that_is_not_uk_core_is_bad_input(tmp_path: Path, make: Any, expected: str) -> None:
    make(tmp_path)
    with pytest.raises(InputError, match=re.escape(expected)):
        load_uk_core(tmp_path)


# --- install ----------------------------------------------------------------------------------


def _answer(request: Any) -> tuple[int, dict[str, str], str]:
    if request.headers["Content-Type"] == FHIR_XML:
        count = request.body.count(b"<entry>")
    else:
        count = len(json.loads(request.body)["entry"])
    entries = [{"response": {"status": "200 OK"}} for _ in range(count)]
    return 200, {}, json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})


def _client(**kw: Any) -> tuple[FhirClient, list[float]]:
    sleeps: list[float] = []
    return FhirClient(BASE, sleep=sleeps.append, rng=lambda: 1.0, **kw), sleeps


def _ours_only() -> list[ConformancePackage]:
    return plan(None)


@responses.activate
def test_install_puts_uk_core_then_ours_each_by_id_in_one_transaction() -> None:
    responses.add_callback(responses.POST, BASE + "/", callback=_answer, content_type="application/fhir+json")
    client, _ = _client(auth=BearerAuth("s3cret"), timeouts=Timeouts(connect=5.0, read=30.0))
    uk_core_result, ours_result = install(client)
    assert len(responses.calls) == 2
    uk_core, ours = (c.request for c in responses.calls)
    for request in (uk_core, ours):
        assert request.headers["Authorization"] == "Bearer s3cret"
        assert request.headers["Content-Type"].startswith("application/fhir+json")
        bundle = json.loads(request.body)
        assert bundle["type"] == "transaction"
        for entry in bundle["entry"]:
            resource = entry["resource"]
            assert entry["request"] == {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        assert bundle_is_idempotent(bundle)
    assert Counter(e["resource"]["resourceType"] for e in json.loads(uk_core.body)["entry"]) == Counter(
        {"CodeSystem": 88, "ValueSet": 134, "StructureDefinition": 153}
    )
    # UK Core is large: a fresh server takes long over it
    assert uk_core.req_kwargs["timeout"] == (5.0, LARGE_TIMEOUT)
    assert ours.req_kwargs["timeout"] == (5.0, 30.0)
    assert (uk_core_result.package.name, uk_core_result.updated) == (UK_CORE, 375)
    assert (ours_result.package.name, ours_result.updated, ours_result.created) == ("wb-fhir.r4", OURS, 0)


def test_the_default_plan_is_the_shipped_uk_core_then_ours() -> None:
    assert [(p.name, p.count) for p in default_plan()] == [(UK_CORE, 375), ("wb-fhir.r4", OURS)]
    assert wb_fhir_package().resources == tuple(conformance_resources())


@responses.activate
def test_install_sends_a_copy_in_xml_as_it_is(tmp_path: Path) -> None:
    responses.add_callback(responses.POST, BASE + "/", callback=_answer, content_type="application/fhir+json")
    client, _ = _client()
    uk_core = load_uk_core(_xml_copy(tmp_path))
    results = install(client, plan(uk_core))
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == FHIR_XML
    assert sent.body == xml_transaction(uk_core.xml)
    assert sorted(results[0].statuses) == ["CodeSystem/c", "StructureDefinition/a", "StructureDefinition/b"]


@responses.activate
def test_install_retries_the_idempotent_transaction() -> None:
    responses.add(responses.POST, BASE + "/", status=503)
    responses.add_callback(responses.POST, BASE + "/", callback=_answer, content_type="application/fhir+json")
    client, sleeps = _client()
    (result,) = install(client, _ours_only())
    assert result.updated == OURS
    assert len(responses.calls) == 2 and len(sleeps) == 1


@responses.activate
def test_a_large_package_is_retried_at_most_once() -> None:
    responses.add(responses.POST, BASE + "/", status=503)
    client, sleeps = _client()
    with pytest.raises(ServerError, match="503"):
        install(client)
    assert len(responses.calls) == LARGE_ATTEMPTS and len(sleeps) == LARGE_ATTEMPTS - 1


@responses.activate
def test_install_reports_the_operation_outcome() -> None:
    responses.add(responses.POST, BASE + "/", json=OUTCOME, status=400)
    client, _ = _client(auth=BearerAuth("s3cret"))
    with pytest.raises(ServerError) as caught:
        install(client, _ours_only())
    assert "HAPI-1094: bad reference" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert caught.value.status == 400


# --- the command ----------------------------------------------------------------------------


@responses.activate
@pytest.mark.parametrize("how", ["env", "option"])
def test_cli_install_server_error_exits_1_without_the_token(how: str) -> None:
    responses.add(responses.POST, BASE + "/", json=OUTCOME, status=422)
    args = ["profiles", "install", "--server", BASE]
    env = {"WB_FHIR_TOKEN": "tok-123"} if how == "env" else {}
    if how == "option":
        args += ["--token", "tok-123"]
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 1, result.output
    assert f"POST {BASE}/ failed: 422" in result.output
    assert "error [processing]: HAPI-1094: bad reference" in result.output
    assert responses.calls[0].request.headers["Authorization"] == "Bearer tok-123"
    assert "tok-123" not in result.output


@responses.activate
def test_cli_install_says_what_it_installed() -> None:
    responses.add_callback(responses.POST, BASE + "/", callback=_answer, content_type="application/fhir+json")
    result = CliRunner().invoke(main, ["profiles", "install", "--server", BASE, "--timeout", "5"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"installed {UK_CORE} 2.0.0 (shipped with wb_fhir): 375 conformance resources (0 created, 375 updated)",
        f"installed wb-fhir.r4 0.1.0: {OURS} conformance resources (0 created, {OURS} updated)",
    ]
    assert responses.calls[1].request.req_kwargs["timeout"] == (5.0, 5.0)


@responses.activate
def test_cli_install_without_uk_core() -> None:
    responses.add_callback(responses.POST, BASE + "/", callback=_answer, content_type="application/fhir+json")
    result = CliRunner().invoke(main, ["profiles", "install", "--server", BASE, "--no-uk-core"])
    assert result.exit_code == 0, result.output
    assert result.output == f"installed wb-fhir.r4 0.1.0: {OURS} conformance resources (0 created, {OURS} updated)\n"
    assert len(responses.calls) == 1


@responses.activate
def test_cli_dry_run_lists_the_packages_without_a_server(tmp_path: Path) -> None:
    runner = CliRunner()
    shipped = runner.invoke(main, ["profiles", "install", "--dry-run"], env={"WB_FHIR_SERVER": None})
    assert shipped.exit_code == 0, shipped.output
    lines = shipped.output.splitlines()
    assert lines[0] == (
        f"would install {UK_CORE} 2.0.0 (shipped with wb_fhir): 375 conformance resources "
        "(88 CodeSystem, 134 ValueSet, 153 StructureDefinition)"
    )
    assert lines[1].startswith(f"would install wb-fhir.r4 0.1.0: {OURS} conformance resources (1 CodeSystem, ")
    newer = runner.invoke(main, ["profiles", "install", "--dry-run", "--uk-core", str(_xml_copy(tmp_path))])
    assert newer.output.splitlines()[0] == (
        f"would install UKCore.next 2.1.0 ({tmp_path}): 3 conformance resources (1 CodeSystem, 2 StructureDefinition)"
    )
    assert len(responses.calls) == 0


def test_cli_uk_core_and_no_uk_core_exclude_each_other(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["profiles", "install", "--dry-run", "--no-uk-core", "--uk-core", str(_xml_copy(tmp_path))]
    )
    assert result.exit_code == 2
    assert "give --uk-core DIR or --no-uk-core, not both" in result.output


def test_cli_a_uk_core_folder_without_resources_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profiles", "install", "--dry-run", "--uk-core", str(tmp_path)])
    assert result.exit_code == 2
    assert f"error: {tmp_path}: no package.json: not a FHIR package or UK Core's repository" in result.output


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("http://fhir.example.org/r4", "uses http:// to a host that is not this machine"),
        ("ftp://fhir.example.org/r4", "must be an http:// or https:// URL"),
        ("fhir.example.org", "must be an http:// or https:// URL"),
    ],
)
@responses.activate
def test_cli_install_bad_server_url_exits_2(server: str, expected: str) -> None:
    result = CliRunner().invoke(main, ["profiles", "install", "--server", server], env={"WB_FHIR_TOKEN": "tok-123"})
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "tok-123" not in result.output and "Traceback" not in result.output
    assert len(responses.calls) == 0


def test_cli_install_needs_a_server() -> None:
    result = CliRunner().invoke(main, ["profiles", "install"], env={"WB_FHIR_SERVER": None})
    assert result.exit_code == 2
    assert "error: no FHIR server: give --server URL or set WB_FHIR_SERVER" in result.output


def test_cli_install_smart_options_must_come_together(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not used", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["profiles", "install", "--server", BASE, "--smart-client-id", "wb", "--smart-key", str(key)]
    )
    assert result.exit_code == 2
    assert "--smart-client-id, --smart-key and --smart-kid together" in result.output
