"""A SMART private key that group or others may read is refused, as ssh refuses one, unless the user insists."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hostile_servers import Exchange, HostileServer

from wb_fhir.cli import main
from wb_fhir.errors import InputError
from wb_fhir.sync.auth import read_private_key

NHS = "9434765919"


def key_file(folder: Path, mode: int) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = folder / "client.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(path, mode)
    return path


def refusing_token_endpoint(ex: Exchange) -> None:
    ex.json({"error": "invalid_client"}, status=400)


def pull(tmp_path: Path, key: Path, token_url: str, *extra: str, env: dict[str, str] | None = None) -> Result:
    args = [
        "pull", "--patient", NHS, "-o", str(tmp_path / "out"), "--server", token_url.rsplit("/", 1)[0] + "/fhir",
        "--smart-client-id", "wb", "--smart-key", str(key), "--smart-kid", "k1", "--smart-token-url", token_url,
        "--outbox", str(tmp_path / "o.sqlite"), *extra,
    ]  # fmt: skip
    return CliRunner(env=env).invoke(main, args)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_a_key_open_to_group_or_others_is_refused_before_anything_is_sent(tmp_path: Path, mode: int) -> None:
    key = key_file(tmp_path, mode)
    with HostileServer(refusing_token_endpoint) as server:
        result = pull(tmp_path, key, server.url + "/token")
    assert result.exit_code == 2
    assert f"the private key is open to group or others (mode {mode:04o})" in result.stderr
    assert "chmod 600" in result.stderr and "--allow-shared-key" in result.stderr
    assert server.requests == []


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_key_for_its_owner_only_is_used(tmp_path: Path, mode: int) -> None:
    key = key_file(tmp_path, mode)
    with HostileServer(refusing_token_endpoint) as server:
        result = pull(tmp_path, key, server.url + "/token")
    assert result.exit_code == 1 and "invalid_client" in result.stderr  # it got as far as the token endpoint
    assert len(server.requests) == 1


def test_the_user_may_insist_by_option_or_environment(tmp_path: Path) -> None:
    key = key_file(tmp_path, 0o644)
    with HostileServer(refusing_token_endpoint) as server:
        by_option = pull(tmp_path, key, server.url + "/token", "--allow-shared-key")
        by_env = pull(tmp_path, key, server.url + "/token", env={"WB_FHIR_ALLOW_SHARED_KEY": "1"})
    assert by_option.exit_code == by_env.exit_code == 1
    assert len(server.requests) == 2


def test_read_private_key(tmp_path: Path) -> None:
    key = key_file(tmp_path, 0o640)
    with pytest.raises(InputError, match="open to group or others") as refused:
        read_private_key(key)
    assert refused.value.setting == "smart_key_mode"
    assert read_private_key(key, allow_shared=True).startswith(b"-----BEGIN PRIVATE KEY-----")
    with pytest.raises(InputError, match="cannot read the private key"):
        read_private_key(tmp_path / "missing.pem")
