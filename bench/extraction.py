"""Extraction measured on annotated notes: findings with polarity, procedures and their regions.

usage: python bench/extraction.py [--misses] [FOLDER]   (default: cases/annotated)

Each note lists every vocabulary concept it asserts (`present`) or states absent (`absent`), the
procedures requested or performed (primary codes and regions) and whether it reviews a performed
procedure. A finding counts as the engine's `present` when stated and not hypothetical, `absent` when
negated; pairs are (concept, polarity) per note. Concepts the annotators were not given are left out.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import yaml

from indicated.kb.loader import bundled
from indicated.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]
NOT_ANNOTATED = {"imaging_study"}  # added to the vocabulary after the notes were annotated


def engine_pairs(a) -> set[tuple[str, str]]:
    out = set()
    for f in a.case.findings:
        if f.concept in NOT_ANNOTATED:
            continue
        if f.status == "present" and not f.hypothetical:
            out.add((f.concept, "present"))
        elif f.status == "absent":
            out.add((f.concept, "absent"))
    return out


def main(folder: Path, show: bool) -> None:
    kb = bundled()
    tp = fp = fn = 0
    per = Counter()
    proc_hit = proc_n = region_bad = review_ok = n = 0
    lines = []
    for f in sorted(folder.glob("*.yaml")):
        note = yaml.safe_load(f.read_text())
        ann = note["annotations"]
        a = assess(note["text"])
        n += 1
        gold = {(c, "present") for c in ann.get("present", [])} | {(c, "absent") for c in ann.get("absent", [])}
        got = engine_pairs(a)
        tp += len(gold & got)
        fp += len(got - gold)
        fn += len(gold - got)
        for c, pol in got - gold:
            per[("fp", c, pol)] += 1
            lines.append(f"{f.name}: extra {c} {pol}")
        for c, pol in gold - got:
            per[("fn", c, pol)] += 1
            lines.append(f"{f.name}: missed {c} {pol}")
        codes = {s.code for s in a.services}
        regions = {p.get("region") for p in ann.get("procedures", [])} | {None}
        for p in ann.get("procedures", []):
            if p.get("code"):
                proc_n += 1
                proc_hit += p["code"] in codes
                if p["code"] not in codes:
                    lines.append(f"{f.name}: procedure {p['code']} not found (got {sorted(codes)})")
        for s in a.services:
            region = kb.codes[s.code].region if s.code in kb.codes else None
            if region not in regions:
                region_bad += 1
                lines.append(f"{f.name}: {s.code} is a {region} code in a note about {sorted(r for r in regions if r)}")
        ok = a.review == ann.get("review", "prospective")
        review_ok += ok
        if not ok:
            lines.append(f"{f.name}: review {a.review}, annotated {ann.get('review')}")
    print(f"{n} notes")
    print(
        f"findings with polarity: precision {tp / max(1, tp + fp):.3f}, recall {tp / max(1, tp + fn):.3f} "
        f"({tp} right, {fp} extra, {fn} missed)"
    )
    print(
        f"procedures: recall {proc_hit / max(1, proc_n):.3f} ({proc_hit}/{proc_n}); "
        f"services with a code of another region: {region_bad}; review right {review_ok}/{n}"
    )
    if show:
        print("most frequent errors:")
        for (kind, c, pol), k in per.most_common(25):
            print(f"  {kind} {c} {pol}: {k}")
        print("\n".join(lines))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--misses"]
    main(Path(args[0]) if args else ROOT / "cases" / "annotated", "--misses" in sys.argv)
