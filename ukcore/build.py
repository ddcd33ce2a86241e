"""Build ``ukcore/package/``, the UK Core FHIR package that ships with wb_fhir, from UK Core's repository.

    python ukcore/build.py SOURCE --commit SHA [--date YYYY-MM-DD]

SOURCE is a checkout of https://github.com/NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN (its
``package.json`` and the XML of ``codesystems/``, ``valuesets/``, ``structuredefinitions/``).
A FHIR package holds JSON, so each resource is converted by HAPI FHIR's own parsers (strict: an
element R4 does not know stops the build) with ``XmlToJson.java``, on the classpath of the test
server (``tests/fhir-server/build.sh`` makes it; ``HAPI_CLASSPATH`` overrides it). The package
manifest is UK Core's own, unchanged; ``.index.json``, ``LICENSE`` and ``NOTICE`` are written
beside the resources. A maintainer's tool, not part of wb_fhir: only ``ukcore/package/`` ships.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = "https://github.com/NHSDigital/FHIR-R4-UKCORE-STAGING-MAIN"
FOLDERS = ("codesystems", "valuesets", "structuredefinitions")
INDEXED = ("url", "version", "kind", "type")
APACHE_2 = Path("/usr/share/common-licenses/Apache-2.0")


def dumps(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def index(resources: list[dict[str, object]]) -> dict[str, object]:
    """The package index (``.index.json``) of these resources, each in its file ``Type-id.json``."""
    files = [
        {"filename": file_name(r), "resourceType": r["resourceType"], "id": r["id"]}
        | {k: r[k] for k in INDEXED if k in r}
        for r in sorted(resources, key=lambda r: (str(r["resourceType"]), str(r["id"])))
    ]
    return {"index-version": 1, "files": files}


def file_name(resource: dict[str, object]) -> str:
    return f"{resource['resourceType']}-{resource['id']}.json"


def convert(sources: list[Path], out: Path) -> None:
    classpath = os.environ.get("HAPI_CLASSPATH") or str(
        HERE.parent / "tests" / "fhir-server" / "target" / "dependency" / "*"
    )
    subprocess.run(["java", "-cp", classpath, str(HERE / "XmlToJson.java"), str(out), *map(str, sources)], check=True)


def notice(manifest: dict[str, object], commit: str, day: str, count: int) -> str:
    return (
        f"UK Core FHIR R4 conformance resources: package {manifest['name']} {manifest['version']}\n"
        "Copyright 2021+ HL7 UK. Licensed under the Apache License, Version 2.0 (LICENSE).\n\n"
        f"Source: {REPOSITORY}\n"
        f"Commit: {commit} ({day})\n"
        f"Files:  package.json (unchanged) and the {count} resources of {', '.join(f'{f}/' for f in FOLDERS)}\n\n"
        "Changed by wb_fhir: each resource converted from FHIR XML to FHIR JSON (as the FHIR package\n"
        "format asks) by HAPI FHIR 8.8's parsers, nothing added or left out; file names Type-id.json;\n"
        ".index.json, LICENSE and this NOTICE added (ukcore/build.py in the wb_fhir repository).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="checkout of the UK Core repository")
    parser.add_argument("--commit", required=True, help="the commit of that checkout")
    parser.add_argument("--date", required=True, help="the date of that commit (YYYY-MM-DD)")
    args = parser.parse_args()
    manifest = json.loads((args.source / "package.json").read_text(encoding="utf-8"))
    sources = sorted(p for folder in FOLDERS for p in (args.source / folder).glob("*.xml"))
    with tempfile.TemporaryDirectory() as tmp:
        convert(sources, Path(tmp))
        resources = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(tmp).glob("*.json"))]
    package = HERE / "package"
    shutil.rmtree(package, ignore_errors=True)
    package.mkdir()
    for resource in resources:
        (package / file_name(resource)).write_text(dumps(resource), encoding="utf-8")
    (package / "package.json").write_text(dumps(manifest), encoding="utf-8")
    (package / ".index.json").write_text(dumps(index(resources)), encoding="utf-8")
    shutil.copyfile(APACHE_2, package / "LICENSE")
    (package / "NOTICE").write_text(notice(manifest, args.commit, args.date, len(resources)), encoding="utf-8")
    print(f"wrote {package}: {manifest['name']} {manifest['version']}, {len(resources)} resources", file=sys.stderr)


if __name__ == "__main__":
    main()
