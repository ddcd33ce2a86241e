"""``wb-fhir serve``: the map editor in the browser, for co-producing maps (also inside an EHR)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from wb_fhir.cli._server import collect_server_options, make_client, server_options
from wb_fhir.errors import InputError
from wb_fhir.sync.client import Timeouts
from wb_fhir.sync.outbox import default_path

if TYPE_CHECKING:
    from wb_fhir.web.cds_hooks import CdsConfig
    from wb_fhir.web.smart import SmartConfig


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless given).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port to listen on.")
@click.option(
    "--store",
    "store_path",
    envvar="WB_FHIR_WEB_STORE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite store of maps and their versions (default: maps.sqlite beside the outbox).",
)
@click.option(
    "--assets",
    "assets_path",
    envvar="WB_FHIR_ASSETS",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Community asset directory to sign-post from.",
)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS certificate (PEM).")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="TLS private key (PEM).")
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="A TLS reverse proxy on this machine serves the app (cookies Secure; X-Forwarded-* from loopback trusted).",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="Host name the app may be reached by (repeatable; loopback names and --host are always allowed).",
)
@click.option(
    "--frame-ancestor",
    "frame_ancestors",
    multiple=True,
    metavar="ORIGIN",
    help="Origin of an EHR that may show the app in a frame (repeatable; e.g. https://ehr.trust.nhs.uk).",
)
@click.option(
    "--launch-client-id",
    envvar="WB_FHIR_LAUNCH_CLIENT_ID",
    help="SMART App Launch: the client id the EHR registered the app with (turns on the EHR mode).",
)
@click.option(
    "--launch-client-secret",
    envvar="WB_FHIR_LAUNCH_CLIENT_SECRET",
    help="SMART App Launch: client secret of a confidential client (better: the env variable).",
)
@click.option(
    "--launch-redirect-uri",
    envvar="WB_FHIR_LAUNCH_REDIRECT_URI",
    metavar="URL",
    help="SMART App Launch: this app's /callback as registered (e.g. https://maps.trust.nhs.uk/callback).",
)
@click.option(
    "--launch-issuer",
    "launch_issuers",
    multiple=True,
    metavar="URL",
    help="SMART App Launch: FHIR base URL (iss) of an EHR allowed to launch the app (repeatable).",
)
@click.option(
    "--launch-standalone-iss",
    metavar="URL",
    help="SMART App Launch: the issuer /login signs in at (default: the first --launch-issuer).",
)
@click.option(
    "--cds-trusted",
    "cds_trusted",
    multiple=True,
    metavar="ISS=JWKS_URL",
    help="CDS Hooks: an EHR (its JWT iss) that may call the service, and its key set URL (repeatable).",
)
@click.option(
    "--cds-base-url",
    metavar="URL",
    help="CDS Hooks: /cds-services as the EHR calls it (default: beside --launch-redirect-uri).",
)
@server_options(command_deadline=False)
@collect_server_options
def serve(
    host: str,
    port: int,
    store_path: Path | None,
    assets_path: Path | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    behind_proxy: bool,
    allowed_hosts: tuple[str, ...],
    frame_ancestors: tuple[str, ...],
    launch_client_id: str | None,
    launch_client_secret: str | None,
    launch_redirect_uri: str | None,
    launch_issuers: tuple[str, ...],
    launch_standalone_iss: str | None,
    cds_trusted: tuple[str, ...],
    cds_base_url: str | None,
    opts: dict[str, Any],
) -> None:
    """Start the map editor in the browser (co-production with the person).

    Maps are kept on this computer (SQLite, every saved version); with --server they are
    also written to that FHIR server through the outbox, and a person's maps are read from
    it. The app listens on loopback only unless --host is given, and then only with TLS
    (--tls-cert and --tls-key) or --behind-proxy.

    Inside an EHR (--launch-client-id, --launch-redirect-uri, --launch-issuer): the app is a
    SMART App Launch app, opened from the care record (/launch) or signed in through it
    (/login); each launch reads and writes the launching EHR's FHIR server with its own token,
    for the launched person only. --cds-trusted adds the CDS Hooks service (/cds-services).
    --frame-ancestor lets an EHR show the app in a frame.
    """
    import uvicorn

    from wb_fhir.web import WebConfig, create_app

    if bool(tls_cert) != bool(tls_key):
        raise InputError("TLS needs --tls-cert and --tls-key together")
    tls = tls_cert is not None
    if not _loopback(host) and not (tls or behind_proxy):
        raise InputError(
            f"--host {host} would serve mental health records to the network without TLS: "
            "give --tls-cert and --tls-key, or run behind a TLS reverse proxy with --behind-proxy"
        )
    smart = _smart_config(
        launch_client_id, launch_client_secret, launch_redirect_uri, launch_issuers, launch_standalone_iss, opts
    )
    cds = _cds_config(smart, cds_trusted, cds_base_url, opts)
    if smart is not None and opts.get("server"):
        raise InputError(
            "--server and --launch-*: inside an EHR each launch brings its FHIR server (iss); give one or the other"
        )
    client = make_client(opts)
    outbox = opts.get("outbox_path") or default_path()
    public = [
        urlsplit(u).hostname or "" for u in (smart.redirect_uri if smart else "", cds.service_base if cds else "")
    ]
    config = WebConfig(
        store_path=store_path or outbox.parent / "maps.sqlite",
        outbox_path=outbox,
        server=client.base_url if client is not None else None,
        client=(lambda _session: client) if client is not None else None,
        assets_path=assets_path,
        secure=tls or behind_proxy,
        allowed_hosts=tuple(
            dict.fromkeys(h for h in ("127.0.0.1", "localhost", "::1", "[::1]", host, *allowed_hosts, *public) if h)
        ),
        frame_ancestors=frame_ancestors,
        smart=smart,
        cds=cds,
    )
    app = create_app(config)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"wb-fhir serve: open {scheme}://{shown}:{port}/ in a browser (Ctrl+C stops it)", err=True)
    click.echo(f"maps are kept in {config.store_path}", err=True)
    if smart is not None:
        click.echo(f"SMART App Launch: {_origin(smart.redirect_uri)}/launch (the EHR launches it)", err=True)
    if cds is not None:
        click.echo(f"CDS Hooks: {cds.service_base}", err=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        proxy_headers=behind_proxy,
        forwarded_allow_ips="127.0.0.1" if behind_proxy else None,
        access_log=False,
        log_level="warning",
        server_header=False,
        timeout_graceful_shutdown=5,
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _smart_config(
    client_id: str | None,
    client_secret: str | None,
    redirect_uri: str | None,
    issuers: tuple[str, ...],
    standalone_iss: str | None,
    opts: dict[str, Any],
) -> SmartConfig | None:
    """The SMART App Launch registration the options give, or None when none is given."""
    if not (client_id or client_secret or redirect_uri or issuers or standalone_iss):
        return None
    lacking = [
        flag
        for flag, value in (
            ("--launch-client-id", client_id),
            ("--launch-redirect-uri", redirect_uri),
            ("--launch-issuer", issuers),
        )
        if not value
    ]
    if lacking:
        raise InputError(f"SMART App Launch needs {', '.join(lacking)} too")
    from wb_fhir.web.smart import SmartConfig

    assert client_id is not None and redirect_uri is not None
    if urlsplit(redirect_uri).path != "/callback":
        raise InputError(f"--launch-redirect-uri {redirect_uri} must end in /callback, where the app receives it")
    return SmartConfig(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=redirect_uri,
        issuers=issuers,
        standalone_iss=standalone_iss,
        verify=opts.get("ca_bundle") or True,
        allow_insecure_http=bool(opts.get("allow_insecure_http")),
        timeouts=Timeouts(connect=min(10.0, opts["timeout"]), read=opts["timeout"]),
    )


def _cds_config(
    smart: SmartConfig | None, trusted: tuple[str, ...], base_url: str | None, opts: dict[str, Any]
) -> CdsConfig | None:
    """The CDS Hooks service the options give, or None when no EHR is trusted to call it."""
    if not trusted:
        if base_url:
            raise InputError("--cds-base-url needs --cds-trusted ISS=JWKS_URL: no EHR could call the service")
        return None
    if smart is None:
        raise InputError("--cds-trusted needs the SMART App Launch options: the card's link launches the app")
    keys: dict[str, str] = {}
    for item in trusted:
        iss, sep, jwks = item.partition("=http")
        if not sep or not iss:
            raise InputError(
                f"--cds-trusted {item!r} is not ISS=JWKS_URL (e.g. https://ehr.nhs.uk=https://ehr.nhs.uk/jwks)"
            )
        keys[iss] = "http" + jwks
    from wb_fhir.web.cds_hooks import CdsConfig

    origin = _origin(smart.redirect_uri)
    return CdsConfig(
        service_base=base_url or f"{origin}/cds-services",
        trusted=keys,
        app_launch_url=f"{origin}/launch",
        verify=opts.get("ca_bundle") or True,
        allow_insecure_http=bool(opts.get("allow_insecure_http")),
        timeouts=Timeouts(connect=min(10.0, opts["timeout"]), read=opts["timeout"]),
    )


COMMANDS = [serve]
