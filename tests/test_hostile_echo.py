"""A server that echoes what it was sent (NHS numbers, the bearer token, the Bundle) never gets it printed or stored.

The server here answers every request (or every write) with an OperationOutcome quoting the
request line, the ``Authorization`` header, the bare token and the body, plus the person's NHS
number. Every command that talks to a server runs against it through the command line; what
reaches the terminal, the JUnit file and the outbox's ``last_error`` must hold none of it.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hostile_servers import Exchange, HostileServer, Request, bundle, echo_outcome

from wb_fhir.cli import main

ROOT = Path(__file__).resolve().parent.parent
NHS = "9434765919"  # the person of examples/figure1.yaml
TOKEN = "opaque-token-77c1d9e2"
LABELS = ("Friend from the gym", "Alex Jones")


def echoing(*, writes_only: bool = False) -> Any:
    def handle(ex: Exchange) -> None:
        if writes_only and ex.request.method == "GET":
            ex.json(bundle([]))
            return
        if writes_only and _posts(ex.request, "batch"):  # searches (a push's guard), not a write
            searches = len(json.loads(ex.request.body)["entry"])
            found = {"resource": bundle([]), "response": {"status": "200 OK"}}
            ex.json({"resourceType": "Bundle", "type": "batch-response", "entry": [found] * searches})
            return
        outcome = echo_outcome(ex.request)
        outcome["issue"][0]["diagnostics"] += f"; the record of {NHS} ({NHS[:3]} {NHS[3:6]} {NHS[6:]})"
        ex.json(outcome, status=400)

    return handle


def _posts(request: Request, bundle_type: str) -> bool:
    """Whether the request posts a Bundle of this type."""
    try:
        return request.method == "POST" and json.loads(request.body).get("type") == bundle_type
    except ValueError:
        return False


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def assert_clean(text: str, *, labels: bool = False) -> None:
    assert NHS not in text and f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}" not in text
    assert TOKEN not in text
    assert "eyJ" not in text  # no JWT (a client assertion, an access token)
    if labels:
        for label in LABELS:
            assert label not in text


def last_errors(outbox: Path) -> list[str]:
    with sqlite3.connect(outbox) as db:
        return [row[0] for row in db.execute("SELECT last_error FROM items")]


def server_args(server: HostileServer) -> list[str]:
    return ["--server", server.url + "/fhir", "--token", TOKEN]


@pytest.mark.parametrize("writes_only", [False, True], ids=["every-request", "the-transaction"])
def test_push_prints_and_stores_the_echo_scrubbed(tmp_path: Path, writes_only: bool) -> None:
    outbox = tmp_path / "outbox.sqlite"
    with HostileServer(echoing(writes_only=writes_only)) as server:
        result = run("push", str(ROOT / "examples" / "figure1.yaml"), *server_args(server), "--outbox", str(outbox))
    assert result.exit_code == 1
    assert "HAPI-0000: cannot process" in result.stderr  # the echo is shown, readable
    assert_clean(result.output, labels=True)
    errors = last_errors(outbox)
    assert errors and all(e and "HAPI-0000" in e for e in errors)
    for error in errors:
        assert_clean(error, labels=True)
    posted = [r for r in server.requests if _posts(r, "transaction")]
    assert bool(posted) is writes_only and (not posted or NHS.encode() in posted[0].body)


def test_outbox_flush_and_list_show_the_echo_scrubbed(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.sqlite"
    stored = run("push", str(ROOT / "examples" / "figure1.yaml"), "--outbox", str(outbox))
    assert stored.exit_code == 0, stored.output
    with HostileServer(echoing(writes_only=True)) as server:
        result = run("outbox", "flush", *server_args(server), "--outbox", str(outbox))
    assert result.exit_code == 1 and "HAPI-0000" in result.stderr
    assert_clean(result.output, labels=True)
    listed = run("outbox", "list", "--outbox", str(outbox), "--json")
    assert listed.exit_code == 0 and "failed: 400 Bad Request" in listed.stdout  # the first line of the error
    assert_clean(listed.stdout, labels=True)
    for error in last_errors(outbox):
        assert_clean(error, labels=True)


@pytest.mark.parametrize(
    "command",
    [
        ["pull", "--patient", NHS, "-o", "{tmp}/out"],
        ["prefill", "--patient", NHS, "-o", "{tmp}/draft.yaml"],
        ["profiles", "install", "--no-uk-core"],
        ["report", "--read-by", "search"],
        ["report", "--read-by", "export"],
    ],
    ids=["pull", "prefill", "profiles-install", "report-search", "report-export"],
)
def test_commands_that_read_or_install_print_the_echo_scrubbed(tmp_path: Path, command: list[str]) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    with HostileServer(echoing()) as server:
        result = run(
            *args, *server_args(server), *(["--outbox", str(tmp_path / "o.sqlite")] if args[0] == "pull" else [])
        )
    assert result.exit_code == 1, result.output
    assert "HAPI-0000" in result.stderr or "400" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert_clean(result.output)


def test_check_prints_and_writes_the_echo_scrubbed(tmp_path: Path) -> None:
    junit = tmp_path / "check.xml"

    def statement_echoing(ex: Exchange) -> None:
        if ex.request.path == "/fhir/metadata":  # a CapabilityStatement that quotes secrets where text goes
            ex.json({"resourceType": "CapabilityStatement", "fhirVersion": f"4.0.1 {NHS} Bearer {TOKEN}"})
        else:
            echoing()(ex)

    for handler in (echoing(), statement_echoing):
        with HostileServer(handler) as server:
            shown = run("check", *server_args(server), "--junit", str(junit))
            as_json = run("check", *server_args(server), "--json")
        assert shown.exit_code == 1 and as_json.exit_code == 1
        assert "HAPI-0000" in shown.stdout
        assert_clean(shown.output)
        assert_clean(as_json.output)
        assert_clean(junit.read_text())
        assert json.loads(as_json.stdout)["checks"]


def test_a_token_endpoint_echoing_the_assertion_is_scrubbed(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "key.pem"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def token_echo(ex: Exchange) -> None:
        body = ex.request.body.decode()
        ex.json({"error": "invalid_client", "error_description": f"bad {body} for {NHS}"}, status=400)

    with HostileServer(token_echo) as token_endpoint, HostileServer(echoing()) as server:
        result = run(
            "pull", "--patient", NHS, "-o", str(tmp_path / "out"), "--server", server.url + "/fhir",
            "--smart-client-id", "wb", "--smart-key", str(key_file), "--smart-kid", "k1",
            "--smart-token-url", token_endpoint.url + "/token", "--outbox", str(tmp_path / "o.sqlite"),
        )  # fmt: skip
    assert result.exit_code == 1
    assert "invalid_client (bad grant_type=client_credentials" in result.stderr
    assert_clean(result.output)
    assert server.requests == []


@pytest.mark.parametrize(
    "command",
    [
        ["prefill", "--patient", NHS, "-o", "{tmp}/draft.yaml"],
        ["populate", "--patient", NHS, "-o", "{tmp}/response.json"],
        ["pull", "--patient", NHS, "-o", "{tmp}/out"],
    ],
    ids=["prefill", "populate", "pull"],
)
def test_warnings_quoting_the_record_are_scrubbed_and_printable(tmp_path: Path, command: list[str]) -> None:
    from wb_fhir.fhir import questionnaire_response
    from wb_fhir.mapfile import load_map

    wmap = load_map(ROOT / "examples" / "figure1.yaml")
    qr = questionnaire_response(wmap)
    # What the record quotes back in the warnings: the response's id, its status and an item's
    # linkId, each carrying the token, the NHS number, a label and terminal control sequences.
    qr["id"] = f"qr-{NHS}"
    qr["subject"] = {"reference": "Patient/p1"}
    qr["status"] = f"Bearer {TOKEN} of {NHS} \x1b[2J\x1b]0;owned\x07"
    qr["item"].append({"linkId": f"x {LABELS[0]} {TOKEN}\n\u202eforged line", "text": "odd"})
    patient = {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": NHS}],
    }

    def record(ex: Exchange) -> None:
        found = {"Patient": [patient], "QuestionnaireResponse": [qr]}.get(ex.request.path.rsplit("/", 1)[-1], [])
        ex.json(bundle(found))

    args = [a.replace("{tmp}", str(tmp_path)) for a in command]
    with HostileServer(record) as server:
        result = run(
            *args, *server_args(server), *(["--outbox", str(tmp_path / "o.sqlite")] if args[0] == "pull" else [])
        )
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any("the response is not completed" in w for w in warnings), result.stderr
    assert any("is not an item of the Questionnaire here" in w for w in warnings), result.stderr  # on one line
    knows_labels = args[0] != "pull"  # prefill and populate carry the map forward; pull knows no labels
    assert_clean(result.stderr, labels=knows_labels)
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\x07" not in result.stderr
    assert "[token]" in result.stderr and "[nhs-number]" in result.stderr
    assert ("[personal]" in result.stderr) is knows_labels
