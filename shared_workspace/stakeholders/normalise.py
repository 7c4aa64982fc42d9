"""Normalising stakeholder fields, so that two spellings of one thing compare equal.

Every function here is pure and cheap: the matcher calls them once per entry, 100,000 times
for a large consolidation, so the common shapes take a fast path and the reference
libraries (``email-validator``, ``phonenumbers``) decide only what the fast path cannot.
The tables are short text blocks parsed at import, one row a line, so that adding an alias
is a one-line change that a reviewer can read.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Apostrophes join (O'Brien = OBrien), every other punctuation mark separates words.
_FOLD = {ord(c): " " for c in '!"#$%()*+,-./:;<=>?@[\\]^_{|}~\t\n\r'}
_FOLD.update({ord("'"): None, ord("`"): None, ord("\u2019"): None, ord("&"): " and "})


@lru_cache(maxsize=1 << 17)
def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces; accents and punctuation removed."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", ""))
        text = text.encode("ascii", "ignore").decode("ascii")
    return " ".join(text.lower().translate(_FOLD).split())


def _rows(table: str) -> list[list[str]]:
    """Table rows split on "|"; an indented line continues the row above."""
    lines: list[str] = []
    for line in table.strip("\n").splitlines():
        if line.startswith(" ") and lines:
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return [[cell.strip() for cell in line.split("|")] for line in lines]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --- Names -------------------------------------------------------------------------------

#: Titles, ranks and post-nominals that can sit in a name field but never identify anyone.
HONORIFICS = _words(
    """mr mrs ms miss mx dr doctor prof professor sir dame lord lady baroness baron rev revd
    reverend rt hon the cllr councillor dcc acc supt ch chsupt insp sgt det dci dsi dsupt pc
    ds di qc kc obe mbe cbe kbe dbe qpm cb cmg kcb phd msc ba bsc llb llm mba esq jr jnr sr
    snr jp dl frsa"""
)

# canonical: nicknames and other spellings of the same given name
_NICKNAMES = """
abigail: abby abbie gail
alexander: alex alec al sandy
alexandra: alex lexi sandra sandy
alfred: alf alfie
andrew: andy drew
anthony: tony ant
barbara: barb babs
benjamin: ben benny benji
catherine: cath cathy kate katie kay katherine kathryn
katherine: kath kathy kate katie kay kat catherine kathryn
charles: charlie chas chuck
charlotte: charlie lottie
christopher: chris kit
christine: chris chrissie tina
christina: chris tina
daniel: dan danny
david: dave davey
deborah: deb debbie debs
dorothy: dot dotty
edward: ed eddie ted ned
elizabeth: liz lizzie beth betty eliza libby bess
eleanor: ellie nell
frances: fran frankie
francis: frank fran frankie
frederick: fred freddie
gerald: gerry
gregory: greg
harold: harry hal
henry: harry hal
jacqueline: jackie jacqui
james: jim jimmy jamie
jennifer: jen jenny jennie
jessica: jess jessie
john: jack johnny jon
jonathan: jon jonny
joseph: joe joey
joanne: jo joanna
josephine: jo josie
judith: judy jude
kenneth: ken kenny
lawrence: larry laurie
leonard: len lenny
margaret: maggie meg peggy mags marge greta
matthew: matt matty
michael: mike mick mickey mikey
nicholas: nick nicky
nicola: nicky nikki
patricia: pat trish tricia
patrick: pat paddy
peter: pete
philip: phil pip phillip
rebecca: becky becca bex
richard: rich rick ricky dick
robert: bob bobby rob robbie bert
ronald: ron ronnie
samuel: sam sammy
samantha: sam sammy
stephen: steve stevie steven
susan: sue susie suzy
terence: terry tel
theodore: ted theo
thomas: tom tommy
timothy: tim timmy
victoria: vicky vikki tori
william: bill billy will willie liam
amanda: mandy
"""


def _parse_nicknames(table: str) -> dict[str, frozenset[str]]:
    canonicals: dict[str, set[str]] = {}
    for line in table.strip().splitlines():
        canonical, names = line.split(":")
        for name in names.split():
            canonicals.setdefault(name, set()).add(canonical.strip())
    return {name: frozenset(found) for name, found in canonicals.items()}


#: nickname -> the full given names it can stand for (Bob -> Robert; Chris -> three names).
NICKNAMES = _parse_nicknames(_NICKNAMES)

#: Given names known to be names (nickname table and common names), used to tell
#: ``john.press@`` (a person) from ``press.office@`` (a mailbox).
GIVEN_NAMES = frozenset(
    set(NICKNAMES)
    | {line.split(":")[0] for line in _NICKNAMES.strip().splitlines()}
    | _words(
        """adam adrian aisha alan alice alison amy andrea angela ann anne annie arthur ayesha
        brian carol caroline claire clare colin craig dawn dean denise derek diane donna emma
        fatima fiona gareth gary gavin geoffrey george gillian graham hannah helen hugh ian
        imran jane janet jason jean jill joan joyce julie karen keith kevin laura lee lesley
        linda lisa louise lucy mark martin mary maureen mohammed muhammad neil nigel norman
        olivia paul pauline priya rachel raj ravi rosemary ruth sally sarah sean sharon
        shirley simon sophie stuart tracey tracy trevor wendy yvonne zoe"""
    )
)


@lru_cache(maxsize=1 << 14)
def given_forms(given: str) -> frozenset[str]:
    """The folded given name plus every full name it is a nickname of (at most four)."""
    return frozenset({given} | NICKNAMES.get(given, frozenset())) if given else frozenset()


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name reduced to what identifies them."""

    #: First given name, folded ("" when the entry has only a title and a family name).
    given: str
    #: Every given name joined without spaces, to compare with a transposed family name.
    given_all: str
    #: Initials of the middle names, e.g. "a" for "Jane A. Smith".
    middle_initials: str
    #: Family name joined without spaces or punctuation: "obrien", "smithjones".
    family: str
    forms: frozenset[str]


def _name_tokens(text: str, keep_one: bool = True) -> list[str]:
    tokens = fold(text).split()
    kept = [token for token in tokens if token not in HONORIFICS]
    # A family name such as "Lord" is rare but real: never strip a family name to nothing.
    return kept or (tokens if keep_one else [])


@lru_cache(maxsize=1 << 17)
def parse_name(given: str, family: str) -> PersonName:
    """Parse a name's fields, tolerating titles, post-nominals, a whole name in one field
    ("SMITH, Jane", "SMITH Jane", "Jane Smith") and initials ("J. A.")."""
    given_tokens = _name_tokens(given, keep_one=False)
    family_tokens = _name_tokens(family)
    if not given_tokens or not family_tokens:
        whole = family if family_tokens else given
        given_tokens, family_tokens = _split_whole_name(whole)
    first = given_tokens[0] if given_tokens else ""
    return PersonName(
        given=first,
        given_all="".join(given_tokens),
        middle_initials="".join(token[0] for token in given_tokens[1:]),
        family="".join(family_tokens),
        forms=given_forms(first),
    )


def _split_whole_name(whole: str) -> tuple[list[str], list[str]]:
    if "," in whole:
        family, _, given = whole.partition(",")
        return _name_tokens(given), _name_tokens(family)
    tokens = _name_tokens(whole)
    if len(tokens) < 2:
        return [], tokens
    raw = [word for word in whole.split() if fold(word) and fold(word) not in HONORIFICS]
    # Official lists write the family name first in capitals: "SMITH Jane" (not "J. Smith").
    if raw and len(fold(raw[0])) > 1 and raw[0].isupper() and not all(w.isupper() for w in raw):
        return tokens[1:], tokens[:1]
    return tokens[:-1], tokens[-1:]


_VOWELISH = str.maketrans("", "", "aeiouhwy")


@lru_cache(maxsize=1 << 16)
def phonetic_key(word: str) -> str:
    """First letter and the consonant skeleton of a folded word: smith, smyth, smiht -> smt."""
    if not word:
        return ""
    skeleton = word[0] + word[1:].translate(_VOWELISH)
    return "".join(c for k, c in enumerate(skeleton) if k == 0 or c != skeleton[k - 1])


# --- Organisations -----------------------------------------------------------------------

# key[<parent] | display name | other aliases, ";"-separated (the display name is one too)
_ORGANISATIONS = """
moj | Ministry of Justice | moj; the ministry of justice; justice ministry
hmpps<moj | HM Prison and Probation Service | hmpps; hm prisons and probation service;
    prison and probation service; noms; national offender management service
probation<hmpps | The Probation Service | probation service; national probation service; nps;
    hm probation service
cps<ago | Crown Prosecution Service | cps; cps headquarters; cps hq;
    crown prosecution service headquarters
ago | Attorney General's Office | ago; attorney generals office; office of the attorney general
home office | Home Office | ho; uk home office
npcc | National Police Chiefs' Council | npcc; national police chiefs council
yjb<moj | Youth Justice Board | yjb; youth justice board for england and wales;
    yjb for england and wales
hmcts<moj | HM Courts and Tribunals Service | hmcts; hm courts service; courts and tribunals service
laa<moj | Legal Aid Agency | laa
parole board | Parole Board | parole board for england and wales; the parole board
ccrc | Criminal Cases Review Commission | ccrc
sfo | Serious Fraud Office | sfo
nca | National Crime Agency | nca
college of policing | College of Policing | cop; the college of policing
iopc | Independent Office for Police Conduct | iopc; ipcc; independent police complaints commission
apcc | Association of Police and Crime Commissioners | apcc
victims commissioner | Victims' Commissioner | victims commissioner for england and wales;
    office of the victims commissioner; ovc
sentencing council | Sentencing Council | sentencing council for england and wales
hmcpsi | HM Crown Prosecution Service Inspectorate | hmcpsi; crown prosecution service inspectorate
hmicfrs | HM Inspectorate of Constabulary and Fire and Rescue Services | hmicfrs; hmic;
    hm inspectorate of constabulary
hmi probation | HM Inspectorate of Probation | hmi probation; inspectorate of probation
hmi prisons | HM Inspectorate of Prisons | hmi prisons; inspectorate of prisons
nhs england | NHS England | nhse; nhs england and nhs improvement
lga | Local Government Association | lga
welsh government | Welsh Government | llywodraeth cymru
law society | Law Society | the law society of england and wales
bar council | Bar Council | the general council of the bar
magistrates association | Magistrates' Association | the magistrates association
judicial college | Judicial College |
prison reform trust | Prison Reform Trust | prt
howard league | Howard League for Penal Reform | the howard league; howard league
nacro | Nacro | national association for the care and resettlement of offenders
clinks | Clinks |
victim support | Victim Support |
women in prison | Women in Prison | wip
st giles trust | St Giles Trust | st giles
catch22 | Catch22 | catch 22
revolving doors | Revolving Doors | revolving doors agency
"""

# place key | display name | other aliases ("<place> police", "... constabulary" are implied)
_POLICE_FORCES = """
metropolitan | Metropolitan Police Service | met; mps; met police; the met; metropolitan police;
    new scotland yard
city of london | City of London Police | colp
greater manchester | Greater Manchester Police | gmp
west midlands | West Midlands Police | wmp
west yorkshire | West Yorkshire Police | wyp
south yorkshire | South Yorkshire Police | syp
north yorkshire | North Yorkshire Police | nyp
thames valley | Thames Valley Police | tvp
avon and somerset | Avon and Somerset Police | avon and somerset constabulary; asp;
    avon somerset police
devon and cornwall | Devon and Cornwall Police | devon cornwall police; dcp
hampshire | Hampshire and Isle of Wight Constabulary | hampshire constabulary; hampshire police;
    hiow constabulary
merseyside | Merseyside Police |
lancashire | Lancashire Constabulary |
kent | Kent Police |
essex | Essex Police |
sussex | Sussex Police |
surrey | Surrey Police |
northumbria | Northumbria Police |
durham | Durham Constabulary |
cleveland | Cleveland Police |
humberside | Humberside Police |
cumbria | Cumbria Constabulary |
cheshire | Cheshire Constabulary |
derbyshire | Derbyshire Constabulary |
nottinghamshire | Nottinghamshire Police | notts police
leicestershire | Leicestershire Police | leics police
lincolnshire | Lincolnshire Police | lincs police
northamptonshire | Northamptonshire Police | northants police
warwickshire | Warwickshire Police |
west mercia | West Mercia Police |
staffordshire | Staffordshire Police | staffs police
bedfordshire | Bedfordshire Police | beds police
cambridgeshire | Cambridgeshire Constabulary | cambs police
hertfordshire | Hertfordshire Constabulary | herts police
norfolk | Norfolk Constabulary |
suffolk | Suffolk Constabulary |
gloucestershire | Gloucestershire Constabulary | glos police
wiltshire | Wiltshire Police |
dorset | Dorset Police |
dyfed powys | Dyfed-Powys Police |
gwent | Gwent Police |
north wales | North Wales Police |
south wales | South Wales Police |
british transport | British Transport Police | btp
ministry of defence | Ministry of Defence Police | mdp; mod police
civil nuclear | Civil Nuclear Constabulary | cnc
"""

# area key | display name | other spellings of the area
_CPS_AREAS = """
cymru wales | CPS Cymru-Wales | wales; cymru; wales cymru
east midlands | CPS East Midlands |
east of england | CPS East of England | eastern; east england
london north | CPS London North | north london
london south | CPS London South | south london
mersey cheshire | CPS Mersey-Cheshire | merseyside cheshire; merseyside and cheshire;
    mersey and cheshire
north east | CPS North East |
north west | CPS North West |
south east | CPS South East |
south west | CPS South West |
thames and chiltern | CPS Thames and Chiltern | thames chiltern
wessex | CPS Wessex |
west midlands | CPS West Midlands |
yorkshire and humberside | CPS Yorkshire and Humberside | yorkshire humberside;
    yorkshire and the humber
"""

# region key | display name
_PROBATION_REGIONS = """
london | Probation Service London
north west | Probation Service North West
north east | Probation Service North East
yorkshire and the humber | Probation Service Yorkshire and the Humber
east midlands | Probation Service East Midlands
west midlands | Probation Service West Midlands
east of england | Probation Service East of England
kent surrey and sussex | Probation Service Kent, Surrey and Sussex
south west | Probation Service South West
south central | Probation Service South Central
wales | Probation Service Wales
greater manchester | Probation Service Greater Manchester
"""

#: Display names by key, for every organisation the tables know (the generator uses them).
ORGANISATION_NAMES: dict[str, str] = {}
#: Aliases (as ``fold_organisation`` returns them) by key, display name included.
ORGANISATION_ALIASES: dict[str, list[str]] = {}
_ALIAS_TO_KEY: dict[str, str] = {}
_PARENT: dict[str, str] = {}


def _hm(text: str) -> str:
    return re.sub(r"\b(?:his|her) majestys\b|\bh m\b", "hm", text)


@lru_cache(maxsize=1 << 14)
def fold_organisation(text: str) -> str:
    """An organisation name folded, with "His Majesty's" as "HM" and no leading "the"."""
    folded = _hm(fold(text))
    return folded[4:] if folded.startswith("the ") else folded


def _register(key: str, display: str, aliases: list[str], parent: str = "") -> None:
    ORGANISATION_NAMES[key] = display
    folded = list(dict.fromkeys(fold_organisation(a) for a in [display, *aliases] if a))
    ORGANISATION_ALIASES[key] = folded
    for alias in folded:
        _ALIAS_TO_KEY.setdefault(alias, key)
    if parent:
        _PARENT[key] = parent


def _build_organisations() -> None:
    for key_parent, display, aliases in _rows(_ORGANISATIONS):
        key, _, parent = key_parent.partition("<")
        _register(key, display, [a for a in aliases.split(";") if a.strip()], parent)
    for place, display, aliases in _rows(_POLICE_FORCES):
        implied = [f"{place} {kind}" for kind in ("police", "constabulary", "police force")]
        _register(f"police:{place}", display, [*implied, *aliases.split(";")])
    for area, display, spellings in _rows(_CPS_AREAS):
        names = [area, *(s for s in spellings.split(";") if s.strip())]
        aliases = [
            form.format(fold(name))
            for name in names
            for form in ("cps {}", "crown prosecution service {}", "{} cps", "cps {} area")
        ]
        _register(f"cps:{area}", display, aliases, "cps")
    for region, display in _rows(_PROBATION_REGIONS):
        aliases = [f"{region} probation", f"{region} probation region", f"nps {region}"]
        _register(f"probation:{region}", display, aliases, "probation")


_build_organisations()

# (pattern, kind, parent, the alias form to look the captured place up under)
_GENERIC_ORGANISATIONS = (
    (
        re.compile(r"^(?:hmp and yoi|hmp yoi|hmp|hm prison and yoi|hm prison|hmyoi|hm yoi) (.+)$"),
        "prison",
        "hmpps",
        "",
    ),
    (re.compile(r"^(.+) prison$"), "prison", "hmpps", ""),
    (
        re.compile(
            r"^(?:office of the )?(?:police fire and crime commissioner|police and crime "
            r"commissioner|opcc|pcc|pfcc|opfcc) (?:for )?(?:the )?(.+)$"
        ),
        "opcc",
        "",
        "{} police",
    ),
    (
        re.compile(r"^(.+) (?:opcc|pcc|(?:office of the )?police and crime commissioner)$"),
        "opcc",
        "",
        "{} police",
    ),
    (
        re.compile(r"^(?:cps|crown prosecution service) (?:area )?(.+?)(?: area)?$"),
        "cps",
        "cps",
        "cps {}",
    ),
    (re.compile(r"^(.+?) (?:police|constabulary)(?: force| service)?$"), "police", "", "{} police"),
)
_ORGANISATION_NOISE = frozenset({"the", "of", "and", "for", "ltd", "limited", "plc"})
#: Abbreviations spelt out in free-text organisation names (not in the tables above).
_ORGANISATION_WORDS = {
    "rehab": "rehabilitation",
    "yjs": "youth justice service",
    "yot": "youth offending team",
    "dept": "department",
    "assoc": "association",
    "cttee": "committee",
    "ctr": "centre",
    "center": "centre",
    "svc": "service",
    "svcs": "services",
    "lb": "london borough",
}


@dataclass(frozen=True, slots=True)
class Organisation:
    """An organisation name reduced to a key that all its spellings share."""

    #: "cps:london north", "police:kent", "prison:brixton", "moj"; "org:<words>" for free text.
    key: str
    #: Parent organisations, nearest first: HMP Brixton -> ("hmpps", "moj").
    ancestors: tuple[str, ...]
    #: True when a table or a pattern recognised it, False for free text.
    known: bool


@lru_cache(maxsize=1 << 14)
def normalise_organisation(text: str) -> Organisation | None:
    """The organisation's key: aliases and abbreviations (MoJ, HMPPS, CPS London North,
    Met/MPS, HMP Brixton, Kent OPCC) share one key; None for an empty field."""
    folded = fold_organisation(text)
    if not folded:
        return None
    key = _ALIAS_TO_KEY.get(folded)
    if key is not None:
        return Organisation(key, _ancestors(key), True)
    for pattern, kind, parent, alias_form in _GENERIC_ORGANISATIONS:
        match = pattern.match(folded)
        if match:
            place = fold_organisation(match.group(1))
            known = _ALIAS_TO_KEY.get(alias_form.format(place), "") if alias_form else ""
            # "CPS Area Wessex" is CPS Wessex, "Kent OPCC" takes Kent Police's place key.
            if known.startswith(f"{kind}:"):
                return Organisation(known, _ancestors(known), True)
            if known.startswith("police:"):
                place = known.removeprefix("police:")
            ancestors = (parent, *_ancestors(parent)) if parent else ()
            return Organisation(f"{kind}:{place}", ancestors, True)
    words = [
        _ORGANISATION_WORDS.get(word, word)
        for word in folded.split()
        if word not in _ORGANISATION_NOISE
    ]
    return Organisation(f"org:{' '.join(words) or folded}", (), False)


def _ancestors(key: str) -> tuple[str, ...]:
    found = []
    while key in _PARENT and len(found) < 4:
        key = _PARENT[key]
        found.append(key)
    return tuple(found)


# --- Roles -------------------------------------------------------------------------------

_ROLE_ABBREVIATIONS = {
    "ccp": "chief crown prosecutor",
    "dccp": "deputy chief crown prosecutor",
    "cc": "chief constable",
    "dcc": "deputy chief constable",
    "acc": "assistant chief constable",
    "ceo": "chief executive",
    "exec": "executive",
    "dir": "director",
    "dep": "deputy",
    "asst": "assistant",
    "snr": "senior",
    "sr": "senior",
    "mgr": "manager",
    "hd": "head",
    "pcc": "police and crime commissioner",
    "supt": "superintendent",
    "ch": "chief",
    "insp": "inspector",
    "det": "detective",
    "gov": "governor",
    "spo": "senior probation officer",
    "comms": "communications",
    "pa": "personal assistant",
}


@lru_cache(maxsize=1 << 14)
def normalise_role(text: str) -> str:
    """A job title folded, with its common abbreviations spelt out (CCP, DCC, CEO, Supt)."""
    return " ".join(_ROLE_ABBREVIATIONS.get(word, word) for word in fold(text).split())


# --- Email addresses ---------------------------------------------------------------------

_SIMPLE_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
#: Domains whose mailboxes ignore dots in the local part (Gmail's rule).
DOT_INSENSITIVE_DOMAINS = frozenset({"gmail.com"})
#: Personal mailbox providers: their domain says nothing about a person's organisation.
WEBMAIL_DOMAINS = _words(
    """gmail.com outlook.com hotmail.com hotmail.co.uk live.com live.co.uk msn.com yahoo.com
    yahoo.co.uk icloud.com me.com aol.com btinternet.com sky.com virginmedia.com
    talktalk.net ntlworld.com protonmail.com proton.me"""
)
_DOMAIN_ALIASES = {"googlemail.com": "gmail.com"}
#: Labels of the retired government secure networks: cps.gsi.gov.uk is cps.gov.uk,
#: kent.pnn.police.uk is kent.police.uk.
_LEGACY_LABELS = frozenset({"gsi", "gsx", "gse", "gcsx", "pnn"})
#: Words that make a local part a shared or job-title mailbox rather than one person's.
ROLE_WORDS = _words(
    """info information enquiries enquiry press media office admin administration
    correspondence contact contactus hello mail post reception secretariat team general
    communications comms foi dpo complaints helpdesk support noreply mailbox inbox business
    unit hub desk private executive chief governor director commissioner ceo clerk secretary
    chair chairman chairperson casework intelligence operations hq headquarters department
    partnerships safeguarding policy stakeholder stakeholders engagement liaison events news
    feedback diary pa group board services centre national regional area deputy"""
)
_ROLE_STEMS = (
    "enquiries",
    "enquiry",
    "correspondence",
    "secretariat",
    "mailbox",
    "helpdesk",
    "reception",
    "pressoffice",
    "communications",
    "governor",
    "commissioner",
    "chiefexecutive",
    "chiefconstable",
    "noreply",
)


@dataclass(frozen=True, slots=True)
class EmailAddress:
    """An email address in the form that compares equal for one mailbox."""

    #: local@domain after the domain's rules: lower case, no plus-tag, Gmail without dots.
    key: str
    local: str
    domain: str
    #: A shared or job-title mailbox (press.office@, governor.brixton@), not one person's.
    is_role: bool

    @property
    def is_webmail(self) -> bool:
        """A personal provider (Gmail, Outlook...), whose domain names no organisation."""
        return self.domain in WEBMAIL_DOMAINS


@lru_cache(maxsize=1 << 17)
def normalise_email(text: str) -> EmailAddress | None:
    """The mailbox an address reaches (case, plus-tags, Gmail dots, retired gsi/pnn/cjsm
    domains folded away); None when the text is not an email address."""
    address = text.strip().strip("<>").lower().removeprefix("mailto:").strip()
    if not _SIMPLE_EMAIL.match(address):
        try:
            address = validate_email(address, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            return None
    local, _, domain = address.rpartition("@")
    domain = _DOMAIN_ALIASES.get(domain, domain).removesuffix(".cjsm.net")
    if domain.endswith((".gov.uk", ".police.uk", ".nhs.uk", ".nhs.net")):
        domain = ".".join(label for label in domain.split(".") if label not in _LEGACY_LABELS)
    local = local.partition("+")[0] or local
    if domain in DOT_INSENSITIVE_DOMAINS:
        local = local.replace(".", "")
    return EmailAddress(f"{local}@{domain}", local, domain, is_role_mailbox(local))


@lru_cache(maxsize=1 << 14)
def is_role_mailbox(local: str) -> bool:
    """True for a shared or job-title mailbox's local part (info, press.office,
    governor.brixton, londonnorth.enquiries) and False for a person's (john.press, j.smith)."""
    tokens = [token for token in re.split(r"[^a-z]+", local.lower()) if token]
    if not tokens:
        return False
    joined = "".join(tokens)
    if joined.startswith(_ROLE_STEMS) or joined.endswith(_ROLE_STEMS):
        return True
    if not any(token in ROLE_WORDS for token in tokens):
        return False
    # "john.press" and "j.press" are people whose family name happens to be a role word.
    first, last = tokens[0], tokens[-1]
    return not (len(tokens) == 2 and (first in GIVEN_NAMES or len(first) == 1) and last != first)


# --- Phone numbers -----------------------------------------------------------------------

_EXTENSION = re.compile(r"(?:ext\.?|extension|x|#)\s*(\d{1,6})\s*$", re.IGNORECASE)
_NON_DIGITS = re.compile(r"\D")
_MOBILE_PREFIXES = ("71", "72", "73", "74", "75", "77", "78", "79")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A phone number in E.164, with the extension when one was given."""

    key: str
    is_mobile: bool


@lru_cache(maxsize=1 << 16)
def normalise_phone(text: str) -> PhoneNumber | None:
    """The number in E.164 (UK by default) whatever its spacing, brackets, +44 or (0);
    None when it is not a possible phone number."""
    extension = ""
    match = _EXTENSION.search(text)
    if match:
        extension, text = match.group(1), text[: match.start()]
    national = _uk_national(text)
    if national is not None:
        key, mobile = f"+44{national}", national.startswith(_MOBILE_PREFIXES)
    else:
        # Anything but the plain UK shapes goes to the reference library.
        try:
            number = phonenumbers.parse(text, "GB")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_possible_number(number):
            return None
        key = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
    return PhoneNumber(f"{key};ext={extension}" if extension else key, mobile)


def _uk_national(text: str) -> str | None:
    stripped = text.strip()
    digits = _NON_DIGITS.sub("", stripped.replace("(0)", ""))
    if stripped.startswith("+"):
        if not digits.startswith("44"):
            return None
        digits = digits[2:]
    elif digits.startswith("0044"):
        digits = digits[4:]
    elif digits.startswith("0"):
        digits = digits[1:]
    else:
        return None
    digits = digits.removeprefix("0")
    if len(digits) == 10 and digits[0] in "1237":
        return digits
    return None


# --- Postal addresses --------------------------------------------------------------------

_POSTCODE = re.compile(r"\b([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})\b")
_ADDRESS_ABBREVIATIONS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "ln": "lane",
    "sq": "square",
    "hse": "house",
    "bldg": "building",
    "pl": "place",
    "ct": "court",
    "cres": "crescent",
    "dr": "drive",
    "gdns": "gardens",
}


@dataclass(frozen=True, slots=True)
class PostalAddress:
    #: "SW1H 9AJ", or "" when the address has no UK postcode.
    postcode: str
    #: The rest, folded, with street abbreviations spelt out.
    text: str


@lru_cache(maxsize=1 << 16)
def normalise_address(text: str) -> PostalAddress:
    """The UK postcode in its standard spacing and the rest of the address folded."""
    upper = text.upper()
    match = _POSTCODE.search(upper)
    postcode = f"{match.group(1)} {match.group(2)}" if match else ""
    rest = upper[: match.start()] + upper[match.end() :] if match else upper
    words = (_ADDRESS_ABBREVIATIONS.get(word, word) for word in fold(rest).split())
    return PostalAddress(postcode, " ".join(words))
