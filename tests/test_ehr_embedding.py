"""Embedding in an EHR frame: frame-ancestors and cookies that work there."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from wb_fhir.errors import InputError
from wb_fhir.web.embedding import EmbeddingHeaders, EmbeddingPolicy, check_origin


def test_origins_are_checked() -> None:
    assert check_origin("https://ehr.example.nhs.uk/") == "https://ehr.example.nhs.uk"
    assert check_origin("https://*.trust.nhs.uk:8443") == "https://*.trust.nhs.uk:8443"
    assert check_origin("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
    for bad in (
        "https://ehr.example/path",
        "ehr.example",
        "https://a b",
        "https://u@ehr",
        "javascript:alert(1)",
        "'self'",
    ):
        with pytest.raises(InputError, match="is not an origin"):
            check_origin(bad)
    with pytest.raises(InputError, match="must use https"):
        check_origin("http://ehr.example.nhs.uk")


def test_cookies_outside_and_inside_a_frame() -> None:
    alone = EmbeddingPolicy()
    assert alone.set_cookie("wbf-smart", "v") == "wbf-smart=v; Path=/; HttpOnly; SameSite=Lax"
    assert EmbeddingPolicy(secure=True).set_cookie("s", "v") == "__Host-s=v; Path=/; HttpOnly; SameSite=Lax; Secure"
    framed = EmbeddingPolicy(frame_ancestors=("https://ehr.example.nhs.uk",), secure=True)
    assert framed.set_cookie("s", "v") == "__Host-s=v; Path=/; HttpOnly; SameSite=None; Secure; Partitioned"
    assert framed.frame_ancestors_directive() == "https://ehr.example.nhs.uk"
    assert alone.frame_ancestors_directive() == "'none'"


def _client(policy: EmbeddingPolicy, csp: str | None) -> TestClient:
    def page(request: object) -> PlainTextResponse:
        headers = {"Content-Security-Policy": csp, "X-Frame-Options": "DENY"} if csp else {}
        return PlainTextResponse("ok", headers=headers)

    return TestClient(EmbeddingHeaders(Starlette(routes=[Route("/", page)]), policy))


def test_the_middleware_sets_frame_ancestors_and_keeps_the_rest_of_the_csp() -> None:
    framed = EmbeddingPolicy(frame_ancestors=("https://ehr.example.nhs.uk", "https://*.trust.nhs.uk"))
    r = _client(framed, "default-src 'none'; script-src 'self'; frame-ancestors 'none'").get("/")
    assert r.headers["content-security-policy"] == (
        "default-src 'none'; script-src 'self'; frame-ancestors https://ehr.example.nhs.uk https://*.trust.nhs.uk"
    )
    assert "x-frame-options" not in r.headers
    alone = _client(EmbeddingPolicy(), None).get("/")
    assert alone.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert alone.headers["x-frame-options"] == "DENY"
