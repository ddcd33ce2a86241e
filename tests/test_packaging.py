"""A fresh clone anywhere: the wheel carries everything, and a clone of HEAD alone in an empty folder,
installed into a fresh environment, works (UK Core included). Commit first: the clone is of HEAD."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from wb_fhir.conformance import conformance_resources

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("wb_fhir-*.whl")
    return found


def test_wheel_carries_data_folders(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "wb_fhir/schema/wellbeing-map.schema.json" in names
    assert "wb_fhir/_data/examples/figure1.yaml" in names
    assert "wb_fhir/_data/examples/review/jordan-2026-11-12.yaml" in names
    for folder in ("profiles", "templates"):
        assert any(n.startswith(f"wb_fhir/_data/{folder}/") for n in names), folder
    uk_core = "wb_fhir/_data/ukcore/package/"
    for name in ("package.json", ".index.json", "LICENSE", "NOTICE", "StructureDefinition-UKCore-Observation.json"):
        assert uk_core + name in names, name
    assert sum(1 for n in names if n.startswith(uk_core) and n.endswith(".json")) == 375 + 2
    assert not any(n.startswith(("tests/", "ukcore/")) for n in names)


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of this repository's HEAD, alone in an empty folder (nothing beside it)."""
    try:
        head = _git("-C", str(ROOT), "rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout: nothing to clone")
    empty = tmp_path_factory.mktemp("empty")
    target = empty / "wb_fhir"
    # By commit: a worktree's own HEAD, not the HEAD of the repository it belongs to.
    _git("clone", "--quiet", "--no-checkout", str(ROOT), str(target))
    _git("-C", str(target), "checkout", "--quiet", head)
    assert sorted(p.name for p in empty.iterdir()) == ["wb_fhir"]
    return target


@pytest.mark.slow
def test_a_fresh_clone_installs_into_a_fresh_environment_and_works(clone: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(clone)], check=True, capture_output=True
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # nothing from this checkout may leak in: the clone alone must be enough
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("WB_FHIR_")
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_dir / "wb-fhir"), *args], cwd=elsewhere, env=clean, capture_output=True, text=True, check=False
        )

    located = subprocess.run(
        [str(bin_dir / "python"), "-c", "from wb_fhir._resources import data_dir; print(data_dir('examples'))"],
        cwd=elsewhere,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert located.startswith(str(env_dir)), "examples must come from the installed package"

    assert cli("--version").returncode == 0
    demo = cli("demo")
    assert demo.returncode == 0, demo.stderr
    assert "example map(s) valid" in demo.stdout
    examples = sorted(str(p) for p in Path(located).rglob("*.yaml"))
    assert cli("validate", *examples).returncode == 0
    (elsewhere / "bad.yaml").write_text("subject: {nhs_number: '1234567890'}\ndate: 2026-01-01\n", encoding="utf-8")
    bad = cli("validate", "bad.yaml")
    assert bad.returncode == 2
    assert "bad.yaml: subject.nhs_number: '1234567890' fails the NHS number check digit" in bad.stderr
    assert "Traceback" not in bad.stderr

    packaged = cli("profiles", "package", "-o", "wb-fhir.tgz")
    assert packaged.returncode == 0, packaged.stderr
    with tarfile.open(elsewhere / "wb-fhir.tgz") as tar:
        handle = tar.extractfile("package/package.json")
        assert handle is not None
        manifest = json.loads(handle.read())
    assert manifest["dependencies"] == {"hl7.fhir.r4.core": "4.0.1", "UKCore.R4.STU.02.00.00": "2.0.0"}
    dry = cli("profiles", "install", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[0] == (
        "would install UKCore.R4.STU.02.00.00 2.0.0 (shipped with wb_fhir): 375 conformance resources "
        "(88 CodeSystem, 134 ValueSet, 153 StructureDefinition)"
    )
    ours = len(conformance_resources())
    assert dry.stdout.splitlines()[1].startswith(f"would install wb-fhir.r4 0.1.0: {ours} conformance resources")


# Spelled in pieces so that this file does not match itself.
DEVELOPMENT_PATHS = re.compile("|".join([r"\.\./" + "shared", "/work" + "/", "WB_FHIR_" + "UKCORE"]))


def test_nothing_reads_or_names_a_development_machine_path() -> None:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    found = []
    for name in listed:
        path = ROOT / name
        if not path.is_file() or path.suffix in (".png", ".pdf", ".tgz"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if DEVELOPMENT_PATHS.search(line):
                found.append(f"{name}:{n}: {line.strip()}")
    assert found == []
