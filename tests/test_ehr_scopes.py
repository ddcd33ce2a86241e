"""The SMART scopes the app asks for, their v1 spelling, and what a grant lacks."""

from __future__ import annotations

import pytest

from wb_fhir.web.smart import scopes


def test_the_app_asks_for_context_identity_refresh_and_its_resources() -> None:
    ehr = scopes.requested(ehr_launch=True, v2=True)
    assert ehr[:4] == ("launch", "openid", "fhirUser", "online_access")
    assert ehr[4:] == scopes.RESOURCE_SCOPES_V2
    assert scopes.requested(ehr_launch=False, v2=True)[0] == "launch/patient"


@pytest.mark.parametrize(
    ("v2", "v1"),
    [
        ("patient/Patient.rs", ("patient/Patient.read",)),
        ("patient/Observation.cru", ("patient/Observation.read", "patient/Observation.write")),
        ("patient/Provenance.c", ("patient/Provenance.write",)),
        ("user/Practitioner.r", ("user/Practitioner.read",)),
        ("openid", ("openid",)),
    ],
)
def test_v2_scopes_in_v1_spelling(v2: str, v1: tuple[str, ...]) -> None:
    assert scopes.to_v1(v2) == v1


def test_v1_request_has_no_duplicates() -> None:
    v1 = scopes.requested(ehr_launch=True, v2=False)
    assert len(v1) == len(set(v1))
    assert "patient/Goal.read" in v1 and "patient/Goal.write" in v1 and "patient/Goal.crus" not in v1


def test_missing_names_what_the_grant_does_not_cover() -> None:
    needed = scopes.requested(ehr_launch=True, v2=True)
    assert scopes.missing(needed, needed) == ()
    assert scopes.missing(needed, ["launch", "openid", "fhirUser", "patient/*.cruds", "user/*.rs"]) == ()
    granted = [s for s in needed if s not in ("patient/Goal.crus", "online_access")] + ["patient/Goal.rs"]
    assert scopes.missing(needed, granted) == ("patient/Goal.crus",)
    v1 = ["launch", "openid", "fhirUser", "patient/*.read", "patient/*.write", "user/Practitioner.read"]
    assert scopes.missing(needed, v1) == ()
    assert scopes.missing(needed, ["launch", "openid", "patient/*.read"])[:2] == (
        "fhirUser",
        "patient/QuestionnaireResponse.crus",
    )
    assert scopes.missing(["patient/Patient.rs"], ["user/Patient.rs"]) == ("patient/Patient.rs",)


def test_permission_reads_v2_and_v1() -> None:
    assert scopes.Permission.parse("patient/Goal.crus") == scopes.Permission("patient", "Goal", frozenset("crus"))
    assert scopes.Permission.parse("user/*.read") == scopes.Permission("user", "*", frozenset("rs"))
    assert scopes.Permission.parse("patient/Observation.rs?category=x") is None
    assert scopes.Permission.parse("launch") is None
