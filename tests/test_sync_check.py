"""The server check without a server (``responses``): what it looks for, and the command's advice."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import responses
from click.testing import CliRunner

from wb_fhir.cli import main
from wb_fhir.conformance.packages import wb_fhir_package
from wb_fhir.sync.check import Outcome, run_checks
from wb_fhir.sync.client import FhirClient, RetryPolicy

UK_CORE = "https://fhir.hl7.org.uk/StructureDefinition/"
BASE = "https://fhir.example.nhs.uk/R4"


def _answer_urls(missing: set[str]):
    """A server that holds every canonical URL asked for, except ``missing``."""

    def answer(request):
        asked = parse_qs(urlsplit(request.url).query).get("url")
        if asked is None:  # every other check: nothing there
            return 404, {}, ""
        urls = asked[0].split(",")
        rtype = urlsplit(request.url).path.rsplit("/", 1)[-1]
        entries = [{"resource": {"resourceType": rtype, "url": u}} for u in urls if u not in missing]
        return 200, {"Content-Type": "application/fhir+json"}, json.dumps({"resourceType": "Bundle", "entry": entries})

    return answer


def _profiles(missing: set[str]):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_callback(responses.GET, re.compile(f"{BASE}/.*"), callback=_answer_urls(missing))
        client = FhirClient(BASE, retry=RetryPolicy(attempts=1))
        results = run_checks(client, conformance=wb_fhir_package().resources)
    return next(r for r in results if r.name == "profiles")


def uk_core_bases(resources) -> set[str]:
    """The UK Core profiles wb_fhir's own derive from (what the check must look for besides them)."""
    return {str(r["baseDefinition"]) for r in resources if str(r.get("baseDefinition", "")).startswith(UK_CORE)}


def test_the_check_looks_for_every_resource_install_installs_and_what_they_derive_from() -> None:
    ours = wb_fhir_package()
    bases = uk_core_bases(ours.resources)
    assert f"{UK_CORE}UKCore-CarePlan" in bases and len(bases) >= 5
    found = _profiles(set())
    assert (found.outcome, found.detail) == (
        Outcome.PASS,
        f"all {ours.count} conformance resources installed, and the {len(bases)} profiles they derive from",
    )
    gone = _profiles({f"{UK_CORE}UKCore-CarePlan", ours.resources[0]["url"]})
    assert gone.outcome is Outcome.FAIL
    assert gone.detail == f"2 of {ours.count + len(bases)} missing: UKCore-CarePlan, wb-fhir"


def test_the_command_says_how_to_run_the_checks_that_write() -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.GET, re.compile(f"{BASE}/.*"), status=404)
        mock.add(responses.POST, re.compile(f"{BASE}/.*"), status=404)
        result = CliRunner().invoke(main, ["check", "--server", BASE, "--timeout", "1"])
    assert result.exit_code == 1
    assert "writes to the server: not allowed in this run" in result.output
    assert result.output.endswith(
        "the checks that write run with --allow-writes --test-patient NHS (an existing test patient)\n"
    )
    bad = CliRunner().invoke(main, ["check", "--server", BASE, "--allow-writes"])
    assert bad.exit_code == 2
    assert bad.output == (
        "error: the checks that write need the valid NHS number of an existing test patient\n"
        "hint: give --allow-writes with --test-patient NHS, the NHS number of an existing test patient\n"
    )
