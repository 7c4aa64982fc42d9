"""The consolidated media strategy (001 §44): it cannot be agreed, nor approved by anyone,
while a participating inspectorate's chief inspector is neither referred to nor quoted; the
press notice is a co-edited document the lead drafts (§45)."""

from __future__ import annotations

from tests.shared_workspace.fixtures import Inspectorate
from tests.shared_workspace.publication.helpers import decision_of


def _strategy(party: Inspectorate, ws: int, body: dict):  # type: ignore[no-untyped-def, type-arg]
    return party.call("PUT", f"/api/v1/workspaces/{ws}/media-strategy", body)


def _answer(party: Inspectorate, ws: int, decision: int, approve: bool = True, reason: str = ""):  # type: ignore[no-untyped-def]
    return party.call(
        "POST",
        f"/api/v1/workspaces/{ws}/decisions/{decision}/answer",
        {"approve": approve, "reason": reason} if reason else {"approve": approve},
    )


def test_the_media_strategy_cannot_be_proposed_without_every_chief_inspector(
    trio, workspace
) -> None:
    lead = trio[0]
    saved = _strategy(
        lead, workspace, {"launch": "proactive", "quoted": ["hmiprobation", "hmiprisons"]}
    ).get_json()
    assert saved["missing"] == [trio[2].tenant.name]
    propose = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": saved["subject_id"]},
    )
    assert propose.status_code == 422
    assert propose.get_json()["detail"] == (
        "The media strategy must refer to or quote the chief inspector of every participating "
        f"inspectorate (§44). Missing: {trio[2].tenant.name}"
    )
    refused = _strategy(trio[1], workspace, {"launch": "soft"})
    assert refused.status_code == 422  # the lead drafts it; others suggest changes


def test_approving_a_strategy_that_drops_a_chief_inspector_is_refused_with_the_name(
    trio, workspace
) -> None:
    lead, prisons, cfrs = trio
    everyone = _strategy(
        lead, workspace, {"quoted": ["hmiprobation", "hmiprisons", "hmicfrs"]}
    ).get_json()
    assert everyone["missing"] == []
    proposed = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": everyone["subject_id"]},
    )
    assert proposed.status_code == 201, proposed.get_json()
    decision = proposed.get_json()["id"]
    assert _answer(lead, workspace, decision).status_code == 200
    # The lead then drops HMI Prisons' chief inspector: the approvals given are void and
    # nobody may approve the new version, not only the last approver.
    _strategy(lead, workspace, {"quoted": ["hmiprobation", "hmicfrs"]})
    for party in (prisons, cfrs, lead):
        refused = _answer(party, workspace, decision)
        assert refused.status_code == 422, party.slug
        assert refused.get_json()["detail"].endswith(f"(§44). Missing: {prisons.tenant.name}")
    state = decision_of(lead, workspace, "media_strategy")
    assert state["status"] == "open"
    assert not [a for a in state["approvals"] if a.get("voided_at") is None]
    # Rejecting stays possible: it is how an inspectorate says its chief is missing.
    rejected = _answer(prisons, workspace, decision, approve=False, reason="Quote our CI")
    assert rejected.status_code == 200, rejected.get_json()


def test_with_every_chief_inspector_quoted_the_strategy_is_agreed(trio, workspace) -> None:
    lead = trio[0]
    everyone = _strategy(
        lead, workspace, {"quoted": ["hmiprobation", "hmiprisons", "hmicfrs"]}
    ).get_json()
    decision = lead.call(
        "POST",
        f"/api/v1/workspaces/{workspace}/decisions",
        {"kind": "media_strategy", "subject_id": everyone["subject_id"]},
    ).get_json()["id"]
    for party in trio:
        assert _answer(party, workspace, decision).status_code == 200
    assert decision_of(lead, workspace, "media_strategy")["status"] == "agreed"


def test_the_press_notice_is_a_co_edited_document_the_lead_drafts(trio, workspace) -> None:
    lead, prisons, _cfrs = trio
    refused = prisons.call("POST", f"/api/v1/workspaces/{workspace}/media-strategy/press-notice")
    assert refused.status_code == 422
    assert "The lead inspectorate drafts the press notice" in refused.get_json()["detail"]
    drafted = lead.call("POST", f"/api/v1/workspaces/{workspace}/media-strategy/press-notice")
    assert drafted.status_code == 201, drafted.get_json()
    notice = drafted.get_json()
    assert notice["kind"] == "press_notice" and notice["version"] == 1
    again = lead.call("POST", f"/api/v1/workspaces/{workspace}/media-strategy/press-notice")
    assert again.get_json()["document_id"] == notice["document_id"]  # one press notice
    strategy = lead.call("GET", f"/api/v1/workspaces/{workspace}/media-strategy").get_json()
    assert strategy["press_notice_id"] == notice["document_id"]
    url = f"/api/v1/workspaces/{workspace}/documents/{notice['document_id']}"
    document = prisons.call("GET", url).get_json()
    titles = [s["title"] for s in document["sections"]]
    assert titles[0] == "Press notice" and titles[-1] == "Notes to editors"
    assert {f"Quote: {p.tenant.name}" for p in trio} <= set(titles)
    # HMI Prisons contributes its chief inspector's quote by editing the shared document.
    sections = [
        {**s, "body": "<p>Our chief inspector said this.</p>"}
        if s["title"] == f"Quote: {prisons.tenant.name}"
        else s
        for s in document["sections"]
    ]
    saved = prisons.client.put(
        url,
        json={"sections": [{k: s[k] for k in ("key", "title", "body")} for s in sections]},
        headers={**prisons.headers, "If-Match": f'"{notice["document_id"]}-1"'},
    )
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["version"] == 2


def test_the_lead_drafts_the_press_notice_from_the_publication_page(app, trio, workspace) -> None:
    from tests.tenants.fixtures import sign_in

    lead, prisons, _cfrs = trio
    other = app.test_client()
    sign_in(other, prisons.user)
    page = other.get(f"/workspaces/{workspace}/publication").get_data(as_text=True)
    assert "Draft the press notice" not in page and "has not drafted it yet" in page
    browser = app.test_client()
    sign_in(browser, lead.user)
    drafted = browser.post(f"/workspaces/{workspace}/publication", data={"action": "press_notice"})
    assert drafted.status_code == 302
    notice = lead.call("GET", f"/api/v1/workspaces/{workspace}/media-strategy").get_json()
    assert drafted.headers["Location"].endswith(
        f"/workspaces/{workspace}/documents/{notice['press_notice_id']}"
    )
    page = other.get(f"/workspaces/{workspace}/publication").get_data(as_text=True)
    assert "Press notice: Resettlement" in page and "Draft the press notice" not in page
