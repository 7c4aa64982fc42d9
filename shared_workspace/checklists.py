"""Each stage's core expectations from 001, copied into every new workspace's checklists."""

from __future__ import annotations

CORE_EXPECTATIONS: dict[int, list[tuple[str, str]]] = {
    1: [
        ("§1", "Development group representatives make sure stakeholders have informed the scope"),
        ("§2", "Terms of reference cover background, aims and the inspection question"),
        ("§3", "Methodology sets out the evidence-gathering methods and how they add value"),
        ("§5", "Provisional report structure and each inspectorate's drafting red lines agreed"),
        ("§6", "Agree how each inspectorate contributes to drafting"),
        ("§7", "Audience, stakeholders and a high-level media approach agreed"),
        ("§8", "Scope circulated to development group representatives; internal sign-offs done"),
        ("§9", "Agreed terms of reference published under inspections in progress"),
        ("§10", "Timetable, including fieldwork dates, agreed by all inspectorates"),
        ("§11", "Project plan drafted and maintained by the lead inspectorate"),
    ],
    2: [
        ("§12", "Sites selected from data and evidence relevant to the inspection question"),
        ("§13", "Existing inspection burden considered, including London and Wales"),
        ("§14", "Number of areas balanced against evidence, resources and burden"),
        ("§16", "Letters sent at least six weeks before onsite fieldwork"),
        ("§17", "Every development group representative has authorised the letters"),
    ],
    3: [
        ("§18", "Onsite and remote fieldwork activities agreed"),
        ("§20", "Team sizes agreed for each fieldwork visit"),
        ("§21", "Security clearance and IT access issues confirmed"),
        ("§23", "How evidence is recorded and shared with every inspectorate agreed"),
        ("§26", "Approach to debriefs and live-case issues agreed"),
    ],
    4: [
        ("§27", "How interviews will be conducted agreed"),
        ("§28", "Interviews and focus groups conducted jointly"),
    ],
    5: [
        ("§29", "Emerging findings and evaluation meetings held jointly"),
        ("§30", "Final report structure agreed at a meeting of all inspectorates"),
        ("§31", "Decide whether emerging findings are shared with those inspected"),
        ("§32", "Evaluation of how the joint inspection worked"),
    ],
    6: [
        ("§33", "Ongoing joint review against red lines; findings triangulated"),
        ("§34", "Agreed way of handling comments and suggested edits"),
        ("§35", "Drafting starts only after the emerging findings meeting and joint QA"),
        ("§37", "Development group representatives agree before HMIs and CIs see the draft"),
        ("§38", "HMI and CI approval before stakeholders and critical readers see the draft"),
        ("§40", "HMI and CI sign off the final report"),
    ],
    7: [
        ("§41", "Factual accuracy checks finalised"),
        ("§42", "Stakeholder lists agreed, including embargoed copies"),
        ("§43", "Distribution lists cross-referenced so nobody receives the report twice"),
        ("§44", "Media strategy agreed; every Chief Inspector referred to or quoted"),
        ("§45", "Press notice drafted by the lead with everyone's contributions"),
        ("§46", "Responses to recommendations recorded on the tracker"),
    ],
    8: [
        ("§48", "Material kept or destroyed after publication as each inspectorate agreed"),
    ],
}
