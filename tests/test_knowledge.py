"""Knowledge is validated at load time; errors name the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import edit_yaml
from indicated.errors import KnowledgeError
from indicated.kb.loader import load
from indicated.kb.schema import FindingCheck


def edit_policy(root: Path, name: str, change) -> None:
    edit_yaml(root, f"policies/{name}", change)


def test_bundled_knowledge_loads_and_cross_references(kb):
    assert "lumbar-discectomy" in kb.policies
    assert "63030" in kb.codes
    for policy in kb.policies.values():
        for node in policy.criteria.walk():
            assert all(ref in kb.sources for ref in node.cite)


def test_every_criterion_cites_a_source_with_issuer_title_and_year_or_says_none(kb):
    for policy in kb.policies.values():
        for node in policy.criteria.walk():
            assert node.cite, f"{policy.id}:{node.id} cites nothing"
            for ref in node.cite:
                src = kb.sources[ref]
                assert src.issuer and src.title


def test_unknown_key_is_rejected_with_file_and_path(copy):
    edit_policy(copy, "lumbar-discectomy.yaml", lambda d: d["criteria"].update(colour="red"))
    with pytest.raises(KnowledgeError, match=r"policies/lumbar-discectomy.yaml: criteria.colour"):
        load(copy)


def test_node_with_two_kinds_is_rejected(copy):
    def two(d):
        d["criteria"]["any"] = d["criteria"]["all"]

    edit_policy(copy, "lumbar-discectomy.yaml", two)
    with pytest.raises(KnowledgeError, match=r"exactly one of all/any/at_least/not/check"):
        load(copy)


def test_unknown_predicate_type_is_rejected(copy):
    def bad(d):
        d["criteria"]["all"][0]["check"]["type"] = "eval"

    edit_policy(copy, "lumbar-discectomy.yaml", bad)
    with pytest.raises(KnowledgeError, match=r"criteria.all.0.check"):
        load(copy)


def test_predicate_must_declare_open_or_closed_world(copy):
    def bad(d):
        del d["criteria"]["all"][0]["check"]["world"]

    edit_policy(copy, "lumbar-discectomy.yaml", bad)
    with pytest.raises(KnowledgeError, match="world"):
        load(copy)


def test_unknown_concept_is_rejected(copy):
    def bad(d):
        d["criteria"]["all"][0]["check"]["concepts"] = ["leg_ache"]

    edit_policy(copy, "lumbar-discectomy.yaml", bad)
    with pytest.raises(KnowledgeError, match="unknown concept 'leg_ache'"):
        load(copy)


def test_unknown_citation_is_rejected(copy):
    edit_policy(copy, "lumbar-discectomy.yaml", lambda d: d["criteria"].update(cite=["made-up-2099"]))
    with pytest.raises(KnowledgeError, match="unknown reference 'made-up-2099'"):
        load(copy)


def test_add_on_must_serve_a_service_of_the_same_policy(copy):
    edit_policy(
        copy, "lumbar-discectomy.yaml", lambda d: d["services"].append({"code": "22840", "add_on_to": ["22612"]})
    )
    with pytest.raises(KnowledgeError, match="add_on_to"):
        load(copy)


def test_invalid_yaml_names_the_file(copy):
    (copy / "lexicon.yaml").write_text("terms: [unclosed")
    with pytest.raises(KnowledgeError, match=r"lexicon\.yaml: not valid YAML"):
        load(copy)


def test_a_key_given_twice_is_rejected_not_silently_dropped(copy):
    path = copy / "lexicon.yaml"
    text = path.read_text()
    term = "  - concept: functional_limitation\n"
    assert term in text
    path.write_text(text.replace(term, term + "    regex: ['\\bfirst\\b']\n", 1))
    with pytest.raises(KnowledgeError, match=r"lexicon\.yaml: not valid YAML: .*'regex' is given twice"):
        load(copy)


def test_duplicate_criterion_ids_are_rejected(copy):
    def dup(d):
        d["criteria"]["all"][1]["id"] = d["criteria"]["all"][0]["id"]

    edit_policy(copy, "lumbar-discectomy.yaml", dup)
    with pytest.raises(KnowledgeError, match="duplicate criterion id"):
        load(copy)


def test_closed_world_red_flags_and_open_world_documentation(kb):
    policy = kb.policies["lumbar-discectomy"]
    worlds = {n.id: n.check.world for n in policy.criteria.walk() if isinstance(n.check, FindingCheck)}
    assert worlds["cauda-equina"] == "closed"
    assert worlds["herniation-on-imaging"] == "open"


def test_uncited_criterion_is_rejected(copy):
    edit_policy(copy, "lumbar-discectomy.yaml", lambda d: d["criteria"]["all"][0].update(cite=[]))
    with pytest.raises(KnowledgeError, match=r"radicular-symptoms\.cite: every criterion cites"):
        load(copy)


def test_policy_in_an_undeclared_set_is_rejected(copy):
    edit_policy(copy, "lumbar-discectomy.yaml", lambda d: d.update(set="aetna"))
    with pytest.raises(KnowledgeError, match="unknown policy set 'aetna'"):
        load(copy)


def test_policy_set_fallback_loop_is_rejected(copy):
    path = copy / "policy-sets.yaml"
    data = yaml.safe_load(path.read_text())
    data["sets"][0]["falls_back_to"] = "medicare"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(KnowledgeError, match="fallback loop"):
        load(copy)


def test_a_fallback_set_prefers_its_own_policy_and_borrows_the_rest(kb):
    medicare = [p.id for p in kb.policies_in("medicare")]
    assert medicare.index("medicare-lumbar-fusion") < medicare.index("lumbar-fusion")
    assert "lumbar-decompression" in medicare
    assert all(p.policy_set == "clinical" for p in kb.policies_in("clinical"))


def test_a_check_closed_given_its_source_must_name_a_known_source(copy):
    def no_source(d):
        d["criteria"]["all"][0]["check"].update(world="source")

    edit_policy(copy, "lumbar-discectomy.yaml", no_source)
    with pytest.raises(KnowledgeError, match=r"names a source exactly when its world is 'source'"):
        load(copy)


def test_an_unknown_record_source_is_rejected(copy):
    def unknown(d):
        d["criteria"]["all"][0]["check"].update(world="source", source="x_ray_of_the_knee")

    edit_policy(copy, "lumbar-discectomy.yaml", unknown)
    with pytest.raises(KnowledgeError, match=r"check.source: unknown source 'x_ray_of_the_knee'"):
        load(copy)


def test_fails_when_denied_names_known_concepts(copy):
    def unknown(d):
        d["criteria"]["all"][0]["check"]["fails_when_denied"] = ["leg_ache"]

    edit_policy(copy, "lumbar-discectomy.yaml", unknown)
    with pytest.raises(KnowledgeError, match=r"unknown concept 'leg_ache'"):
        load(copy)


def test_a_procedure_word_in_an_unknown_region_is_rejected(copy):
    edit_yaml(copy, "procedures.yaml", lambda d: d["terms"][0].update(by_region={"elbow": "63030"}))
    with pytest.raises(KnowledgeError, match=r"procedures.yaml: terms.0: unknown region 'elbow'"):
        load(copy)


def test_a_per_level_code_is_a_known_add_on(copy):
    def primary_as_add_on(d):
        next(c for c in d["codes"] if c["code"] == "63045")["per_level"] = "63047"

    edit_yaml(copy, "procedures.yaml", primary_as_add_on)
    with pytest.raises(KnowledgeError, match=r"codes.63045.per_level: '63047' is not a known add-on code"):
        load(copy)


def test_a_context_rule_names_known_concepts(copy):
    edit_yaml(copy, "lexicon.yaml", lambda d: d["context_rules"][0].update(concepts=["leg_ache"]))
    with pytest.raises(KnowledgeError, match=r"context_rules.+unknown concept 'leg_ache'"):
        load(copy)


def test_a_past_form_names_a_known_concept(copy):
    def past(d):
        next(c for c in d["concepts"] if c["id"] == "current_smoker")["past"] = "ex_habit"

    edit_yaml(copy, "vocabulary.yaml", past)
    with pytest.raises(KnowledgeError, match=r"current_smoker.past: unknown concept 'ex_habit'"):
        load(copy)


def test_a_broken_regex_in_the_record_layout_is_rejected(copy):
    edit_yaml(copy, "record.yaml", lambda d: d["performed"]["questions"].append("(unclosed"))
    with pytest.raises(KnowledgeError, match=r"record.yaml: performed.questions.\d+: not a valid regular expression"):
        load(copy)


def test_every_code_outside_the_library_names_its_region(kb):
    covered = {s.code for p in kb.policies.values() for s in p.services}
    for code in kb.codes.values():
        if code.code not in covered and not code.add_on:
            assert code.region is not None or code.family in ("revision", "deformity_fusion", "neurostimulation"), (
                code.code
            )


def _concept(d: dict, cid: str) -> dict:
    return next(c for c in d["concepts"] if c["id"] == cid)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        ("vocabulary.yaml", lambda d: _concept(d, "bmi").update(group="vitals"), r"concepts.bmi.group: unknown group"),
        (
            "vocabulary.yaml",
            lambda d: _concept(d, "bmi")["read"].update(key="(BMI"),
            r"concepts.bmi.read.key: not a valid",
        ),
        ("vocabulary.yaml", lambda d: _concept(d, "bmi")["read"].pop("key"), r"a `number` reading needs a `key`"),
        ("vocabulary.yaml", lambda d: _concept(d, "bmi")["read"].update(value="colour"), r"concepts.\d+.read.value"),
        ("procedures.yaml", lambda d: d.update(default_region="knee"), r"procedures.yaml: unknown region 'knee'"),
        ("procedures.yaml", lambda d: d.update(spanning_order=["neck"]), r"unknown region 'neck'"),
        ("procedures.yaml", lambda d: d.update(prior="old_surgery"), r"unknown concept 'old_surgery'"),
        ("procedures.yaml", lambda d: d.update(revised_families=["knitting"]), r"unknown family 'knitting'"),
        ("scope.yaml", lambda d: d.update(example_codes=["99999"]), r"scope.yaml: example_codes: unknown code"),
    ],
)
def test_the_domain_declared_in_the_knowledge_is_checked(copy, name, change, message):
    """What the engine reads from the vocabulary and procedures instead of code is validated like the rest."""
    edit_yaml(copy, name, change)
    with pytest.raises(KnowledgeError, match=message):
        load(copy)


def test_a_pitfall_is_shown_on_known_codes_families_and_concepts_only(copy):
    def bad(d):
        d["pitfalls"][0] = {"text": "A warning.", "when": {"families": ["laser_spine"]}}

    edit_policy(copy, "lumbar-discectomy.yaml", bad)
    with pytest.raises(
        KnowledgeError, match=r"lumbar-discectomy.yaml: pitfalls.0.when.families: unknown family 'laser_spine'"
    ):
        load(copy)


def test_a_recent_reading_names_a_known_concept(copy):
    def bad(d):
        next(c for c in d["concepts"] if c["id"] == "former_smoker")["recent"] = {"concept": "vaper", "weeks": 6}

    edit_yaml(copy, "vocabulary.yaml", bad)
    with pytest.raises(KnowledgeError, match=r"concepts.former_smoker.recent: unknown concept 'vaper'"):
        load(copy)


def test_an_implied_operation_names_a_known_code(copy):
    edit_yaml(copy, "procedures.yaml", lambda d: d["implied"]["rules"][0].update(code="99999"))
    with pytest.raises(KnowledgeError, match=r"implied.rules.0: unknown code '99999'"):
        load(copy)
