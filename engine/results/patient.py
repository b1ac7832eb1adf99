"""The patient summary (`cmlkb evaluate --format patient`): the conclusion of an evaluation
in plain words, at about a 12-year-old reading level.

Built only from the evaluation result (the same derivations as every other output) and the
knowledge base's plain-language annotations: cml:plainLabel of drugs, options, actions,
statuses, categories, response levels, phases and reason kinds, and cml:plainExplanation of
the knowledge statements a conclusion rests on. There is no hand-written text per case;
the fixed sentences below explain the test and frame the summary, and every case-specific
word comes from the result or the knowledge. Internal identifiers (statement and source
IRIs, rule ids, codes) never appear.
"""

from __future__ import annotations

from typing import Any

from cmlkb.knowledge.base import KnowledgeBase
from cmlkb.results.evaluation import Evaluation
from cmlkb.results.result import citations, ranks, status_groups

_labels: dict[str, dict[str, dict[str, str]]] = {}

# The International Scale's own definition, not a clinical threshold: 100 % IS is the
# standardised level of untreated CML (the IRIS baseline) that every result is compared with.
IS_REFERENCE_PERCENT = 100


def plain_labels(kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    """Class local name -> code -> plain label, from the knowledge (cached per digest);
    "OptionStatus" holds the cml:plainOptionLabel of the statuses, in cml:strengthRank
    order, and "global" the drugs approved everywhere."""
    if kb.digest not in _labels:
        out: dict[str, dict[str, str]] = {}
        for r in kb.select("engine/plain-labels"):
            cls = str(r["cls"]).split("#")[-1]
            out.setdefault(cls, {})[str(r["code"])] = str(r["plain"])
        out["global"] = {str(r["code"]): "" for r in kb.select("engine/global-drugs")}
        # The statuses in the option sense ("Other choices"), weakest first.
        out["OptionStatus"] = {
            str(r["code"]): str(r["plain"]) for r in kb.select("engine/option-status-labels")
        }
        _labels[kb.digest] = out
    return _labels[kb.digest]


def _explanations(kb: KnowledgeBase) -> dict[str, str]:
    """Compact statement id -> its plain explanation (only statements that have one)."""
    return {c.statement: c.plain for c in citations(kb).values() if c.plain}


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _drug_name(labels: dict[str, dict[str, str]], code: str) -> str:
    """The short drug name (the plain label up to its first comma or bracket)."""
    plain = labels.get("TyrosineKinaseInhibitor", {}).get(code, code)
    return plain.split(",")[0].split(" (")[0].strip()


def _results_part(
    result: dict[str, Any], labels: dict[str, dict[str, str]], phase_rank: dict[str, int]
) -> list[str]:
    response = result["response"]
    out = [
        "What your test results mean",
        "Your care team checks your CML with a blood test called BCR::ABL1. "
        "It measures how much of the leukemia gene is in your blood. "
        "A lower number is better.",
    ]
    value = response["latest_bcr_abl1_is_percent"]
    if value is None:
        out.append("There is no result of this test yet.")
    elif value == 0:
        out.append("In your latest test, the leukemia gene could not be found.")
    else:
        out.append(f"Your latest result was {value:g} percent.")
        if value > IS_REFERENCE_PERCENT and not response.get("is_not_applicable"):
            out.append(
                "This is above 100 percent. It does not mean more than all of your blood. "
                "The test compares your level with a standard level, set at 100 percent, "
                "that is usual for CML before treatment. Your level is higher than that "
                "standard level."
            )
    if response.get("is_not_applicable"):
        # The IS does not apply to the patient's transcript: say why no goal is compared.
        out.append(
            "Your leukemia gene is a less common type. The usual scale for this test "
            "was made for the common types. So your result cannot be compared with the "
            "usual goals. Your care team may use a bone marrow test, or a special test "
            "made for your type, instead."
        )
    level = response["molecular_response"]
    level_plain = labels.get("MolecularResponseLevel", {}).get(level or "")
    if level_plain:
        out.append(_sentence(f"This means {level_plain}"))
    category = response["eln"]
    category_plain = labels.get("ResponseCategory", {}).get(category or "")
    if category_plain:
        out.append(
            _sentence(
                f"Compared with the usual goals for this point in treatment, "
                f"your result is: {category_plain}"
            )
        )
    if result["resistance"]["status"] == "progression":
        # The phases past the first (cml:severityRank in the knowledge), most advanced first.
        phase = labels.get("Phase", {})
        lowest = min(phase_rank.values(), default=0)
        advanced = [
            phase[p]
            for p in sorted(phase_rank, key=lambda p: -phase_rank[p])
            if phase_rank[p] > lowest and p in phase
        ]
        if advanced:
            out.append(
                "Your test results show that the leukemia has moved to a later stage "
                f"({advanced[0] if _has_blast(result) else advanced[-1]})."
            )
    return out


def _has_blast(result: dict[str, Any]) -> bool:
    """Whether a reason of the result names blast phase (for the stage wording); "blast
    phase", not "blast": an accelerated phase found from the blast count names blasts."""
    texts = [r["detail"] for o in result.get("options", []) for r in o["reasons"]]
    texts += [r["detail"] for r in result["transplant"]["reasons"]]
    return any("blast phase" in t for t in texts)


def _intro(result: dict[str, Any], case: dict[str, Any], labels: dict[str, dict[str, str]]):
    """The opening sentences. CML is called slow only in chronic phase: never when it was
    found in, or has moved to, an accelerated or blast phase."""
    opening = "This summary explains your latest CML results in simple words. "
    at_diagnosis = case.get("diagnosis", {}).get("phase", "chronic")
    if at_diagnosis == "chronic" and result["resistance"]["status"] != "progression":
        return [opening + "CML is a slow type of blood cancer called leukemia."]
    out = [opening + "CML is a type of blood cancer called leukemia."]
    stage = labels.get("Phase", {}).get(at_diagnosis)
    if at_diagnosis != "chronic" and stage:
        out.append(_sentence(f"When it was found, your leukemia was already at {stage}"))
    return out


def _tfr_lines(result: dict[str, Any]) -> list[str]:
    """Off therapy after stopping in treatment-free remission: say so, not "no data"."""
    tfr = result.get("treatment_free_remission")
    if not tfr:
        return []
    out = [
        "You are not taking a CML pill now. You and your care team stopped it on purpose, "
        "because the leukemia was so low. Doctors call this treatment-free remission."
    ]
    if tfr["monitoring"]:
        out.append(
            "While you are off the pill, you need the blood test on a set schedule. "
            "This way, if the leukemia comes back, it is found early and the pill can be "
            "started again."
        )
    else:
        out.append(
            "Your latest test shows that the leukemia level has gone up again. "
            "This is why starting the pill again is being talked about."
        )
    return out


def _drugs_part(
    result: dict[str, Any],
    labels: dict[str, dict[str, str]],
    explain: dict[str, str],
    current: str | None,
    groups: dict[str, frozenset[str]],
) -> list[str]:
    # Drugs approved only in some regions are left out: the clinician's output lists them.
    global_drugs = [d for d in result["drugs"] if d["drug"] in labels.get("global", {})]
    # A choice that rests only on unverified knowledge is never offered as advice.
    good = [d for d in global_drugs if d["status"] in groups["choice"] and not d.get("unverified")]
    careful = [d for d in global_drugs if d["status"] in groups["care"]]
    unsuitable = [d for d in global_drugs if d["status"] in groups["against"]]
    out = [
        "Your medicines",
        "CML is usually treated with pills that block the leukemia gene. Doctors call them TKIs.",
    ]
    if current:
        out.append(_sentence(f"You are now taking {_drug_name(labels, current)}"))
    out += _tfr_lines(result)
    if "switch-tki" not in result["actions"]:
        # No change of medicine is recommended: only a preferred pill (a restart) is named.
        good, careful = [d for d in good if d["status"] == "preferred"], []
    best = [_drug_name(labels, d["drug"]) for d in good if d["status"] == "preferred"]
    possible = [_drug_name(labels, d["drug"]) for d in good if d["status"] == "candidate"]
    if best:
        verb = "choice now is" if len(best) == 1 else "choices now are"
        out.append(_sentence(f"The best {verb} {_join(best)}"))
    if possible:
        verb = "choice is" if len(possible) == 1 else "choices are"
        out.append(_sentence(f"Possible {verb} {_join(possible)}"))
    if careful:
        names = _join([_drug_name(labels, d["drug"]) for d in careful])
        out.append(_sentence(f"{names} could be used only with extra care"))
    failing = "switch-tki" in result["actions"] or result["response"]["eln"] == "failure"
    if not good and not careful and failing:
        out.append("None of the usual CML pills is expected to work well for you now.")
    for d in unsuitable:
        reason = d["reasons"][0]
        why = explain.get(reason.get("statement") or "") or labels.get("ReasonKind", {}).get(
            reason["kind"], ""
        )
        status = labels.get("DrugStatus", {}).get(d["status"], "")
        line = f"{_drug_name(labels, d['drug'])}: {status}"
        out.append(_sentence(line) + (" " + _sentence(why) if why else ""))
    return out


def _options_part(
    result: dict[str, Any],
    labels: dict[str, dict[str, str]],
    explain: dict[str, str],
    groups: dict[str, frozenset[str]],
) -> list[str]:
    plain = labels.get("TreatmentOption", {})
    all_options = result.get("options") or []
    # An option that rests only on unverified knowledge is not advice: it is named apart,
    # never with a status the patient could read as a recommendation.
    weak = [o for o in all_options if o.get("unverified") and o["status"] in groups["choice"]]
    unchecked = [plain.get(o["option"], o["option"].replace("-", " ")) for o in weak]
    options = [o for o in all_options if o not in weak]
    if not options and not unchecked:
        return []
    out = ["Other choices besides a CML pill"]
    if unchecked:
        out.append(
            _sentence(
                f"Your care team may also talk about {_join(unchecked)}. "
                + (
                    "This idea has not yet been checked against the medical guidelines, "
                    "so this summary does not suggest it"
                    if len(unchecked) == 1
                    else "These ideas have not yet been checked against the medical "
                    "guidelines, so this summary does not suggest them"
                )
            )
        )
    statuses = labels.get("OptionStatus", {})
    order = list(statuses)
    for option in sorted(options, key=lambda o: order.index(o["status"])):
        name = plain.get(option["option"], option["option"].replace("-", " "))
        status = statuses.get(option["status"], option["status"])
        line = _sentence(f"{name}: {status}")
        top = option["reasons"][0]
        why = explain.get(top.get("statement") or "")
        out.append(line + (" " + _sentence(why) if why else ""))
    return out


def _steps_part(result: dict[str, Any], labels: dict[str, dict[str, str]]) -> list[str]:
    plain = labels.get("Action", {})
    # An action that rests only on unverified knowledge is never a step the patient reads.
    unchecked = {u["action"] for u in result.get("unverified_actions", [])}
    steps = [plain[a] for a in result["actions"] if a in plain and a not in unchecked]
    if not steps:
        return []
    out = [
        "What may happen next",
        "Your care team may talk with you about these steps:",
        *[f"- {s}" for s in steps],
    ]
    # A change of medicine that waits for missing information (dose, adherence) says so.
    resistance = result["resistance"]
    if (
        "switch-tki" in result["actions"]
        and resistance.get("extrinsic_causes_unknown")
        and not resistance.get("extrinsic_causes_documented")
        and not resistance["extrinsic_causes_excluded"]
        and result["resistance"]["status"] != "progression"
        and not _current_excluded(result)
    ):
        out.append(
            "The change of medicine comes after your care team has checked "
            "how and how much of it you take."
        )
    return out


def _current_excluded(result: dict[str, Any]) -> bool:
    current = result["response"].get("current_tki")
    return any(d["drug"] == current and d["status"] == "excluded" for d in result["drugs"])


def _current_drug(case: dict[str, Any]) -> str | None:
    """The drug of the open therapy (none when off therapy)."""
    return next((t["drug"] for t in case.get("therapies", []) if not t.get("end")), None)


def patient_summary(evaluation: Evaluation, kb: KnowledgeBase) -> str:
    """The evaluation in plain words for the patient, from the result and the KB."""
    result = evaluation.result
    labels = plain_labels(kb)
    explain = _explanations(kb)
    groups = status_groups(kb)
    parts: list[list[str]] = [
        ["Your CML summary", *_intro(result, evaluation.case, labels)],
        _results_part(result, labels, ranks(kb).get("Phase", {})),
        _drugs_part(result, labels, explain, _current_drug(evaluation.case), groups),
        _options_part(result, labels, explain, groups),
        _steps_part(result, labels),
    ]
    if result.get("insufficient_data"):
        parts.append(
            [
                "Missing information",
                "Some information is missing, so not everything could be worked out. "
                "Your care team may ask for more tests.",
            ]
        )
    parts.append(
        [
            "Deciding together",
            "This summary does not make decisions. You and your care team decide "
            "together what is best for you. Please ask them about anything that is "
            "not clear.",
        ]
    )
    blocks = []
    for part in parts:
        if not part:
            continue
        title, *lines = part
        blocks.append(title + "\n" + "\n".join(f"  {line}" for line in lines))
    return "\n\n".join(blocks)


def flesch_kincaid_grade(text: str) -> float:
    """Flesch-Kincaid grade level: 0.39 words/sentence + 11.8 syllables/word - 15.59.
    Syllables are counted by vowel groups (a silent final 'e' dropped, at least one)."""
    import re

    sentences = [s for s in re.split(r"[.!?:]+(?:\s|$)|\n", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z]+(?:'[a-z]+)?", text)
    if not sentences or not words:
        return 0.0

    def syllables(word: str) -> int:
        w = word.lower()
        groups = re.findall(r"[aeiouy]+", w)
        n = len(groups)
        if w.endswith("e") and not w.endswith(("le", "ee")) and n > 1:
            n -= 1
        return max(1, n)

    total = sum(syllables(w) for w in words)
    return 0.39 * len(words) / len(sentences) + 11.8 * total / len(words) - 15.59
