"""Embedding in an EHR frame: frame-ancestors and cookies that work there, from one policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from web_support import app_client, config

from wb_fhir.errors import InputError
from wb_fhir.web.embedding import EmbeddingPolicy, check_origin
from wb_fhir.web.smart import SmartConfig

EHR = "https://ehr.example.nhs.uk"


def _smart() -> SmartConfig:
    return SmartConfig(client_id="wb", redirect_uri="http://127.0.0.1/callback", issuers=("http://127.0.0.1:9/fhir",))


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
    local = EmbeddingPolicy(sign_in_redirect=False)
    assert local.set_cookie("s", "v") == "s=v; Path=/; HttpOnly; SameSite=Strict"
    framed = EmbeddingPolicy(frame_ancestors=(EHR,), secure=True)
    assert framed.set_cookie("s", "v") == "__Host-s=v; Path=/; HttpOnly; SameSite=None; Secure; Partitioned"
    assert framed.frame_ancestors_directive() == EHR
    assert alone.frame_ancestors_directive() == "'none'"


def test_the_app_takes_its_cookie_and_frame_ancestors_from_the_one_policy(tmp_path: Path) -> None:
    # on its own, signing in nowhere else: Strict, and no frame at all
    alone = app_client(config(tmp_path)).get("/")
    session = alone.cookies["wbf-session"]
    assert alone.headers["set-cookie"] == f"wbf-session={session}; Path=/; HttpOnly; SameSite=Strict"
    assert "frame-ancestors 'none'" in alone.headers["content-security-policy"]
    assert alone.headers["x-frame-options"] == "DENY"

    # a SMART app outside a frame: Lax, so the redirect back from the EHR's sign-in keeps the session
    smart = app_client(config(tmp_path, smart=_smart())).get("/launch")
    assert "SameSite=Lax" in smart.headers["set-cookie"] and "Partitioned" not in smart.headers["set-cookie"]
    assert smart.headers["x-frame-options"] == "DENY"

    # inside the EHR's frame: SameSite=None; Secure; Partitioned, and that EHR (only) may frame it
    framed_config = config(tmp_path, smart=_smart(), frame_ancestors=(EHR + "/", "https://*.trust.nhs.uk"))
    assert framed_config.frame_ancestors == (EHR, "https://*.trust.nhs.uk")
    framed = app_client(framed_config).get("/launch")
    cookie = framed.headers["set-cookie"]
    assert cookie.startswith("__Host-wbf-session=")
    assert cookie.endswith("; Path=/; HttpOnly; SameSite=None; Secure; Partitioned")
    csp = framed.headers["content-security-policy"]
    assert f"frame-ancestors {EHR} https://*.trust.nhs.uk" in csp and csp.count("frame-ancestors") == 1
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "x-frame-options" not in framed.headers


def test_a_bad_frame_ancestor_is_refused_when_the_app_is_configured(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="must use https"):
        config(tmp_path, frame_ancestors=("http://ehr.example.nhs.uk",))
