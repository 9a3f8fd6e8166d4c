"""The public surface is small and explicit (httpx style): changing it is a deliberate act."""

import indicated


def test_public_names_are_pinned_and_sorted():
    assert indicated.__all__ == [
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
    assert indicated.__all__ == sorted(indicated.__all__)


def test_errors_share_one_root():
    assert issubclass(indicated.InputError, indicated.IndicatedError)
    assert issubclass(indicated.KnowledgeError, indicated.IndicatedError)


def test_structured_case_is_assessed_without_text():
    case = indicated.Case(services=[indicated.RequestedService(code="63030", levels=["L4-L5"])])
    a = indicated.assess(case)
    assert a.determination == indicated.Determination.INSUFFICIENT_INFORMATION
    assert a.missing_information
