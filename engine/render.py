"""Rendering evaluations: `text` for a clinician (the conclusion first, then the reasons
with their sources), `json` per the contract, `turtle`/`jsonld` for the provenance graph,
`patient` for the patient (cmlkb.patient)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from cmlkb.knowledge import KnowledgeBase
from cmlkb.result import DISCLAIMER

if TYPE_CHECKING:
    from cmlkb.evaluate import Evaluation

STATUS_ORDER = ("preferred", "candidate", "caution", "avoid", "excluded")


def render(evaluations: list[Evaluation], kb: KnowledgeBase, fmt: str) -> str:
    if fmt == "json":
        results = [e.result for e in evaluations]
        data: Any = results[0] if len(results) == 1 else results
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt in ("turtle", "jsonld"):
        from cmlkb.provenance import evaluation_graph

        graph = evaluation_graph(evaluations[0], kb)
        for e in evaluations[1:]:
            graph += evaluation_graph(e, kb)
        return graph.serialize(format="turtle" if fmt == "turtle" else "json-ld")
    if fmt == "patient":
        from cmlkb.patient import patient_summary

        return "\n\n".join(patient_summary(e, kb) for e in evaluations) + "\n"
    return "\n\n".join(clinician_text(e.result) for e in evaluations) + "\n"


def _line(label: str, value: Any) -> str:
    return f"  {label:<22} {value}"


def headline(result: dict[str, Any]) -> str:
    """The conclusion in one sentence."""
    resistance = result["resistance"]
    response = result["response"]
    usable = [d["drug"] for d in result["drugs"] if d["status"] in ("preferred", "candidate")]
    if not usable:
        usable = [
            f"{d['drug']} (with caution)"
            for d in result["drugs"]
            if d["status"] == "caution"
            and any(r["effect"] in ("preferred", "candidate") for r in d["reasons"])
        ]
    parts: list[str] = []
    if response["eln"] == "failure":
        confirmed = (
            ""
            if resistance["extrinsic_causes_excluded"]
            else (" (not yet confirmed as true resistance: extrinsic causes not excluded)")
        )
        status = resistance["status"]
        kind = "progression on therapy" if status == "progression" else f"{status} resistance"
        parts.append(f"ELN failure, {kind}{confirmed}")
    elif response["eln"]:
        parts.append(f"ELN {response['eln']}")
    else:
        parts.append("no ELN milestone applies now")
    if "restart-tki" in result["actions"]:
        parts.append("restart the TKI")
    elif "switch-tki" in result["actions"]:
        names = ", ".join(usable) or "no usable TKI"
        parts.append(f"switch TKI (options: {names})")
    elif "continue-tki" in result["actions"]:
        parts.append("continue the current TKI")
    if result["transplant"]["consider"]:
        parts.append("consider allogeneic transplant")
    return "; ".join(parts) + "."


def clinician_text(result: dict[str, Any]) -> str:
    r = result["response"]
    out = [
        f"Case {result['case']} - assessed {result['assessed_on']}",
        f"Conclusion: {headline(result)}",
        "",
        "Response",
        _line(
            "time on current TKI",
            f"{r['months_on_current_therapy']} months"
            if r["months_on_current_therapy"] is not None
            else "off therapy",
        ),
        _line(
            "latest BCR::ABL1 (IS)",
            f"{r['latest_bcr_abl1_is_percent']} %"
            if r["latest_bcr_abl1_is_percent"] is not None
            else "no result",
        ),
        _line("molecular response", r["molecular_response"] or "unknown"),
        _line(f"ELN ({result['knowledge']['guideline']})", _category(r["eln"], r["eln_basis"])),
        _line(f"NCCN ({result['knowledge']['nccn']})", _category(r["nccn"], r["nccn_basis"])),
    ]
    if r["guidelines_disagree"]:
        out.append("  ELN and NCCN disagree here; both are shown, neither is merged.")
    res = result["resistance"]
    out += [
        "",
        "Resistance",
        _line("status", res["status"]),
        _line(
            "extrinsic causes",
            "excluded"
            if res["extrinsic_causes_excluded"]
            else "NOT excluded: " + (", ".join(res["extrinsic_causes"]) or "no data"),
        ),
    ]
    mt = result["mutation_testing"]
    out.append(
        _line(
            "mutation testing",
            mt["indication"] + (f" ({mt['method']} preferred)" if mt["method"] else ""),
        )
    )
    out += ["", "TKIs (status: strongest reason wins; excluded drugs must not be used)"]
    for d in sorted(result["drugs"], key=lambda d: (STATUS_ORDER.index(d["status"]), d["drug"])):
        mark = "  [UNVERIFIED: rests only on U-tagged knowledge]" if d.get("unverified") else ""
        out.append(f"  {d['drug']:<15} {d['status'].upper()}{mark}")
        for reason in d["reasons"]:
            cite = reason.get("citation") or reason.get("source") or ""
            evidence = f" [{reason['evidence']}]" if reason.get("evidence") else ""
            out.append(
                f"      - {reason['effect']}: {reason['kind']} ({reason['detail']})"
                f"{evidence} - rule {reason['rule']}"
            )
            if reason.get("statement"):
                out.append(f"        {reason['statement']}: {_short(cite)}")
    for advice in result.get("dose_advice", []):
        out.append(
            f"  dose: {advice['drug']} {advice['dose_mg']:g} mg {advice['frequency']} "
            f"({advice['detail']})"
        )
    t = result["transplant"]
    out += ["", "Allogeneic transplant: " + ("CONSIDER" if t["consider"] else "not indicated now")]
    for reason in t["reasons"]:
        out.append(
            f"  - {reason['trigger']}: {reason['detail']} - rule {reason['rule']}"
            + (f"; {reason['statement']}" if reason.get("statement") else "")
        )
    for option in result.get("options", []):
        if option is result.get("options", [])[0]:
            out += ["", "Other options"]
        mark = (
            "  [UNVERIFIED: rests only on U-tagged knowledge]" if option.get("unverified") else ""
        )
        out.append(f"  {option['option']:<24} {option['status']}{mark}")
    out += ["", "Actions: " + (", ".join(result["actions"]) or "none")]
    if result.get("unverified_actions"):
        out.append(
            "UNVERIFIED (rest only on U-tagged knowledge): "
            + ", ".join(
                f"{u['action']} ({u['option']}{'' if u['proposed'] else ', not proposed'})"
                for u in result["unverified_actions"]
            )
        )
    if result["insufficient_data"]:
        out += ["", "Insufficient data (conclusions not drawn)"]
        for item in result["insufficient_data"]:
            out.append(f"  - {item['conclusion']}: needs {item['missing']}")
    k = result["knowledge"]
    out += [
        "",
        f"Knowledge {k['version']} ({k['digest'][:19]}...), evaluation {result['evaluation_id']}",
        DISCLAIMER,
    ]
    return "\n".join(out)


def _category(value: str | None, basis: list[dict[str, Any]]) -> str:
    if value is None:
        return "none (no milestone of this edition applies to the latest result)"
    why = ", ".join(f"{b['category']} by {b['basis']} {b['detail']}" for b in basis)
    return f"{value}  ({why})"


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
