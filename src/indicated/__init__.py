"""indicated: is this procedure medically indicated for this patient, and why?

    >>> from indicated import assess
    >>> assess("Is an L5-S1 microdiscectomy medically necessary for sciatica?").determination.value
    'insufficient_information'

The pipeline runs one way: extract -> route -> evaluate -> explain -> render.
"""

from indicated.errors import IndicatedError, InputError, KnowledgeError
from indicated.models import Assessment, Case, Determination, Finding, RequestedService, Span
from indicated.pipeline import assess

__all__ = [
    "Assessment",
    "Case",
    "Determination",
    "Finding",
    "IndicatedError",
    "InputError",
    "KnowledgeError",
    "RequestedService",
    "Span",
    "assess",
]
