"""Extraction measured on annotated notes: findings with polarity, procedures, regions and review.

usage: python bench/extraction.py [--misses] [FOLDER ...]   (default: cases/annotated, cases/annotated-heldout)
The measure is that of `indicated eval` (indicated.scoring); this adds the most frequent errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

from indicated.scoring import score_extraction

ROOT = Path(__file__).resolve().parents[1]


def main(folders: list[Path], show: bool) -> None:
    for folder in folders:
        x = score_extraction(folder)
        print(f"{folder.name}: {x.notes} notes")
        print(
            f"  findings with polarity: precision {x.precision:.3f}, recall {x.recall:.3f} "
            f"({x.right} right, {x.extra} extra, {x.missed} missed)"
        )
        print(
            f"  procedures: recall {x.procedure_recall:.3f} ({x.procedures_found}/{x.procedures}); "
            f"services with a code of another region: {x.other_region}; review right {x.review_right}/{x.notes}"
        )
        if show:
            print("  most frequent errors:")
            for (kind, concept, polarity), n in x.errors.most_common(25):
                print(f"    {kind} {concept} {polarity}: {n}")
            print("\n".join(f"  {m}" for m in x.misses))


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:] if a != "--misses"] or [
        ROOT / "cases" / "annotated",
        ROOT / "cases" / "annotated-heldout",
    ]
    main([a for a in args if a.exists()], "--misses" in sys.argv)
