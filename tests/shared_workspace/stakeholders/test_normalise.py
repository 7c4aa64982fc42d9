"""Normalisation: every spelling of one thing compares equal, different things do not."""

from __future__ import annotations

import pytest

from shared_workspace.stakeholders.normalise import (
    fold,
    given_forms,
    is_role_mailbox,
    normalise_address,
    normalise_email,
    normalise_organisation,
    normalise_phone,
    normalise_role,
    parse_name,
    phonetic_key,
)

CPS_AREAS = [
    "CPS Cymru-Wales",
    "CPS East Midlands",
    "CPS East of England",
    "CPS London North",
    "CPS London South",
    "CPS Mersey-Cheshire",
    "CPS North East",
    "CPS North West",
    "CPS South East",
    "CPS South West",
    "CPS Thames and Chiltern",
    "CPS Wessex",
    "CPS West Midlands",
    "CPS Yorkshire and Humberside",
]


def test_fold_removes_case_accents_and_punctuation_but_joins_apostrophes() -> None:
    assert fold("  Siân   O\u2019Brien-Jones, OBE ") == "sian obrien jones obe"
    assert fold("Smith & Co.") == "smith and co"


@pytest.mark.parametrize(
    ("given", "family"),
    [
        ("Jane", "Smith"),
        ("JANE", "smith"),
        ("  Jane ", " Smith  "),
        ("Dr Jane", "Smith OBE"),
        ("Mrs Jane A.", "Smith"),
        ("", "SMITH, Jane"),
        ("", "SMITH Jane"),
        ("", "Jane Smith"),
        ("", "Dr Jane Smith KC"),
    ],
)
def test_name_variants_parse_to_the_same_given_and_family_name(given: str, family: str) -> None:
    name = parse_name(given, family)
    assert (name.given, name.family) == ("jane", "smith")


def test_names_keep_initials_middle_names_and_joined_family_names() -> None:
    assert parse_name("J. A.", "O'Brien").given == "j"
    assert parse_name("J. A.", "O'Brien").middle_initials == "a"
    assert parse_name("", "L. Walker").family == "walker"
    for family in ("O'Brien", "OBrien", "O Brien", "o\u2019brien"):
        assert parse_name("Sean", family).family == "obrien"
    assert parse_name("Amy", "Smith-Jones").family == parse_name("Amy", "Smith Jones").family


def test_a_title_alone_is_no_given_name_and_a_family_name_is_never_stripped_away() -> None:
    assert parse_name("Mr", "Smith").given == ""
    assert parse_name("Jane", "Lord").family == "lord"


@pytest.mark.parametrize(
    ("nickname", "full"),
    [("bob", "robert"), ("bill", "william"), ("liz", "elizabeth"), ("jim", "james"),
     ("kate", "catherine"), ("kate", "katherine"), ("chris", "christine"),
     ("chris", "christopher"), ("steve", "stephen"), ("peggy", "margaret")],
)  # fmt: skip
def test_nicknames_share_a_form_with_their_full_names(nickname: str, full: str) -> None:
    assert given_forms(nickname) & given_forms(full)


def test_different_given_names_share_no_form() -> None:
    assert not given_forms("robert") & given_forms("william")
    assert not given_forms("jane") & given_forms("john")


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("Ministry of Justice", "moj"),
        ("MoJ", "moj"),
        ("the Ministry of Justice", "moj"),
        ("HM Prison and Probation Service", "hmpps"),
        ("His Majesty's Prison & Probation Service", "hmpps"),
        ("Her Majesty\u2019s Prison and Probation Service", "hmpps"),
        ("HMPPS", "hmpps"),
        ("NOMS", "hmpps"),
        ("Crown Prosecution Service", "cps"),
        ("CPS", "cps"),
        ("Home Office", "home office"),
        ("National Police Chiefs' Council", "npcc"),
        ("NPCC", "npcc"),
        ("Youth Justice Board for England & Wales", "yjb"),
        ("YJB", "yjb"),
        ("Metropolitan Police Service", "police:metropolitan"),
        ("The Met", "police:metropolitan"),
        ("MPS", "police:metropolitan"),
        ("Met Police", "police:metropolitan"),
        ("Greater Manchester Police", "police:greater manchester"),
        ("GMP", "police:greater manchester"),
        ("Kent Police", "police:kent"),
        ("Kent Constabulary", "police:kent"),
        ("Kent Police Service", "police:kent"),
        ("Dyfed-Powys Police", "police:dyfed powys"),
        ("HMP Brixton", "prison:brixton"),
        ("HM Prison Brixton", "prison:brixton"),
        ("Brixton Prison", "prison:brixton"),
        ("HMP/YOI Bronzefield", "prison:bronzefield"),
        ("Office of the Police and Crime Commissioner for Kent", "opcc:kent"),
        ("Kent OPCC", "opcc:kent"),
        ("Probation Service London", "probation:london"),
        ("London Probation Region", "probation:london"),
        ("Crown Prosecution Service London North", "cps:london north"),
        ("London North CPS", "cps:london north"),
        ("CPS - London North", "cps:london north"),
        ("CPS Area London North", "cps:london north"),
        ("CPS Merseyside & Cheshire", "cps:mersey cheshire"),
        ("CPS Wales", "cps:cymru wales"),
        ("CPS Yorkshire & Humberside", "cps:yorkshire and humberside"),
    ],
)
def test_organisation_aliases_and_abbreviations_share_one_key(alias: str, key: str) -> None:
    organisation = normalise_organisation(alias)
    assert organisation is not None
    assert organisation.key == key


@pytest.mark.parametrize("area", CPS_AREAS)
def test_each_of_the_fourteen_cps_areas_has_its_own_key_under_the_cps(area: str) -> None:
    organisation = normalise_organisation(area)
    assert organisation is not None
    assert organisation.key.startswith("cps:")
    assert organisation.ancestors[0] == "cps"
    spelt_out = normalise_organisation(area.replace("CPS", "Crown Prosecution Service"))
    assert spelt_out == organisation
    assert len({normalise_organisation(a).key for a in CPS_AREAS}) == 14  # type: ignore[union-attr]


def test_an_organisation_knows_its_parents_and_free_text_is_kept_as_words() -> None:
    brixton = normalise_organisation("HMP Brixton")
    assert brixton is not None
    assert brixton.ancestors == ("hmpps", "moj")
    council = normalise_organisation("The Leeds City Council Ltd")
    assert council is not None
    assert (council.key, council.known) == ("org:leeds city council", False)
    rehab = normalise_organisation("Truro Community Rehab Trust")
    assert rehab == normalise_organisation("Truro Community Rehabilitation Trust")
    assert normalise_organisation("  ") is None


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("Jane.Smith@CPS.gov.uk", "jane.smith@cps.gov.uk"),
        ("jane.smith+hmcpsi@cps.gov.uk", "jane.smith@cps.gov.uk"),
        ("jane.smith@cps.gsi.gov.uk", "jane.smith@cps.gov.uk"),
        ("jane.smith@cps.gov.uk.cjsm.net", "jane.smith@cps.gov.uk"),
        ("jane.smith@kent.pnn.police.uk", "jane.smith@kent.police.uk"),
        ("J.A.N.E.Smith@googlemail.com", "janesmith@gmail.com"),
        ("<mailto:jane.smith@cps.gov.uk>", "jane.smith@cps.gov.uk"),
    ],
)
def test_email_aliases_reach_the_same_mailbox(left: str, right: str) -> None:
    a, b = normalise_email(left), normalise_email(right)
    assert a is not None and b is not None
    assert a.key == b.key


def test_dots_matter_where_the_domain_does_not_ignore_them() -> None:
    a = normalise_email("john.smith@outlook.com")
    b = normalise_email("johnsmith@outlook.com")
    assert a is not None and b is not None
    assert a.key != b.key
    assert a.is_webmail


@pytest.mark.parametrize("text", ["not an email", "jane smith@cps.gov.uk", "@cps.gov.uk", ""])
def test_text_that_is_not_an_email_address_is_none(text: str) -> None:
    assert normalise_email(text) is None


@pytest.mark.parametrize(
    "local",
    ["info", "press", "enquiries", "correspondence", "press.office", "londonnorth.enquiries",
     "governor.brixton", "chief.constable", "chief.executive", "ceo", "commissioner",
     "secretariat", "foi"],
)  # fmt: skip
def test_shared_and_job_title_mailboxes_are_recognised(local: str) -> None:
    assert is_role_mailbox(local)


@pytest.mark.parametrize("local", ["jane.smith", "john.press", "j.press", "jsmith", "j.smith2"])
def test_personal_mailboxes_are_not_role_mailboxes(local: str) -> None:
    assert not is_role_mailbox(local)


@pytest.mark.parametrize(
    "text",
    ["020 7123 4567", "+44 20 7123 4567", "+44 (0)20 7123 4567", "(020) 7123-4567",
     "02071234567", "0044 20 7123 4567", "0207 123 4567"],
)  # fmt: skip
def test_phone_formats_give_one_e164_number(text: str) -> None:
    phone = normalise_phone(text)
    assert phone is not None
    assert (phone.key, phone.is_mobile) == ("+442071234567", False)


def test_mobiles_extensions_foreign_and_impossible_numbers() -> None:
    mobile = normalise_phone("07700 900123")
    assert mobile is not None and mobile.is_mobile and mobile.key == "+447700900123"
    extension = normalise_phone("020 7123 4567 ext. 89")
    assert extension is not None and extension.key == "+442071234567;ext=89"
    american = normalise_phone("+1 212 555 0100")
    assert american is not None and american.key == "+12125550100"
    assert normalise_phone("call me") is None


def test_addresses_yield_a_standard_postcode_and_spelt_out_streets() -> None:
    address = normalise_address("102 Petty France Rd\nLondon\nsw1h9aj")
    assert address.postcode == "SW1H 9AJ"
    assert address.text == "102 petty france road london"


def test_role_abbreviations_are_spelt_out_and_skeletons_forgive_vowels() -> None:
    assert normalise_role("CCP") == normalise_role("Chief Crown Prosecutor")
    assert normalise_role("Ch Supt") == "chief superintendent"
    assert normalise_role("CEO") == normalise_role("Chief Exec")
    assert phonetic_key("smith") == phonetic_key("smyth") == phonetic_key("smiht")
