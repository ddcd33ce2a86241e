"""The conformance packages a server needs: UK Core (shipped with wb_fhir, or a newer copy), then ours.

wb_fhir's profiles derive from UK Core's, so a server must hold UK Core before it can validate
against them. UK Core ships inside wb_fhir as a FHIR package (``ukcore/package/`` in the
repository, ``wb_fhir/_data/ukcore/package/`` in the wheel: UK Core's ``package.json``, its
CodeSystems, ValueSets and StructureDefinitions as JSON, an ``.index.json``, its LICENSE and a
NOTICE naming the source repository and commit). A newer copy can come as a FHIR package folder
(as the FHIR package registries and Simplifier give it) or as UK Core's repository (XML in
``codesystems/``, ``valuesets/``, ``structuredefinitions/``), sent as it is.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wb_fhir._resources import data_dir
from wb_fhir.conformance import conformance_resources
from wb_fhir.conformance._common import Resource
from wb_fhir.errors import InputError
from wb_fhir.terminology import PACKAGE_NAME, PACKAGE_VERSION

INSTALLED_TYPES = ("CodeSystem", "ValueSet", "StructureDefinition")
"""What is installed from a UK Core copy, in this order: what validating against its profiles needs."""
XML_FOLDERS = ("codesystems", "valuesets", "structuredefinitions")
"""UK Core's repository layout: one folder per installed type, FHIR XML."""
SHIPPED = "shipped with wb_fhir"
_XML_ROOT = re.compile(r'<(\w+) xmlns="http://hl7.org/fhir"')
_XML_ID = re.compile(r'<id value="([^"]+)"')


@dataclass(frozen=True)
class XmlResource:
    """A resource kept as the FHIR XML it came in (wb_fhir does not convert XML)."""

    resource_type: str
    id: str
    text: str


@dataclass(frozen=True)
class ConformancePackage:
    """A named, versioned set of conformance resources: JSON resources, or FHIR XML ones."""

    name: str
    version: str
    resources: tuple[Resource, ...] = ()
    xml: tuple[XmlResource, ...] = ()
    source: str = ""
    """Where it comes from, for people: "shipped with wb_fhir", or the folder it was read from."""

    @property
    def count(self) -> int:
        """How many resources the package installs."""
        return len(self.resources) + len(self.xml)

    def counts(self) -> dict[str, int]:
        """How many resources of each type, in install order."""
        types = Counter([r["resourceType"] for r in self.resources] + [x.resource_type for x in self.xml])
        return {t: types[t] for t in sorted(types, key=_type_order)}

    def __str__(self) -> str:
        return f"{self.name} {self.version}" + (f" ({self.source})" if self.source else "")


def _type_order(resource_type: str) -> tuple[int, str]:
    known = INSTALLED_TYPES.index(resource_type) if resource_type in INSTALLED_TYPES else len(INSTALLED_TYPES)
    return known, resource_type


def wb_fhir_package() -> ConformancePackage:
    """wb_fhir's own conformance resources (``profiles/``), terminology first."""
    return ConformancePackage(PACKAGE_NAME, PACKAGE_VERSION, tuple(conformance_resources()))


def shipped_uk_core_folder() -> Path:
    """The folder of the UK Core package that ships with wb_fhir (``.../ukcore/package``)."""
    return data_dir("ukcore") / "package"


def manifest(folder: Path) -> dict[str, Any]:
    """The ``package.json`` of a package folder (or of a folder holding ``package/``), with name and version."""
    folder = _package_folder(folder)
    path = folder / "package.json"
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no package.json: not a FHIR package or UK Core's repository", str(folder)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"cannot read package.json ({exc})", str(folder)) from None
    if not isinstance(value, dict) or not value.get("name") or not value.get("version"):
        raise InputError("package.json names no name and version", str(path))
    return value


def load_uk_core(folder: Path | None = None) -> ConformancePackage:
    """UK Core's CodeSystems, ValueSets and StructureDefinitions from a folder (default: the shipped copy).

    The folder is a FHIR package (``package.json`` beside JSON resources, or in ``package/``)
    or UK Core's repository (``package.json`` and XML in ``codesystems/``, ``valuesets/``,
    ``structuredefinitions/``).
    """
    source = str(folder) if folder is not None else SHIPPED
    folder = _package_folder(folder or shipped_uk_core_folder())
    meta = manifest(folder)
    name, version = str(meta["name"]), str(meta["version"])
    if any((folder / sub).is_dir() for sub in XML_FOLDERS):
        package = ConformancePackage(name, version, xml=tuple(_xml_resources(folder)), source=source)
    else:
        package = ConformancePackage(name, version, resources=tuple(_json_resources(folder)), source=source)
    if not package.count:
        raise InputError(f"holds no {', '.join(INSTALLED_TYPES)} resources", str(folder))
    return package


def _package_folder(folder: Path) -> Path:
    inner = folder / "package"
    return inner if (inner / "package.json").is_file() else folder


def _json_resources(folder: Path) -> list[Resource]:
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name in ("package.json", ".index.json"):
            continue
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise InputError(f"not a FHIR JSON resource ({exc})", str(path)) from None
        if not isinstance(resource, dict) or not resource.get("id"):
            raise InputError("not a FHIR JSON resource with an id", str(path))
        if resource.get("resourceType") in INSTALLED_TYPES:
            found.append(resource)
    return sorted(found, key=lambda r: (_type_order(r["resourceType"]), r["id"]))


def _xml_resources(folder: Path) -> list[XmlResource]:
    found = []
    for sub in XML_FOLDERS:
        for path in sorted((folder / sub).glob("*.xml")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"cannot read ({exc})", str(path)) from None
            text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
            root, id_ = _XML_ROOT.search(text), _XML_ID.search(text)
            if root is None or id_ is None:
                raise InputError("not a FHIR XML resource with an id", str(path))
            found.append(XmlResource(root.group(1), id_.group(1), text))
    return found
