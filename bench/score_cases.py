"""Score the engine on folders of labelled cases, per group, with fact recall per concept and the misses.

usage: python bench/score_cases.py [--quiet] [FOLDER ...]
       (default: cases/labelled, cases/real and ../shared/cases/dev)
The checks are those of `indicated eval` (indicated.scoring); this adds the facts each case names.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from indicated.pipeline import assess
from indicated.scoring import score_cases

ROOT = Path(__file__).resolve().parents[1]


def facts(folders: list[Path]) -> tuple[Counter, Counter, Counter, list[str]]:
    tp, fp, fn, misses = Counter(), Counter(), Counter(), []
    for folder in folders:
        for f in sorted(folder.glob("*.yaml")):
            case = yaml.safe_load(f.read_text())
            want = case["expected"].get("case") or {}
            present = {x.concept for x in assess(case["text"]).case.findings if x.status == "present"}
            for c in want.get("present", []):
                (tp if c in present else fn)[c] += 1
                if c not in present:
                    misses.append(f"{f.name}: fact {c} not found present")
            for c in want.get("absent", []):
                if c in present:
                    fp[c] += 1
                    misses.append(f"{f.name}: fact {c} wrongly present")
    return tp, fp, fn, misses


def main(folders: list[Path], quiet: bool) -> None:
    started = time.perf_counter()
    score = score_cases(folders)
    elapsed = time.perf_counter() - started
    print("determinations by group:")
    for g in sorted(score.total):
        print(f"  {g:12s} {score.right[g]}/{score.total[g]}")
    print(f"  {'all':12s} {sum(score.right.values())}/{sum(score.total.values())}")
    print(f"overall determinations right: {score.overall_right}/{score.cases}")
    tp, fp, fn, fact_misses = facts(folders)
    if not quiet:
        print("facts per concept (labelled present: recall; labelled absent but found: false positives):")
        for c in sorted(set(tp) | set(fn) | set(fp)):
            print(f"  {c:34s} recall {tp[c]}/{tp[c] + fn[c]}  false-present {fp[c]}")
    right, missed, wrong = sum(tp.values()), sum(fn.values()), sum(fp.values())
    print(f"facts: recall {right / max(1, right + missed):.3f}, precision {right / max(1, right + wrong):.3f}")
    print(f"{score.cases} cases in {elapsed:.1f} s ({1000 * elapsed / max(score.cases, 1):.1f} ms per case)")
    print("\n".join(score.misses + ([] if quiet else fact_misses)))


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:] if a != "--quiet"] or [
        ROOT / "cases" / "labelled",
        ROOT / "cases" / "real",
        ROOT.parent / "shared" / "cases" / "dev",
    ]
    main([a for a in args if a.exists()], "--quiet" in sys.argv)
