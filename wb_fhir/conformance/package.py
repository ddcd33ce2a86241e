"""The FHIR NPM package of the profiles (``package/package.json``, ``.index.json``, resources),
with every valid example of every profile in ``package/example/`` (its own ``.index.json``).

The tar is deterministic: entries in a fixed order, fixed mtimes, owner and mode, and a gzip
header without a timestamp, so the same profiles always give the same bytes.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any

from wb_fhir.conformance import all_examples, conformance_resources, file_name
from wb_fhir.conformance._common import Resource, dumps
from wb_fhir.conformance.packages import manifest, shipped_uk_core_folder
from wb_fhir.terminology import CANONICAL, FHIR_VERSION, PACKAGE_NAME, PACKAGE_VERSION

MTIME = 946684800  # 2000-01-01: a fixed time keeps the archive reproducible


def package_json() -> dict[str, Any]:
    """The package manifest; it depends on the UK Core package that ships with wb_fhir."""
    uk_core = manifest(shipped_uk_core_folder())
    return {
        "name": PACKAGE_NAME,
        "version": PACKAGE_VERSION,
        "description": "Wellbeing network mapping in FHIR R4: profiles, terminology and Questionnaire of wb_fhir",
        "author": "wb_fhir",
        "license": "Apache-2.0",
        "canonical": CANONICAL,
        "fhirVersions": [FHIR_VERSION],
        "type": "fhir.ig",
        "dependencies": {"hl7.fhir.r4.core": FHIR_VERSION, uk_core["name"]: uk_core["version"]},
    }


def _index_entry(name: str, resource: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": name, "resourceType": resource["resourceType"], "id": resource["id"]}
    for key in ("url", "version", "kind", "type"):
        if key in resource:
            entry[key] = resource[key]
    return entry


def package_files() -> dict[str, bytes]:
    """Every file of the package by its path in the archive, in archive order."""
    resources = conformance_resources()
    examples = [e for e in all_examples() if e.valid]
    names = {file_name(r): r for r in resources}
    example_names = {file_name(e.resource): e.resource for e in examples}
    files: dict[str, bytes] = {"package/package.json": dumps(package_json()).encode()}
    files["package/.index.json"] = dumps(
        {"index-version": 1, "files": [_index_entry(n, r) for n, r in names.items()]}
    ).encode()
    files.update({f"package/{n}": dumps(r).encode() for n, r in names.items()})
    files["package/example/.index.json"] = dumps(
        {"index-version": 1, "files": [_index_entry(n, r) for n, r in example_names.items()]}
    ).encode()
    files.update({f"package/example/{n}": dumps(r).encode() for n, r in example_names.items()})
    return files


def build_package() -> bytes:
    """The ``.tgz`` bytes of the package."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in package_files().items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def read_package(data: bytes) -> dict[str, Any]:
    """The JSON files of a package, by path (for checks and tests)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        out = {}
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            if handle is not None:
                out[member.name] = json.loads(handle.read())
        return out
