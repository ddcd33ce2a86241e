"""``python -m wb_fhir``: the same as the ``wb-fhir`` command."""

from wb_fhir.cli import main

main(prog_name="wb-fhir")
