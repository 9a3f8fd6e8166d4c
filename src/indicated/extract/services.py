"""What the request asks for: billing codes, procedure words mapped to codes, and the setting.

Explicit codes win: procedure words only add a code for a family (discectomy, fusion, ...) that
no explicit code already covers, the way a coder reads "L4-5 laminectomy and fusion (22612)".
When the text has request wording ("requested", "plan", "is ... medically necessary"), only
procedures named in those sentences count, so history and differential mentions stay out.
"""

from __future__ import annotations

import re

from indicated.extract import attributes as at
from indicated.extract import levels as lv
from indicated.extract.asking import asks, weighed
from indicated.extract.findings import PAST_CUES, about_family, cued, family_lines, is_prior, span
from indicated.extract.nlp import procedure_of, term_of, text_of
from indicated.extract.numbers import number
from indicated.extract.record import Layout
from indicated.extract.regions import letters_of, place, region_of_segments
from indicated.extract.review import Review, earlier_operations, review_of, tied_to_earlier_time
from indicated.kb.loader import Knowledge
from indicated.models import RequestedService, RequestedSetting, Span

CODE_RE = re.compile(
    r"(?:(?<![\d.\-/])|(?<=\d{5}/))(\d{5})(?!\.\d|\d|%|/(?!\d{5}\b)|\s*(?:mm|cm|mg|ml|ng|units?)\b)"
)  # "63047/63048" is two codes; "10/12345" is not one
CPT_CUE = re.compile(r"\b(?:CPT|HCPCS|code|codes)\b[^.\n]{0,15}$", re.IGNORECASE)
INPATIENT_RE = re.compile(
    # "Admission date: 03/02" heads a discharge summary, and "exam on admission", "labs at admission" date a
    # finding in the course: neither asks for a stay
    r"\b(?:inpatient|in-patient|(?<!\bon\s)(?<!\bat\s)(?<!\bupon\s)admission"
    r"(?!\s+(?:date|exam\w*|labs?|vitals|H&P|MRI|CT|weight|diagnosis|note)\b)|"
    r"admit(?:ted)?(?!\s+(?:date|on\b))|overnight stay|hospital stay|"
    r"hospitalization|\d+[- ]night stay|IP (?:stay|admission|admit|LOS)|(?:days?|nights?) in the hospital|"
    r"(?:kept|keep|keeping|stay|stays|staying|remain|remaining)\s+(?:\w+\s+){0,2}?in\s+the\s+hospital)\b",
    re.IGNORECASE,
)
OUTPATIENT_RE = re.compile(
    r"\b(?:outpatient|out-patient|same[- ]day|ambulatory|day surgery|day case|"
    r"surgery center|surgical center|23[- ]hour)\b",
    re.IGNORECASE,
)
LOS_RE = re.compile(
    r"\b(?P<n>\d+|one|two|three|four|five|six|seven)[- ](?:day|night)s?\b\s+(?:inpatient\s+)?(?:stay|admission|los|hospital)"
    r"|\b(?:inpatient|admission|stay|LOS|length of stay|in\s+the\s+hospital)\b[^.\n]{0,20}?\b(?P<m>\d+|one|two|three|four|five)\s*(?:days?|nights?|d)\b",
    re.IGNORECASE,
)


_ASIDE = {"history", "family", "allergy"}  # roles of sections whose procedures and codes are not requested


def requested_services(doc, kb: Knowledge, lay: Layout) -> tuple[list[RequestedService], Review]:
    """The services requested, or under review when the record reviews a performed procedure."""
    text = text_of(doc)
    asking = _sentence_asks(doc)
    candidates = _candidates(doc, lay, asking)
    review = review_of(doc, kb, lay, candidates, asking)
    out: dict[str, RequestedService] = {}
    any_request = asking(text)
    for m in CODE_RE.finditer(text):
        code = m.group(1)
        if lay.role_at(m.start()) in _ASIDE or code in out:
            continue
        if (
            code in kb.codes
            or CPT_CUE.search(text[max(0, m.start() - 40) : m.start()])
            or _in_code_list(text, m, kb)
            or _surgery_code_in_brackets(text, m)
        ):
            sent = doc.char_span(m.start(), m.end(), alignment_mode="expand")
            lo, hi = (sent.sent.start_char, sent.sent.end_char) if sent is not None else (0, len(text))
            if any_request and not review.performed and _past_code(text[lo:hi], m.start() - lo):
                continue  # "s/p MIS SI joint fusion (27279) in 2023": history; the request is elsewhere
            if tied_to_earlier_time(text[lo : m.start()], text[m.end() : hi]):
                continue  # "he had an L5-S1 microdiscectomy (63030) in 2010": an earlier operation, even in a review
            known = kb.codes.get(code)
            out[code] = RequestedService(
                code=code,
                system=known.system if known else "CPT",
                description=known.description if known else "",
                levels=_code_levels(text, m, lo, hi),
                side=at.side(text, m.start(), m.end(), lo, hi),
                evidence=[Span(text=code, start=m.start(), end=m.end())],
            )
    explicit = {kb.codes[c].family for c in out if c in kb.codes}
    covered = explicit | {f for fam in explicit for f in kb.procedures.family_covers.get(fam, [])}
    if review.performed:
        mentions = review.mentions
    else:
        mentions = [e for e in candidates if not is_prior(e, text, kb)]
        if any(asking(e.sent.text) for e in mentions):
            mentions = _asked(kb, mentions, asking)
        # "Options discussed: fusion or disc replacement. We will request the disc replacement": what is asked
        # for outright wins over what is weighed or conditional. An add-on said outright ("would an ACDF be
        # necessary, with plate") chooses nothing: it goes with whichever primary is asked for.
        outright = [e for e in mentions if not cued(e, "HYPOTHETICAL") and not weighed(e, text)]
        if any(not kb.codes[procedure_of(e).code].add_on for e in outright):
            mentions = outright
    said: dict[tuple[int, str], list[str]] = {}
    priors = [e for e in candidates if e not in mentions and is_prior(e, text, kb)]
    if review.performed:
        # in a review, a past mention is the operation under review told again unless tied to an earlier time
        priors = earlier_operations(kb, priors, text)
    words = _from_words(doc, kb, covered, mentions, said, priors)
    if not out and not words and not review.performed:
        words = _repeated(doc, kb, priors) or _implied(doc, kb, candidates)
    for svc in out.values():
        known = kb.codes.get(svc.code)
        sent = doc.char_span(svc.evidence[0].start, svc.evidence[0].end, alignment_mode="expand")
        if known and not known.add_on and sent is not None and (sent.sent.start_char, known.family) in said:
            svc.levels = said[(sent.sent.start_char, known.family)]
    primaries = kb.add_on_primaries
    for code, svc in words.items():
        # an add-on named only in words ("removal of segmental instrumentation") with none of its
        # primaries requested is not a request for that add-on
        if code in primaries and not primaries[code] & (out.keys() | words.keys()):
            continue
        out.setdefault(code, svc)
    return list(out.values()), review


def _asked(kb: Knowledge, mentions: list, asking) -> list:
    """The mentions in sentences that ask; a bare word asked about ("Is the fusion medically necessary?")
    stands for the specific operation of its family named before it ("a 2 level fusion from the front
    (ALIF L4-S1)"), which is what is asked for."""

    def family(e) -> str:
        return kb.codes[procedure_of(e).code].family

    asked = [e for e in mentions if asking(e.sent.text)]
    bare = [e for e in asked if procedure_of(e).generic]
    named = [
        e for e in mentions if e not in asked and not procedure_of(e).generic and family(e) in set(map(family, bare))
    ]
    if not named:
        return asked
    meant = set(map(family, named))
    return sorted([e for e in asked if not (e in bare and family(e) in meant)] + named, key=lambda e: e.start_char)


def _sentence_asks(doc):
    """``asks`` read once per sentence text (a document asks many times about the same sentence)."""
    seen: dict[str, bool] = {}

    def asking(sentence: str) -> bool:
        if sentence not in seen:
            seen[sentence] = asks(sentence)
        return seen[sentence]

    return asking


# a question of necessity, hypothetical by its nature: "would an L4-5 fusion be necessary?"
_QUESTION = re.compile(r"\?|\b(?:medically\s+)?(?:necessary|indicated|necessity|justified|warranted)\b", re.IGNORECASE)


def _candidates(doc, lay: Layout, asking) -> list:
    """Procedure mentions that may be requested or reviewed: not negated, not family history, not in a
    past-history or operative-technique section, not in risk talk, and not hypothetical outside a
    question of necessity ("if pain persists, microdiscectomy would be reasonable" asks for nothing)."""
    family = family_lines(doc)
    return [
        e
        for e in doc.ents
        if procedure_of(e)
        and lay.role_at(e.start_char) not in (*_ASIDE, "technique", "operative")
        and not lay.in_consent(e.start_char)
        and not about_family(e, family)
        and not cued(e, "NEGATED_EXISTENCE")
        and not (cued(e, "HYPOTHETICAL") and not _QUESTION.search(e.sent.text))
    ]


# a code stands further from its past cue than a procedure word does ("s/p left MIS SI joint fusion (27279)")
_PAST_CODE = re.compile(rf"\b(?:{PAST_CUES})\b[^.;]{{0,80}}$", re.IGNORECASE)


_LEVEL_RIGHT_AFTER = re.compile(r"[ \t:,-]{0,3}(?:at\s+)?(?=[LTSC]\d)")


def _code_levels(text: str, m: re.Match[str], lo: int, hi: int) -> list[str]:
    """The levels a code is written with: right after it ("63030 L5-S1 and 22612 L4-5"), else the
    levels near it, never running on past the next code or the end of its line (a code table gives each
    code its line: "22630  Posterior lumbar interbody arthrodesis (TLIF), L4-L5")."""
    after = _LEVEL_RIGHT_AFTER.match(text, m.end())
    if after:
        first = lv.levels(text[after.end() : after.end() + 12])
        if first and first[0].start == 0 and first[0].segments:
            return list(first[0].segments)
    following = CODE_RE.search(text, m.end(), hi)
    newline = text.find("\n", m.end(), hi)
    stop = min(p for p in (following.start() if following else hi, newline if newline >= 0 else hi, hi))
    return at.segments_near(text, m.start(), m.end(), lo, hi, limit=stop)


def _past_code(sentence: str, at: int) -> bool:
    """A code in a sentence that asks for nothing, written after a past-tense cue ("s/p", "prior")."""
    return not asks(sentence) and bool(_PAST_CODE.search(sentence[:at]))


def _in_code_list(text: str, m: re.Match[str], kb: Knowledge) -> bool:
    """A five-digit number inside a parenthesised list that holds a known code is a code too."""
    open_ = text.rfind("(", 0, m.start())
    close = text.find(")", m.end())
    if open_ < 0 or close < 0 or ")" in text[open_ : m.start()] or close - open_ > 80:
        return False
    return any(c in kb.codes for c in CODE_RE.findall(text[open_:close]))


def _surgery_code_in_brackets(text: str, m: re.Match[str]) -> bool:
    """ "meniscectomy (29881)": a number of the CPT surgery range (10004-69990) alone in brackets, the
    way a request names the code of each procedure, is a code even when we hold no policy for it."""
    return (
        10004 <= int(m.group(1)) <= 69990
        and text[m.start() - 1 : m.start()] == "("
        and text[m.end() : m.end() + 1] == ")"
    )


def _from_words(
    doc,
    kb: Knowledge,
    covered: set[str],
    mentions: list,
    said: dict[tuple[int, str], list[str]],
    priors: list,
) -> dict[str, RequestedService]:
    """Codes for procedure words. ``said`` collects the levels each family's words name in each
    sentence, so an explicit code can take the levels its words were written with ("L3-4 laminectomy
    and extension of the L4-5 fusion (63047, 22612)")."""
    text = text_of(doc)
    specific = {(e.sent.start, kb.codes[procedure_of(e).code].family) for e in mentions if not procedure_of(e).generic}
    record_region = _record_region(kb, text) if mentions else None
    out: dict[str, RequestedService] = {}
    for ent in mentions:
        term = procedure_of(ent)
        if term.generic and (ent.sent.start, kb.codes[term.code].family) in specific:
            continue
        lo, hi = ent.sent.start_char, ent.sent.end_char
        levels = at.segments_near(
            text, ent.start_char, ent.end_char, lo, hi, stop=_next_proc(ent, mentions), compact=True
        )
        vertebrae = [] if levels else at.vertebrae_near(text, ent.start_char, ent.end_char)
        region = (
            place(kb, text, ent.start_char, ent.end_char, lo, levels or vertebrae)
            or record_region
            or (_named_region(kb, term, mentions) if term.generic else None)
            or term.region
            or kb.procedures.default_region
        )
        code = (
            term.code
            if (term.region or kb.procedures.default_region) in (region, "any")
            else term.by_region.get(region)
        )
        near = term.by_region_near.get(region)
        if near is not None and re.search(near.words, ent.sent.text, re.IGNORECASE):
            code = near.code
        if vertebrae and code and kb.codes[code].per_level:
            # "laminectomy of L2, L3 and L4": a lamina is billed as the segment below it
            levels = [seg for v in vertebrae for seg in lv.segments_between(v, lv.next_vertebra(v))]
        revision = code == term.code and term.revision and _repeats(kb, text, ent, levels, priors)
        if revision:
            code = term.revision
        deformity = _deformity(kb, code, ent, levels) if code else None
        if deformity:
            code = deformity
        if code is not None and levels:
            said.setdefault((lo, kb.codes[code].family), levels)
        # "TLIF" said of the neck names nothing a coder could bill; an explicit code of the family stands
        if code is None or code in out or kb.codes[code].family in covered:
            continue
        side = at.side(text, ent.start_char, ent.end_char, lo, hi)
        count = at.level_count(text, ent.start_char, ent.end_char, lo, hi)
        # the primary code names every level treated; the add-on code bills the extra ones
        out[code] = _service(kb, code, levels, side, ent)
        out[code].level_count = count if count and count > len(levels) else None
        extra = kb.codes[code].per_level
        if not deformity and extra and max(len(levels), count or 0) > 1:
            out[extra] = _service(kb, extra, levels[1:], side, ent)
    return out


def _repeated(doc, kb: Knowledge, priors: list) -> dict[str, RequestedService]:
    """The revision a plan to repeat an earlier operation by reference asks for ("my surgeon wants to go
    back in and redo it"): the latest earlier operation of a revised family named before the plan, at its
    levels and side; nothing when no such sentence or operation is found."""
    rules = kb.procedures
    if not rules.repeat_references or not rules.repeat_plans:
        return {}
    text = text_of(doc)
    for sent in doc.sents:
        said = sent.text
        if not (
            re.search(rules.repeat_references, said, re.IGNORECASE)
            and re.search(rules.repeat_plans, said, re.IGNORECASE)
        ):
            continue
        earlier = [
            p
            for p in priors
            if p.start_char < sent.end_char
            and procedure_of(p).revision
            and kb.codes[procedure_of(p).code].family in rules.revised_families
        ]
        if earlier:
            p = earlier[-1]
            lo, hi = p.sent.start_char, p.sent.end_char
            levels = at.segments_near(text, p.start_char, p.end_char, lo, hi, compact=True)
            code = procedure_of(p).revision
            return {code: _service(kb, code, levels, at.side(text, p.start_char, p.end_char, lo, hi), p)}
    return {}


def _implied(doc, kb: Knowledge, candidates: list) -> dict[str, RequestedService]:
    """The operation "is surgery indicated?" asks about when the record names none: that of the first
    implied rule whose finding the record states (not denied, doubted or past) at levels of its region."""
    rule = kb.procedures.implied
    text = text_of(doc)
    if not rule or candidates or not re.search(rule.asks, text, re.IGNORECASE):
        return {}
    stated = [
        e for e in doc.ents if not (e._.is_negated or e._.is_hypothetical or e._.is_historical or e._.is_uncertain)
    ]
    record_region = _record_region(kb, text) or _named_region_in(kb, text)  # for a finding that names no level
    for r in rule.rules:
        for e in stated:
            if e.label_ not in r.concepts:
                continue
            lo, hi = e.sent.start_char, e.sent.end_char
            levels = at.segments_near(text, e.start_char, e.end_char, lo, hi, compact=True)
            if (region_of_segments(kb, levels) if levels else record_region) == r.region:
                svc = _service(kb, r.code, levels, at.side(text, e.start_char, e.end_char, lo, hi), e)
                return {r.code: svc.model_copy(update={"implied": True})}
    return {}


def _named_region_in(kb: Knowledge, text: str) -> str | None:
    """The one region the record names in words ("lumbar x-rays", "cervical MRI"), if only one."""
    named = {rid for rid, rx in kb.region_words.items() if rx.search(text)}
    return named.pop() if len(named) == 1 else None


def _named_region(kb: Knowledge, term, mentions: list) -> str | None:
    """Where a bare word ("the minimally invasive fusion") is done when nothing beside it says: the region
    of the specific operation named in the request that the word can stand for ("SI joint fusion")."""
    codes = {term.code, *term.by_region.values()}
    for e in mentions:
        named = procedure_of(e)
        if not named.generic and named.code in codes and kb.codes[named.code].region:
            return kb.codes[named.code].region
    return None


def _deformity(kb: Knowledge, code: str, ent, levels: list[str]) -> str | None:
    """The deformity fusion code for a fusion word whose sentence names a curve or tilt, by the vertebral
    segments its levels span (a fusion of 4 motion segments spans 5 vertebrae)."""
    rule = kb.procedures.deformity
    if not rule or kb.codes[code].family not in rule.families:
        return None
    span = len(levels) + 1 if levels else 0
    # a long construct may name its curve anywhere in the record: "His scoliosis measures 44 degrees. [...]
    # The surgeon wants to fuse his spine from T10 to the pelvis"
    long = rule.anywhere_from is not None and span >= rule.anywhere_from
    said = text_of(ent.doc) if long else ent.sent.text
    if not re.search(rule.words, said, re.IGNORECASE):
        return None
    return next(c.code for c in rule.codes if c.up_to is None or span <= c.up_to)


def _repeats(kb: Knowledge, text: str, ent, levels: list[str], priors: list) -> bool:
    """Whether a procedure word names a repeat operation at an operated level: a revision word right
    before it ("redo left L4-5 microdiscectomy"), a recurrent herniation in its sentence, or an earlier
    discectomy or decompression at one of its levels. A term whose revision is only for some findings
    (``revision_for``) needs one of them named in the sentence."""
    term = procedure_of(ent)
    named = {t.concept for e in ent.sent.ents if (t := term_of(e))}
    if term.revision_for:
        return bool(named & set(term.revision_for))
    before = text[max(ent.sent.start_char, ent.start_char - 60) : ent.start_char]
    if kb.procedure_cues.revision.search(before) or named & set(kb.procedures.revision_findings):
        return True
    for p in priors:
        if kb.codes[procedure_of(p).code].family not in kb.procedures.revised_families:
            continue
        said = at.segments_near(text, p.start_char, p.end_char, p.sent.start_char, p.sent.end_char)
        if levels and set(said) & set(levels):
            return True
    return False


def _record_region(kb: Knowledge, text: str) -> str | None:
    """The record's region when every level it names lies in one region other than the lumbar default
    (an ACDF note names only C-levels): the words that carry no level or region word of their own are
    placed there."""
    segments = [s for m in lv.levels(text) for s in m.segments]
    region = region_of_segments(kb, segments)
    if region is None or region == kb.procedures.default_region:
        return None
    own = {ltr for ltr, rid in kb.region_of_letter.items() if rid == region}
    return region if letters_of(segments) <= own else None


def _next_proc(ent, mentions) -> int | None:
    later = [e.start_char for e in mentions if e.sent == ent.sent and e.start_char > ent.end_char]
    return min(later) if later else None


def _service(kb: Knowledge, code: str, levels: list[str], side: str | None, ent) -> RequestedService:
    return RequestedService(
        code=code,
        description=kb.codes[code].description,
        levels=levels,
        side=side,  # type: ignore[arg-type]
        evidence=[span(ent)],
    )


def requested_setting(doc, lay: Layout | None = None) -> RequestedSetting | None:
    """Inpatient or outpatient, as asked, with the length of stay when one is given. The course of an
    operation already done ("admitted after an uncomplicated decompression") asks for no setting."""
    for sent in doc.sents:
        if lay is not None and lay.role_at(sent.start_char) in ("technique", "operative"):
            continue
        s = sent.text
        inp, outp = INPATIENT_RE.search(s), OUTPATIENT_RE.search(s)
        m = inp or outp
        if not m or re.search(r"\bno\s+(?:inpatient|admission)", s, re.IGNORECASE):
            continue
        if inp and outp:
            m = min(inp, outp, key=lambda x: x.start())
        kind = "inpatient" if m is inp else "outpatient"
        los = LOS_RE.search(s)
        days = None
        if los:
            days = number(los.group("n") or los.group("m"))
            if kind == "outpatient" and days:
                kind = "inpatient"
        start = sent.start_char + m.start()
        return RequestedSetting(
            requested=kind,
            length_of_stay_days=days,
            evidence=[Span(text=m.group(0), start=start, end=start + len(m.group(0)))],
        )
    return None
