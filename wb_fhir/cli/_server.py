"""The server options shared by every command that talks to a FHIR server, and the client they describe."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from wb_fhir.errors import InputError
from wb_fhir.sync._config import MIB, Deadline, Limits, Timeouts
from wb_fhir.terminology import SMART_BACKEND_SCOPE, SMART_SIGNING_ALGORITHMS

if TYPE_CHECKING:
    from wb_fhir.sync.client import FhirClient

LIMITS = Limits()
COMMAND_DEADLINE = 3600.0
"""Seconds a whole command may spend on the server by default (a backstop: each request has its own)."""


def server_options(
    *, server_required: bool = False, outbox: bool = True, command_deadline: bool = True
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The options every command that talks to a server shares (each also read from the env).

    ``outbox=False`` leaves out ``--outbox``, for commands that only read the record;
    ``command_deadline=False`` leaves out ``--command-deadline``, for a command that serves for
    as long as it runs (``serve``): its every request still has its own deadline.
    """

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option("--server", envvar="WB_FHIR_SERVER", required=server_required, help="FHIR server base URL."),
            click.option("--token", envvar="WB_FHIR_TOKEN", help="Bearer token (better: the WB_FHIR_TOKEN env)."),
            click.option(
                "--smart-client-id", envvar="WB_FHIR_SMART_CLIENT_ID", help="SMART Backend Services client id."
            ),
            click.option(
                "--smart-key",
                envvar="WB_FHIR_SMART_KEY",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help="PEM private key that signs the SMART client assertion.",
            ),
            click.option("--smart-kid", envvar="WB_FHIR_SMART_KID", help="Key id (kid) of the SMART key."),
            click.option(
                "--smart-alg",
                envvar="WB_FHIR_SMART_ALG",
                type=click.Choice(SMART_SIGNING_ALGORITHMS),
                default="RS384",
                show_default=True,
                help="Signing algorithm of the SMART key.",
            ),
            click.option(
                "--smart-token-url",
                envvar="WB_FHIR_SMART_TOKEN_URL",
                help="Token endpoint (default: from the server's .well-known/smart-configuration).",
            ),
            click.option(
                "--smart-scope",
                envvar="WB_FHIR_SMART_SCOPE",
                default=SMART_BACKEND_SCOPE,
                show_default=True,
                help="Scopes.",
            ),
            click.option(
                "--timeout",
                envvar="WB_FHIR_TIMEOUT",
                type=click.FloatRange(min=0.1),
                default=60.0,
                show_default=True,
                help="Seconds to wait for the server to connect, and for each read of its answer.",
            ),
            click.option(
                "--deadline",
                envvar="WB_FHIR_DEADLINE",
                type=click.FloatRange(min=0.1),
                default=LIMITS.request_seconds,
                show_default=True,
                help="Most seconds one request may take in all: connecting, sending, reading, retries "
                "(at least --timeout).",
            ),
            click.option(
                "--max-response-mb",
                envvar="WB_FHIR_MAX_RESPONSE_MB",
                type=click.FloatRange(min=0.01),
                default=LIMITS.max_response_bytes / MIB,
                show_default=True,
                help="Largest answer read from the server, in MB (a larger one is refused).",
            ),
            click.option(
                "--allow-shared-key",
                envvar="WB_FHIR_ALLOW_SHARED_KEY",
                is_flag=True,
                help="Use a --smart-key file that group or others may read (refused otherwise, as ssh does).",
            ),
            click.option(
                "--ca-bundle",
                envvar="WB_FHIR_CA_BUNDLE",
                type=click.Path(exists=True, dir_okay=False, path_type=str),
                help="CA certificates (PEM) to verify the server's TLS certificate with.",
            ),
            click.option(
                "--allow-insecure-http",
                is_flag=True,
                help="Allow http:// to a host other than this machine (only on a network you trust).",
            ),
        ]
        if command_deadline:
            options.append(
                click.option(
                    "--command-deadline",
                    envvar="WB_FHIR_COMMAND_DEADLINE",
                    type=click.FloatRange(min=0),
                    default=COMMAND_DEADLINE,
                    show_default=True,
                    help="Most seconds the whole command may spend on the server (0: no limit).",
                )
            )
        if outbox:
            options.append(
                click.option(
                    "--outbox",
                    "outbox_path",
                    envvar="WB_FHIR_OUTBOX",
                    type=click.Path(dir_okay=False, path_type=Path),
                    help="Outbox database (default: in the user's data directory).",
                )
            )
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def request_timeouts(opts: dict[str, Any]) -> Timeouts:
    """The per-read timeouts the options give."""
    return Timeouts(connect=min(10.0, opts["timeout"]), read=opts["timeout"])


def request_limits(opts: dict[str, Any]) -> Limits:
    """The bounds on every request the options give (deadline, cap on answers)."""
    return Limits(
        # A read allowed longer than the request itself would never get its time: the longer wins.
        request_seconds=max(opts.get("deadline") or LIMITS.request_seconds, opts["timeout"]),
        max_response_bytes=int((opts.get("max_response_mb") or LIMITS.max_response_bytes / MIB) * MIB),
    )


def make_client(opts: dict[str, Any]) -> FhirClient | None:
    """The client the options describe, or None when no server is configured."""
    server = opts.get("server")
    if not server:
        return None
    from wb_fhir.sync.auth import BearerAuth, SmartBackendAuth, SmartKey, read_private_key
    from wb_fhir.sync.client import FhirClient, check_base_url

    insecure = bool(opts.get("allow_insecure_http"))
    base = check_base_url(server, allow_insecure_http=insecure)
    timeouts = request_timeouts(opts)
    limits = request_limits(opts)
    # The command's clock starts with its client; 0 (or a command without the option) is no limit.
    deadline = Deadline(opts.get("command_deadline") or None)
    verify: bool | str = opts.get("ca_bundle") or True
    auth: Any = None
    if opts.get("smart_client_id") or opts.get("smart_key"):
        if not (opts.get("smart_client_id") and opts.get("smart_key") and opts.get("smart_kid")):
            raise InputError("SMART Backend Services needs --smart-client-id, --smart-key and --smart-kid together")
        pem = read_private_key(Path(opts["smart_key"]), allow_shared=bool(opts.get("allow_shared_key")))
        key = SmartKey(pem, opts["smart_kid"], opts["smart_alg"])
        auth = SmartBackendAuth(
            client_id=opts["smart_client_id"],
            key=key,
            base_url=base,
            token_url=opts.get("smart_token_url"),
            scope=opts["smart_scope"],
            timeouts=timeouts,
            verify=verify,
            allow_insecure_http=insecure,
            limits=limits,
            deadline=deadline,
        )
    elif opts.get("token"):
        auth = BearerAuth(opts["token"])
    return FhirClient(
        base,
        auth=auth,
        timeouts=timeouts,
        verify=verify,
        allow_insecure_http=insecure,
        limits=limits,
        deadline=deadline,
    )


def needs_client(opts: dict[str, Any]) -> FhirClient:
    """The client the options describe; without a server, an InputError saying how to give one."""
    client = make_client(opts)
    if client is None:
        raise InputError("no FHIR server: give --server URL or set WB_FHIR_SERVER")
    return client


def collect_server_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Collect the server options (those the command has) into one dict argument ``opts``."""
    names = [
        "server",
        "token",
        "smart_client_id",
        "smart_key",
        "smart_kid",
        "smart_alg",
        "smart_token_url",
        "smart_scope",
        "timeout",
        "deadline",
        "command_deadline",
        "max_response_mb",
        "allow_shared_key",
        "ca_bundle",
        "allow_insecure_http",
        "outbox_path",
    ]

    @functools.wraps(f)
    def wrapper(**kwargs: Any) -> Any:
        opts = {n: kwargs.pop(n) for n in names if n in kwargs}
        return f(opts=opts, **kwargs)

    return wrapper


def echo_record_warnings(client: FhirClient, warnings: Iterable[str], made: Mapping[str, Any]) -> None:
    """Print warnings that quote the record, each on one line, scrubbed of the client's
    credentials, NHS numbers and the personal values (labels, names, ids) of what was ``made``
    from the record (a Bundle, a QuestionnaireResponse): a hostile or careless server may have
    put any of them there, or terminal control sequences."""
    from wb_fhir.sync.scrub import Scrubber, personal_values, printable

    personal = Scrubber(personal_values(made))
    for warning in warnings:
        click.echo(f"warning: {printable(personal(client.scrub(warning)))}", err=True)
