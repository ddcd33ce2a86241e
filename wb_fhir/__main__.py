"""``python -m wb_fhir``: the same as the ``wb-fhir`` command."""

from wb_fhir.cli import run

run()
