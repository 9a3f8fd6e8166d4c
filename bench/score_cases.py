"""Score the engine on a folder of labelled cases, in-process, per group and per concept.

usage: python bench/score_cases.py [FOLDER ...]   (default: cases/labelled and ../shared/cases/dev)
Prints determination accuracy per group, fact precision and recall per concept, and the misses.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

import yaml

from indicated.pipeline import assess

ROOT = Path(__file__).resolve().parents[1]


def score(folders: list[Path]) -> None:
    det = Counter()
    tp, fp, fn = Counter(), Counter(), Counter()
    misses: list[str] = []
    started, n = time.perf_counter(), 0
    for folder in folders:
        for f in sorted(folder.glob("*.yaml")):
            case = yaml.safe_load(f.read_text())
            exp, group = case["expected"], folder.name if folder.name != "labelled" else f.stem.split("_")[0]
            a = assess(case["text"])
            n += 1
            got = {s.code: s.determination.value for s in a.services}
            checks = [("overall", exp["determination"], a.determination.value)]
            checks += [(code, want, got.get(code)) for code, want in (exp.get("services") or {}).items()]
            if exp.get("setting"):
                checks.append(
                    (
                        "setting",
                        exp["setting"],
                        a.setting.determination.value if a.setting and a.setting.determination else None,
                    )
                )
            for what, want, have in checks:
                det[(group, want == have)] += 1
                if want != have:
                    misses.append(f"{f.name}: {what}: expected {want}, got {have}")
            facts = exp.get("case") or {}
            present = {x.concept for x in a.case.findings if x.status == "present"}
            for c in facts.get("present", []):
                (tp if c in present else fn)[c] += 1
            for c in facts.get("absent", []):
                if c in present:
                    fp[c] += 1
    elapsed = time.perf_counter() - started
    groups = sorted({g for g, _ in det})
    print("determinations by group:")
    for g in groups:
        ok, bad = det[(g, True)], det[(g, False)]
        print(f"  {g:12s} {ok}/{ok + bad}")
    total_ok = sum(v for (g, ok), v in det.items() if ok)
    print(f"  {'all':12s} {total_ok}/{sum(det.values())}")
    print("facts per concept (labelled present: recall; labelled absent but found: false positives):")
    for c in sorted(set(tp) | set(fn) | set(fp)):
        labelled = tp[c] + fn[c]
        print(f"  {c:34s} recall {tp[c]}/{labelled}  false-present {fp[c]}")
    all_tp, all_fn, all_fp = sum(tp.values()), sum(fn.values()), sum(fp.values())
    print(f"facts: recall {all_tp / max(1, all_tp + all_fn):.3f}, precision {all_tp / max(1, all_tp + all_fp):.3f}")
    print(f"{n} cases in {elapsed:.1f} s ({1000 * elapsed / max(n, 1):.1f} ms per case, including the first load)")
    print("\n".join(misses))


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or [ROOT / "cases" / "labelled", ROOT.parent / "shared" / "cases" / "dev"]
    score([a for a in args if a.exists()])
