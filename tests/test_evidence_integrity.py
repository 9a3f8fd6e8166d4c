"""Evidence integrity (issue 16): every reference in the bundled library names its issuer and its year,
neither issuer nor title hedges ("journal not confirmed", "n.d."), and no link points at a host that is
closed or only re-hosts other people's documents. Each check is shown to catch a doctored record."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from conftest import edit_yaml
from indicated.kb.loader import Knowledge, load
from indicated.kb.schema import Source

# Words that mark an issuer or title as a guess rather than something read in the document itself.
HEDGES = re.compile(
    r"not confirmed|unconfirmed|not verified|unverified|unknown|unidentified|not shown|not named|not stated"
    r"|inferred|\(secondary\)|(?<![a-z])n\.\s?d(?:\.|\b)",
    re.IGNORECASE,
)

# Hosts a reference may not link to: closed sites, and sites that re-host or summarise other people's
# documents (document-sharing, retail and AI-summary sites). A reference links to its issuer or publisher.
BAD_HOSTS = {
    "guideline.gov": "AHRQ National Guideline Clearinghouse, closed in July 2018",
    "ngc.gov": "National Guideline Clearinghouse, closed in 2018",
    "qualitymeasures.ahrq.gov": "AHRQ National Quality Measures Clearinghouse, closed in 2018",
    "scribd.com": "document-sharing site",
    "coursehero.com": "document-sharing site",
    "studocu.com": "document-sharing site",
    "studylib.net": "document-sharing site",
    "docslib.org": "document-sharing site",
    "dokumen.tips": "document-sharing site",
    "pdfslide.net": "document-sharing site",
    "pdfslide.us": "document-sharing site",
    "cupdf.com": "document-sharing site",
    "vdocuments.net": "document-sharing site",
    "vdocuments.mx": "document-sharing site",
    "vdocuments.site": "document-sharing site",
    "vdocuments.us": "document-sharing site",
    "fdocuments.us": "document-sharing site",
    "fdocuments.in": "document-sharing site",
    "fdocuments.net": "document-sharing site",
    "documentine.com": "document-sharing site",
    "healthdocbox.com": "document-sharing site",
    "docplayer.net": "document-sharing site",
    "readkong.com": "document-sharing site",
    "jesse.tg": "mirror of the closed Guideline Clearinghouse",
    "verity.backworkai.com": "AI summaries of payer policies",
    "d3rx.com": "AI summaries of payer policies",
    "droracle.ai": "AI-generated answers",
    "genhealth.ai": "re-hosted payer policies",
    "openpayer.com": "re-hosted payer policy histories",
    "paperexplained.cn": "AI summaries of papers",
    "pubcompare.ai": "AI summaries of papers",
}


def problems(src: Source) -> list[str]:
    """What keeps a reference from being cited as issuer, title and year read in the document itself."""
    found = []
    if not src.issuer.strip():
        found.append("no issuer")
    if src.year is None:
        found.append("no year")
    for name in ("issuer", "title"):
        if hedge := HEDGES.search(getattr(src, name)):
            found.append(f"{name} hedges ({hedge.group(0)!r})")
    if url := src.identifiers.get("url"):
        host = (urlparse(url).hostname or "").lower()
        for bad, why in BAD_HOSTS.items():
            if host == bad or host.endswith("." + bad):
                found.append(f"links to {host} ({why})")
    return found


def library_problems(kb: Knowledge) -> dict[str, list[str]]:
    """Every record's problems, by record id."""
    return {src.id: found for src in kb.sources.values() if (found := problems(src))}


def test_every_reference_has_issuer_year_and_no_hedge_or_dead_link(kb):
    assert library_problems(kb) == {}


def test_payer_documents_name_the_revision_they_were_read_in(kb):
    """Aetna CPB 0743 carried its 2007 origin date for rules it gained much later; a payer or coverage
    document is dated by the revision read, so its year is not before the revision its record describes."""
    assert kb.sources["aetna-cpb-0743"].year >= 2026
    assert kb.sources["aetna-cpb-0743-cervical"].year >= 2026


def test_statements_sit_under_the_plan_whose_policy_they_come_from(kb):
    mp464 = kb.sources["bcbsal-mp-464-progressive-scoliosis"]
    assert all("arkansas" not in st.text.lower() for st in mp464.statements)
    arkansas = kb.sources["arkansas-bcbs-2010037-progressive-scoliosis"]
    assert arkansas.issuer == "Arkansas Blue Cross and Blue Shield"
    assert any("45 degrees" in st.text for st in arkansas.statements)


GOOD = Source(
    id="good-record",
    kind="study",
    title="A randomized trial of something",
    issuer="Author A et al., Spine J",
    year=2020,
    identifiers={"doi": "10.1000/example", "url": "https://pubmed.ncbi.nlm.nih.gov/12345678/"},
)


def test_a_sound_record_passes():
    assert problems(GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"year": None}, "no year"),
        ({"issuer": ""}, "no issuer"),
        ({"issuer": "Michigan investigators, journal not confirmed"}, "issuer hedges"),
        ({"issuer": "Blue Cross Blue Shield (plan name not shown)"}, "issuer hedges"),
        ({"issuer": "Unidentified health plan"}, "issuer hedges"),
        ({"issuer": "WPS, Medicare A/B MAC (secondary)"}, "issuer hedges"),
        ({"title": "Lumbar fusion policy, n.d."}, "title hedges"),
        ({"title": "Some guideline (unconfirmed title)"}, "title hedges"),
        ({"identifiers": {"url": "http://www.guideline.gov/content.aspx?id=46414"}}, "links to www.guideline.gov"),
        ({"identifiers": {"url": "https://www.scribd.com/doc/273612057/x"}}, "links to www.scribd.com"),
        ({"identifiers": {"url": "https://ar.scribd.com/document/1/x"}}, "links to ar.scribd.com"),
        ({"identifiers": {"url": "https://docslib.org/doc/4519103/x"}}, "links to docslib.org"),
        ({"identifiers": {"url": "https://verity.backworkai.com/policy/AETNA-CPB-0743"}}, "links to verity"),
    ],
)
def test_each_check_catches_a_doctored_record(change, expected):
    bad = GOOD.model_copy(update=change)
    assert any(p.startswith(expected) for p in problems(bad)), problems(bad)


def test_the_library_check_fails_on_a_doctored_library(copy):
    """The same check over a knowledge folder whose evidence file was broken on purpose."""

    def doctor(data):
        refs = {r["id"]: r for r in data["references"]}
        refs["sport-ldh-rct-2006"]["year"] = None
        refs["ghogawala-slip-nejm-2016"]["issuer"] = "NEJM (authors unknown)"
        refs["nass-dlss-2011"].setdefault("identifiers", {})["url"] = "http://www.guideline.gov/content.aspx?id=34839"

    edit_yaml(copy / "evidence", "spine.yaml", doctor)
    found = library_problems(load(copy))
    assert found["sport-ldh-rct-2006"] == ["no year"]
    assert found["ghogawala-slip-nejm-2016"] == ["issuer hedges ('unknown')"]
    assert found["nass-dlss-2011"] == [
        "links to www.guideline.gov (AHRQ National Guideline Clearinghouse, closed in July 2018)"
    ]
    assert set(found) == {"sport-ldh-rct-2006", "ghogawala-slip-nejm-2016", "nass-dlss-2011"}
