"""``wb-fhir serve`` on the command line: loopback by default, TLS or a proxy for anything else."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from wb_fhir.cli import main


def test_a_network_address_without_tls_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--store", str(tmp_path / "m.sqlite")])
    assert result.exit_code == 2
    assert "without TLS: give --tls-cert and --tls-key, or run behind a TLS reverse proxy with --behind-proxy" in (
        result.output
    )
    assert not (tmp_path / "m.sqlite").exists()


def test_tls_needs_both_certificate_and_key(tmp_path: Path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    result = CliRunner().invoke(main, ["serve", "--tls-cert", str(cert)])
    assert result.exit_code == 2 and "TLS needs --tls-cert and --tls-key together" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WB_FHIR_OUTBOX": str(tmp_path / "outbox.sqlite")}
    env.pop("WB_FHIR_SERVER", None)
    return subprocess.Popen(
        [sys.executable, "-m", "wb_fhir", "serve", "--store", str(tmp_path / "maps.sqlite"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _get(url: str, verify: bool | str = True) -> requests.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return requests.get(url, timeout=5, verify=verify)
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_serve_starts_on_loopback_and_serves_the_app(tmp_path: Path) -> None:
    port = _free_port()
    process = _start(["--port", str(port)], tmp_path)
    try:
        answer = _get(f"http://127.0.0.1:{port}/")
        assert answer.status_code == 200 and "Start a new map" in answer.text
        assert "server" not in {k.lower() for k in answer.headers}
        assert (tmp_path / "maps.sqlite").stat().st_mode & 0o077 == 0
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert f"open http://127.0.0.1:{port}/" in err.decode()


def test_serve_with_tls_marks_cookies_secure(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    port = _free_port()
    process = _start(["--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key)], tmp_path)
    try:
        answer = _get(f"https://127.0.0.1:{port}/", verify=str(cert))
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith("__Host-wbf-session=") and "Secure" in cookie and "HttpOnly" in cookie
        assert answer.headers["strict-transport-security"].startswith("max-age=")
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _invoke(tmp_path: Path, *args: str) -> Any:
    env = {"WB_FHIR_OUTBOX": str(tmp_path / "outbox.sqlite"), "WB_FHIR_SERVER": ""}
    return CliRunner().invoke(main, ["serve", "--store", str(tmp_path / "m.sqlite"), *args], env=env)


EHR_ISS = "https://ehr.example.nhs.uk/fhir"
LAUNCH = ["--launch-client-id", "wb", "--launch-redirect-uri", "https://maps.example.nhs.uk/callback"]


def test_ehr_options_that_do_not_fit_together_are_refused(tmp_path: Path) -> None:
    cases = {
        ("--launch-client-id", "wb"): "SMART App Launch needs --launch-redirect-uri, --launch-issuer too",
        (*LAUNCH, "--launch-issuer", EHR_ISS, "--server", "http://127.0.0.1:9/fhir"): (
            "--server and --launch-*: inside an EHR each launch brings its FHIR server (iss); give one or the other"
        ),
        ("--cds-trusted", "https://ehr.example.nhs.uk=https://ehr.example.nhs.uk/jwks"): (
            "--cds-trusted needs the SMART App Launch options: the card's link launches the app"
        ),
        (*LAUNCH, "--launch-issuer", EHR_ISS, "--cds-trusted", "https://ehr.example.nhs.uk"): (
            "--cds-trusted 'https://ehr.example.nhs.uk' is not ISS=JWKS_URL"
        ),
        (*LAUNCH, "--launch-issuer", EHR_ISS, "--cds-base-url", "https://maps.example.nhs.uk/cds-services"): (
            "--cds-base-url needs --cds-trusted ISS=JWKS_URL"
        ),
        (
            "--launch-client-id",
            "wb",
            "--launch-redirect-uri",
            "https://maps.example.nhs.uk/back",
            "--launch-issuer",
            EHR_ISS,
        ): ("must end in /callback"),
        (*LAUNCH, "--launch-issuer", "http://ehr.example.nhs.uk/fhir"): (
            "SMART issuer http://ehr.example.nhs.uk/fhir uses http:// to a host that is not this machine"
        ),
        (*LAUNCH, "--launch-issuer", EHR_ISS, "--frame-ancestor", "http://ehr.example.nhs.uk"): "must use https://",
        (*LAUNCH, "--launch-issuer", EHR_ISS, "--launch-standalone-iss", "https://other.example/fhir"): (
            "the standalone SMART issuer https://other.example/fhir is not one of the issuers"
        ),
    }
    for args, message in cases.items():
        result = _invoke(tmp_path, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert not (tmp_path / "m.sqlite").exists()


def test_serve_inside_an_ehr_launches_and_answers_hooks(tmp_path: Path, smart_auth: Any) -> None:
    iss = f"{smart_auth.url}/fhir-cli"
    smart_auth.resource_servers.add(iss)
    port = _free_port()
    app = f"http://127.0.0.1:{port}"
    process = _start(
        [
            "--port", str(port),
            "--launch-client-id", "wb-cli",
            "--launch-redirect-uri", f"{app}/callback",
            "--launch-issuer", iss,
            "--frame-ancestor", "https://ehr.example.nhs.uk",
            "--cds-trusted", f"{smart_auth.url}={smart_auth.url}/jwks",
        ],
        tmp_path,
    )  # fmt: skip
    try:
        home = _get(f"{app}/")
        assert home.status_code == 401 and "Open the app from the care record" in home.text
        assert "frame-ancestors https://ehr.example.nhs.uk" in home.headers["content-security-policy"]
        assert "SameSite=None" in home.headers["set-cookie"] and "Partitioned" in home.headers["set-cookie"]
        launch = requests.get(f"{app}/launch", params={"iss": iss, "launch": "x"}, allow_redirects=False, timeout=30)
        assert launch.status_code == 302 and launch.headers["location"].startswith(f"{smart_auth.url}/authorize?")
        assert "client_id=wb-cli" in launch.headers["location"]
        discovery = requests.get(f"{app}/cds-services", timeout=30).json()
        assert discovery["services"][0]["hook"] == "patient-view"
        unsigned = requests.post(f"{app}/cds-services/wb-fhir-patient-view", json={}, timeout=30)
        assert unsigned.status_code == 401
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert f"SMART App Launch: {app}/launch" in err.decode()
    assert f"CDS Hooks: {app}/cds-services" in err.decode()
