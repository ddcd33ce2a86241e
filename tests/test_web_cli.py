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
