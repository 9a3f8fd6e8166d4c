"""Lexicon mentions -> Findings, with ConText status and the attributes around each mention."""

from __future__ import annotations

import re
from datetime import date

from indicated.extract import attributes as at
from indicated.extract import dates as dt
from indicated.extract import numbers as nums
from indicated.extract import values
from indicated.extract.asking import asks, weighed
from indicated.extract.nlp import procedure_of, term_of, text_of
from indicated.extract.record import Layout
from indicated.extract.regions import place_care
from indicated.extract.review import Review, earlier_operations, tied_to_earlier_time
from indicated.kb.loader import Knowledge
from indicated.models import Finding, Span

# care named in a plan is planned, unless the plan carries it on or says it failed: "Continue physical therapy"
_GOING_ON = re.compile(r"\b(?:continu\w*|ongoing|resume\w*|failed|tried|completed|despite|after)\b", re.IGNORECASE)
_HEADS = re.compile(r"[ \t]*(?:\([^)\n]{0,20}\)[ \t]*)?:")  # the words head a list: "Medications (home):"
_AGO = re.compile(
    r"\bago\b|\bpost[- ]?op\w*|\b(?:after|since|following)\s+(?:the\s+|his\s+|her\s+)?"
    r"(?:(?:first|index|original|initial|prior|previous|last)\s+)?(?:surgery|operation|procedure)",
    re.IGNORECASE,
)


def span(ent) -> Span:
    return Span(text=ent.text, start=ent.start_char, end=ent.end_char)


def cued(ent, *categories: str) -> bool:
    """Whether a ConText cue outside the mention modifies it.

    A cue inside the matched words is part of what the term says ("CT without fracture, tumor or
    infection" is a term for other causes being excluded), so it must not negate the term itself; nor
    does a negation word that belongs to another finding's own words negate what follows it ("no
    bridging bone across L5-S1, lucency around both screws" states a nonunion and a loosening).
    """
    return any(
        m.category in categories
        and not (ent.start <= m.modifier_span[0] and m.modifier_span[1] <= ent.end)
        and not _inside_assertion(ent.doc, m.modifier_span)
        for m in ent._.modifiers
    )


def mark_assertions(doc) -> None:
    """Note, once per document, the token spans of words whose denial is the finding itself ("no bridging
    bone", "did not fuse"), for :func:`cued`."""
    doc.user_data["asserting"] = [(e.start, e.end) for e in doc.ents if (t := term_of(e)) and t.keeps_denial]


def _inside_assertion(doc, span: tuple[int, int]) -> bool:
    """Whether a cue lies inside words that assert a finding ("no bridging bone" is a pseudarthrosis)."""
    asserting = doc.user_data.get("asserting")
    return any(a <= span[0] and span[1] <= b for a, b in asserting or ())


# a line of family history ("FHx: mother with spinal stenosis", "Family history is notable for a brother
# who had cauda equina syndrome"), whatever ConText's family cues reach
_FAMILY_SECTION = re.compile(
    r"(?:^|(?<=[.!?\n]))[ \t]*\W*(?:FHx|FH|Fam(?:ily)?\.?\s*(?:history|hx))\b[^\n.!?]*", re.IGNORECASE | re.MULTILINE
)


def family_lines(doc) -> list[tuple[int, int]]:
    """Character ranges of the statements that are family history, read once per document (findings
    and requested services both ask) and from the text: walking spaCy's sentences costs more."""
    if "family_lines" not in doc.user_data:
        doc.user_data["family_lines"] = [m.span() for m in _FAMILY_SECTION.finditer(text_of(doc))]
    return doc.user_data["family_lines"]


# "My mom is 70 and she's been dropping cups": a question that opens on a relative is asked for that
# relative, who is the patient; "mom" there names the patient, not family history
_ASKED_FOR = re.compile(
    r"^\W*(?:(?:hi|hello|hey)\b[^.!?\n]{0,20}?[,.!]\s*)?my\s+"
    r"(?P<who>mom|mother|dad|father|son|daughter|grandmother|grandfather|grandma|grandpa|sister|brother|aunt|uncle)\b",
    re.IGNORECASE,
)


def about_family(ent, lines: list[tuple[int, int]]) -> bool:
    if any(lo <= ent.start_char < hi for lo, hi in lines):
        return True
    if not ent._.is_family:
        return False
    asked = ent.doc.user_data.get("asked_for")
    if asked is None:
        m = _ASKED_FOR.match(ent.doc.text)
        asked = ent.doc.user_data["asked_for"] = m.group("who").lower() if m else ""
    cues = [
        ent.doc[m.modifier_span[0] : m.modifier_span[1]].text.lower() for m in ent._.modifiers if m.category == "FAMILY"
    ]
    return not asked or any(asked not in cue for cue in cues)


def status_of(ent, asserted: str) -> str:
    """Absent when negated; "possible" when uncertain or hypothetical (never asserted as a fact)."""
    if asserted == "absent" or cued(ent, "NEGATED_EXISTENCE"):
        return "absent"
    if asserted == "possible":
        return "possible"
    return "possible" if cued(ent, "POSSIBLE_EXISTENCE", "HYPOTHETICAL") else "present"


def findings(
    doc, kb: Knowledge, as_of: date | None = None, lay: Layout | None = None, review: Review | None = None
) -> list[Finding]:
    """One finding per concept mention; procedure mentions in the past become prior surgery.

    ``as_of`` anchors surgery dated only by a year ("L5-S1 microdiscectomy 2019"). The record's layout
    says which parts are past history, family history or allergies, and, in a review of a performed
    procedure, which parts tell what happened during and after it (operative findings).
    """
    text = text_of(doc)
    lay = lay or Layout()
    review = review or Review()
    family = family_lines(doc)
    ents = [
        e for e in doc.ents if not about_family(e, family) and lay.role_at(e.start_char) not in ("family", "allergy")
    ]
    # a duration said just before a symptom is the symptom's, not the care's before it
    symptom_spans = [
        (e.start_char, e.end_char) for e in ents if (t := term_of(e)) and kb.concepts[t.concept].read.time == "lasting"
    ]
    out: list[Finding] = []
    blocks: dict[int, list[Finding]] = {}  # block findings by sentence
    for ent in ents:
        sent = ent.sent
        lo, hi = sent.start_char, sent.end_char
        role = lay.role_at(ent.start_char)
        term = term_of(ent)
        if term is None:
            # in a review, a past mention not tied to an earlier time tells the operation under review again
            again = review.performed and not earlier_operations(kb, [ent], text)
            prior = None if review.reviews(ent) or again else _prior_surgery(ent, kb, text, lo, hi, as_of, role)
            if prior:
                out.append(prior)
            continue
        if not term.as_heading and _HEADS.match(text, ent.end_char):
            continue  # "MEDICATIONS: losartan, metformin" opens a list; the list says what was taken
        if role == "technique" and kb.concepts[term.concept].group == "conservative_care":
            continue  # a drug given during the operation is not conservative care tried before it
        for concept in (term.concept, *term.also):
            f = _finding(concept, term.status, ent, kb, text, lo, hi, symptom_spans, as_of)
            if lay.in_consent(ent.start_char):
                f.hypothetical, f.status = True, "possible"  # a risk talked over, not a finding
            care = kb.concepts[concept].group == "conservative_care"
            if care and ((role == "plan" and not _GOING_ON.search(sent.text)) or weighed(ent, text)):
                f.hypothetical, f.status = True, "possible"  # care planned or weighed is not care tried
            if role == "history" and not kb.concepts[concept].chronic:
                f.historical = True  # "PMH: herniated disc" is the past; "PMH: diabetes" still holds
            elif review.performed and role in ("technique", "operative", "findings"):
                if f.status == "absent" and kb.concepts[concept].group in ("conservative_care", "history"):
                    continue  # "no NSAIDs for three months", "completed without a dural tear": orders and events of the operation
                f.operative = True  # found during or after the operation under review
            if review.performed and f.historical and _only_done_cue(ent, kb):
                f.historical = False  # "who underwent a fusion for stenosis": the indication, not the past
            out.append(f)
            if concept == "si_diagnostic_block" and f.status == "present":
                blocks.setdefault(sent.start, []).append(f)
    _add_up_courses(out, kb, text)
    _join_dated_courses(out, kb, text, as_of)
    _count_blocks(blocks)
    return out


def _count_blocks(by_sentence: dict[int, list[Finding]]) -> None:
    """ "a lidocaine block with 85% relief, and a bupivacaine block with 80%": blocks named one by one in
    a sentence are counted together when no count word says how many."""
    for blocks in by_sentence.values():
        singles = [f for f in blocks if not f.evidence[0].text.rstrip().lower().endswith("s")]
        if len(singles) >= 2 and max((f.count or 0) for f in blocks) < len(singles):
            for f in blocks:
                f.count = len(singles)


# "PT for 4 months, then a chiropractor for another 3 months": a course that follows the ones before it
_ANOTHER = re.compile(r"^[\s,]*(?:for|x|over)\s+(?:another|a\s+further|an\s+additional|a\s+second)\s+", re.IGNORECASE)


def _add_up_courses(out: list[Finding], kb: Knowledge, text: str) -> None:
    """Concurrent treatments are never added up, but a course said to come after the others ("for
    another 3 months") extends the longest one before it."""
    care = sorted(
        (f for f in out if kb.concepts[f.concept].group == "conservative_care" and f.evidence),
        key=lambda f: f.evidence[0].start,
    )
    longest = None  # the longest present course so far, kept as we go: a long note has hundreds of courses
    for f in care:
        end = f.evidence[0].end
        m = _ANOTHER.match(text[end : end + 40])
        durations = dt.durations(text[end + m.end() : end + m.end() + 25]) if m else []
        if durations and durations[0].start == 0 and longest:
            f.weeks = longest + durations[0].weeks
        if f.weeks and f.status == "present":
            longest = max(longest or f.weeks, f.weeks)


# the words after a course that can date it: up to the end of its clause ("PT 12/2024 - 03/2025 (18 visits)
# and again 06/2025 - 07/2025;"); single dates only right after it ("ESIs (April and June)", "ESI 04/10/2025")
_CLAUSE = re.compile(r"[^;\n]*?(?=[;\n]|\.\s|$)")
_POINTS = re.compile(r"[^;\n,.]*")
EPISODE_GAP_DAYS = 92  # care less than three months apart is one stretch of care


def _join_dated_courses(out: list[Finding], kb: Knowledge, text: str, as_of: date | None) -> None:
    """Courses and treatments dated on the calendar that follow one another with less than three months
    between them are one stretch of care, counted as a reviewer counts it: from the first start to the
    last end. "PT 12/2024 - 03/2025 and again 06/2025 - 07/2025" is seven months of care, not the longest
    course (three months) nor their sum (four); "PT from January through March, ESIs in April and June"
    is five. A stretch needs at least one course: injections on two dates alone are not months of care."""
    dated: list[tuple[date, date, bool, Finding]] = []  # (start, end, a course rather than a day, finding)
    for f in out:
        if kb.concepts[f.concept].group != "conservative_care" or f.status != "present" or not f.evidence:
            continue
        end = f.evidence[0].end
        clause = _CLAUSE.match(text, end, min(len(text), end + 120))
        spans = [d for d in dt.durations(clause.group(0) if clause else "", as_of) if d.first and d.last]
        dated += [(d.first, d.last, True, f) for d in spans]  # type: ignore[misc]
        near = _POINTS.match(text, end, min(len(text), end + 30))
        for where, day in dt.dates_in(near.group(0) if near else "", as_of):
            if not any(d.start <= where < d.end for d in spans) and (as_of is None or day <= as_of):
                dated.append((day, day, False, f))  # a date of its own, not one end of a span
    dated.sort(key=lambda item: item[0])
    # care the words place nowhere ("PT") belongs to the stretch of care of either region
    for region in {f.region for *_, f in dated if f.region} or {None}:
        _stretch_care([item for item in dated if item[3].region in (region, None)])


def _stretch_care(dated: list[tuple[date, date, bool, Finding]]) -> None:
    """Give every course in a stretch of care (dated items in order, gaps under three months, at least
    one course) the stretch's length, where that is longer than its own."""
    episode: list[Finding] = []
    start = stop = date.min
    courses = 0
    for first, last, course, f in [*dated, (date.max, date.max, False, None)]:
        if f and episode and (first - stop).days <= EPISODE_GAP_DAYS:
            episode.append(f)
            stop, courses = max(stop, last), courses + course
            continue
        if len(episode) > 1 and courses:
            for member in episode:
                member.weeks = max(member.weeks or 0, round((stop - start).days / 7, 2))
        episode, start, stop, courses = [f], first, last, int(course)


def _finding(concept, asserted, ent, kb, text, lo, hi, symptom_spans, as_of) -> Finding:
    group = kb.concepts[concept].group
    read = kb.concepts[concept].read
    # a value is written near its finding, unless the vocabulary lets it stand later in the sentence
    # (block results told one by one: "the first took away about 80% and the second about 90%")
    after = hi if read.to_sentence_end else min(hi, ent.end_char + 80)
    window = text[max(lo, ent.start_char - 60) : after]
    measure = values.read(read, ent.text, window)
    f = Finding(
        concept=concept,
        status=status_of(ent, asserted),
        historical=bool(ent._.is_historical),
        hypothetical=cued(ent, "HYPOTHETICAL"),
        value=measure.text,
        number=measure.number,
        unit=measure.unit,
        side=at.side(text, ent.start_char, ent.end_char, lo, hi),
        levels=at.segments_near(text, ent.start_char, ent.end_char, lo, hi) if kb.groups[group].levels else [],
        evidence=[span(ent)],
    )
    if group == "conservative_care":
        inside = dt.durations(ent.text)  # "nine months of treatment in total"
        d = (
            (inside[0] if inside else None)
            or at.duration_after(text, ent.end_char, hi)
            or at.duration_before(text, ent.start_char, lo, symptom_spans)
        )
        f.weeks = (
            d.weeks
            if d
            else dt.since_weeks(text[ent.end_char : hi], as_of) or _since_heading(text[lo : ent.start_char], as_of)
        )
        f.count = nums.count_before(text[lo : ent.start_char])
        f.response = at.response(text[lo:hi])
        f.region = place_care(kb, text, ent.start_char, ent.end_char, lo)
    elif read.time == "lasting":
        f.weeks = at.symptom_duration(text, ent.start_char, ent.end_char, lo, hi) or dt.since_weeks(
            text[ent.end_char : hi], as_of
        )
        # "h/o LBP x 3 yrs": a symptom that has lasted so long is long-standing, not past
        f.historical = f.historical and not f.weeks
    elif read.time == "count":
        f.count = at.block_count(text[lo : ent.start_char], text[ent.end_char : hi])
        if f.count is None and ent.text.lower().endswith("s") and f.value and f.value.count("%") >= 2:
            f.count = f.value.count("%")  # "blocks on 04/22 and 05/20, with 85% and 90% relief"
    elif read.time == "months_of_relief":
        d = dt.durations(ent.text) or dt.durations(text[ent.end_char : min(hi, ent.end_char + 30)])
        f.number = round(d[0].weeks * 12 / 52, 1) if d else None
    elif read.time == "months_ago":
        f.historical = True
        f.number = _months_ago(text[lo:hi])
    past = kb.concepts[concept].past
    if f.historical and f.status == "present" and past:
        f.concept, f.historical = past, False  # "1 ppd for 20 years, quit in 2019": former smoking
    recent = kb.concepts[f.concept].recent
    ago = _months_ago(text[lo:hi]) if recent and f.status == "present" else None
    if recent and ago is not None and ago * 52 / 12 < recent.weeks:
        f.concept = recent.concept  # "quit smoking about a month ago": not yet nicotine-free long enough
    return f


def _months_ago(sentence: str) -> float | None:
    """ "14 months ago", "2 years post-op": how long since the surgery, in months."""
    for d in dt.durations(sentence):
        if _AGO.match(sentence[d.end : d.end + 30].strip()) or _AGO.search(sentence[d.end : d.end + 12]):
            return round(d.weeks * 12 / 52, 1)
    return None


# words that put what follows them in the past; a procedure word says more ("after a", "healed")
PAST_CUES = r"s/p|status post|h/o|history of|hx of|prior(?!\s+auth)|previous|previously|underwent"
_PAST = re.compile(
    rf"\b(?:{PAST_CUES}|(?:surgical\s+)?history(?=\s*:)|PSH(?=\s*:)|had an?|"
    r"had (?:an? )?(?:L\d|S1)|healed|solid|(?:above|below|adjacent to) (?:the|his|her|a))\b[^.;]{0,40}$",
    re.IGNORECASE,
)
# "two years after L4-S1 fusion", "18 months following her TLIF": a time since it is the past, asked or not
_SINCE = re.compile(r"\s*(?:after|following|since|post)\s+(?:[\w/-]+\s+){0,4}$", re.IGNORECASE)


def _only_done_cue(ent, kb: Knowledge) -> bool:
    """Whether every past-tense cue on a mention is one that ties the procedure under review to the
    past ("underwent", "s/p"), so that in a review the words describe why it was done."""
    done = kb.record_cues.done
    past = [m for m in ent._.modifiers if m.category == "HISTORICAL"]
    return bool(past) and all(done.fullmatch(ent.doc[m.modifier_span[0] : m.modifier_span[1]].text) for m in past)


def _prior_surgery(
    ent, kb: Knowledge, text: str, lo: int, hi: int, as_of: date | None, role: str | None = None
) -> Finding | None:
    """A procedure named in the past tense ("s/p L4-5 TLIF") or in past history is history, not a request."""
    if cued(ent, "NEGATED_EXISTENCE", "HYPOTHETICAL") or role in ("technique", "operative"):
        return None
    if role != "history" and not is_prior(ent, text, kb):
        return None
    proc = procedure_of(ent)
    if kb.codes[proc.code].region == "other" or proc.region == "other":
        return None  # "right total knee arthroplasty in 2018" is not an earlier spine operation
    return Finding(
        concept=kb.procedures.prior,
        historical=True,
        value=f"{ent.text} ({kb.codes[proc.code].family.replace('_', ' ')})",
        number=_months_ago(text[ent.end_char : hi])
        or _months_ago(text[lo:hi])
        or dt.months_since_date(text[ent.end_char : min(hi, ent.end_char + 40)], as_of)
        or dt.months_since_year(text[ent.start_char : min(hi, ent.end_char + 40)], as_of),
        levels=at.segments_near(text, ent.start_char, ent.end_char, lo, hi),
        side=at.side(text, ent.start_char, ent.end_char, lo, hi),
        evidence=[span(ent)],
    )


def _since_heading(head: str, as_of: date | None) -> float | None:
    """Weeks from a date heading the list the care is in: "Care since 08/2024: 12 PT visits, SI belt, ..."."""
    colon = head.rfind(":")
    return dt.since_weeks(head[:colon], as_of) if colon >= 0 else None


def is_prior(ent, text: str, kb: Knowledge) -> bool:
    """Whether a procedure mention is past history rather than the request."""
    sent = ent.sent
    before = text[sent.start_char : ent.start_char]
    return bool(
        ent._.is_historical
        or _PAST.search(before)
        # "after" and "following" only right before the procedure ("after an L4-5 TLIF", never "after
        # discussion of decompression alone versus fusion"), and not in a request ("two nights are
        # requested for pain control after an instrumented fusion")
        or (kb.procedure_cues.after.search(before) and not asks(sent.text))
        or any(_SINCE.match(before, d.end) for d in dt.durations(before))
        # "L5-S1 microdiscectomy two years ago", not a time said later of another operation in the sentence
        or _months_ago(text[ent.end_char : min(sent.end_char, ent.end_char + 40)])
        or tied_to_earlier_time(before, text[ent.end_char : sent.end_char])
    )
