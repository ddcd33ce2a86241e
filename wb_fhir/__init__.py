"""wb_fhir: wellbeing network mapping in FHIR R4."""

__version__ = "0.1.0"
