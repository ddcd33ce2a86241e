"""Population report and research export: the study's measures over a caseload, at any scale.

Sources (map files, NDJSON of a Bulk Data export, a FHIR server) become a :class:`Dataset` of
NDJSON files; an engine (DuckDB embedded, or Spark) builds flat tables from it and runs the
measures' SQL; :func:`report_json` applies disclosure control.
"""

from wb_fhir.report.dataset import Dataset, ndjson_dataset, split_sources, stage_map_files
from wb_fhir.report.disclosure import percent, protect, report_json
from wb_fhir.report.engines import measure_population, open_engine
from wb_fhir.report.export import ExportResult, Pseudonyms, research_export
from wb_fhir.report.measures import Change, PopulationMeasures, Share, Spread
from wb_fhir.report.page import report_csv, report_html
from wb_fhir.report.server import ServerRead, read_population
from wb_fhir.report.study import summary_lines

__all__ = [
    "Change",
    "Dataset",
    "ExportResult",
    "PopulationMeasures",
    "Pseudonyms",
    "ServerRead",
    "Share",
    "Spread",
    "measure_population",
    "ndjson_dataset",
    "open_engine",
    "percent",
    "protect",
    "read_population",
    "report_csv",
    "report_html",
    "report_json",
    "research_export",
    "split_sources",
    "stage_map_files",
    "summary_lines",
]
