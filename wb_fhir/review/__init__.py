"""Reviews over time: what changed between maps, the review summary, carrying a map forward.

compare_pair(old, new) -> MapChanges        what changed, connection by connection
compare(maps)                               each map against the next, oldest first
review_html(maps) / review_pdf(maps)        the review summary
review_narrative / review_care_plan / review_document_reference   the review in the record
carry_forward(previous, on) -> CarriedMap   the next map, pre-filled
prefill(client, nhs_number, on)             a first draft from the care record
review_due(wmap, on) -> ReviewDue           whether the next review is due (as a follow-up is)
"""

from wb_fhir.review.carry import CarriedMap, carry_forward
from wb_fhir.review.compare import MapChanges, compare, compare_pair
from wb_fhir.review.due import ReviewDue, review_due
from wb_fhir.review.prefill import Prefilled, prefill
from wb_fhir.review.record import review_care_plan, review_document_reference, review_narrative
from wb_fhir.review.summary import html_to_pdf, review_html, review_pdf

__all__ = [
    "CarriedMap",
    "MapChanges",
    "Prefilled",
    "ReviewDue",
    "carry_forward",
    "compare",
    "compare_pair",
    "html_to_pdf",
    "prefill",
    "review_care_plan",
    "review_document_reference",
    "review_due",
    "review_html",
    "review_narrative",
    "review_pdf",
]
