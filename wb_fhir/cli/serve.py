"""``wb-fhir serve``: the map editor in the browser, for co-producing maps."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import click

from wb_fhir.cli._server import collect_server_options, make_client, server_options
from wb_fhir.errors import InputError
from wb_fhir.sync.outbox import default_path


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
    opts: dict[str, Any],
) -> None:
    """Start the map editor in the browser (co-production with the person).

    Maps are kept on this computer (SQLite, every saved version); with --server they are
    also written to that FHIR server through the outbox, and a person's maps are read from
    it. The app listens on loopback only unless --host is given, and then only with TLS
    (--tls-cert and --tls-key) or --behind-proxy.
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
    client = make_client(opts)
    outbox = opts.get("outbox_path") or default_path()
    config = WebConfig(
        store_path=store_path or outbox.parent / "maps.sqlite",
        outbox_path=outbox,
        server=client.base_url if client is not None else None,
        client=(lambda _session: client) if client is not None else None,
        assets_path=assets_path,
        secure=tls or behind_proxy,
        allowed_hosts=tuple(dict.fromkeys(("127.0.0.1", "localhost", "::1", "[::1]", host, *allowed_hosts))),
    )
    app = create_app(config)
    scheme = "https" if tls else "http"
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"wb-fhir serve: open {scheme}://{shown}:{port}/ in a browser (Ctrl+C stops it)", err=True)
    click.echo(f"maps are kept in {config.store_path}", err=True)
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


COMMANDS = [serve]
