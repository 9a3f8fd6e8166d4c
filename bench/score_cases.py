"""Score the engine on folders of labelled cases, in-process, per group and per concept.

usage: python bench/score_cases.py [--quiet] [FOLDER ...]
       (default: cases/labelled, cases/real and ../shared/cases/dev)
Prints determination accuracy per group (the file name's first word), fact recall and false
positives per concept, and the misses. A label may be one determination or a list of accepted ones;
`review` and `absent_codes` are checked as in ../shared/tools/check-cases.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from indicated.models import Assessment
from indicated.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]


def accepts(want: str | list[str] | None, have: str | None) -> bool:
    return have in want if isinstance(want, list) else want == have


def checks(exp: dict, a: Assessment) -> list[tuple[str, object, object]]:
    """(what, expected, got) for every determination-level label of a case."""
    got = {s.code: s.determination.value for s in a.services}
    out: list[tuple[str, object, object]] = [("overall", exp["determination"], a.determination.value)]
    out += [(code, want, got.get(code)) for code, want in (exp.get("services") or {}).items()]
    if exp.get("setting"):
        have = a.setting.determination.value if a.setting and a.setting.determination else None
        out.append(("setting", exp["setting"], have))
    if exp.get("review"):
        out.append(("review", exp["review"], a.review))
    out += [(f"code {c} must not be a service", None, c if c in got else None) for c in exp.get("absent_codes") or []]
    return out


def score(folders: list[Path], *, quiet: bool = False) -> None:
    det = Counter()
    tp, fp, fn = Counter(), Counter(), Counter()
    misses: list[str] = []
    started, n = time.perf_counter(), 0
    for folder in folders:
        for f in sorted(folder.glob("*.yaml")):
            case = yaml.safe_load(f.read_text())
            exp, group = case["expected"], folder.name if folder.name == "dev" else f.stem.split("_")[0]
            a = assess(case["text"])
            n += 1
            for what, want, have in checks(exp, a):
                ok = accepts(want, have)
                det[(group, ok)] += 1
                if not ok:
                    misses.append(f"{f.name}: {what}: expected {want}, got {have}")
            facts = exp.get("case") or {}
            present = {x.concept for x in a.case.findings if x.status == "present"}
            for c in facts.get("present", []):
                (tp if c in present else fn)[c] += 1
                if c not in present:
                    misses.append(f"{f.name}: fact {c} not found present")
            for c in facts.get("absent", []):
                if c in present:
                    fp[c] += 1
                    misses.append(f"{f.name}: fact {c} wrongly present")
    elapsed = time.perf_counter() - started
    print("determinations by group:")
    for g in sorted({g for g, _ in det}):
        ok, bad = det[(g, True)], det[(g, False)]
        print(f"  {g:12s} {ok}/{ok + bad}")
    total_ok = sum(v for (g, ok), v in det.items() if ok)
    print(f"  {'all':12s} {total_ok}/{sum(det.values())}")
    if not quiet:
        print("facts per concept (labelled present: recall; labelled absent but found: false positives):")
        for c in sorted(set(tp) | set(fn) | set(fp)):
            print(f"  {c:34s} recall {tp[c]}/{tp[c] + fn[c]}  false-present {fp[c]}")
    all_tp, all_fn, all_fp = sum(tp.values()), sum(fn.values()), sum(fp.values())
    print(f"facts: recall {all_tp / max(1, all_tp + all_fn):.3f}, precision {all_tp / max(1, all_tp + all_fp):.3f}")
    print(f"{n} cases in {elapsed:.1f} s ({1000 * elapsed / max(n, 1):.1f} ms per case, including the first load)")
    print("\n".join(misses))


if __name__ == "__main__":
    quiet = "--quiet" in sys.argv
    args = [Path(a) for a in sys.argv[1:] if a != "--quiet"] or [
        ROOT / "cases" / "labelled",
        ROOT / "cases" / "real",
        ROOT.parent / "shared" / "cases" / "dev",
    ]
    score([a for a in args if a.exists()], quiet=quiet)
