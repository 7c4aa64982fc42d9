"""Deterministic, labelled stakeholder lists for tests and benchmarks.

``generate(n, seed=...)`` returns ``n`` entries spread over the four inspectorates' lists,
each labelled with the stakeholder it truly is and the variations applied to it. One
stakeholder (a person, a post such as "Governor, HMP Brixton", or an organisation) appears
on one to four lists, sometimes twice on one, each time written differently: case,
spacing, punctuation, titles, initials, nicknames, transposed names, typos, email aliases
(case, plus-tags, Gmail dots, retired gsi/pnn/cjsm domains), organisation aliases and
abbreviations, job-title variants, phone and address formats, missing fields.

Hard negatives are generated on purpose: namesakes (same name, different organisation and
email), family members (same family name, home address and phone), colleagues with the same
family name, people listed only with a shared mailbox, and a post's mailbox used by its
current and its previous holder. Same seed, same output, whatever the hash seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from shared_workspace.stakeholders import normalise as norm
from shared_workspace.stakeholders.matching import Consolidation, Entry

TENANTS = ("hmcpsi", "hmicfrs", "hmi-probation", "hmi-prisons")


def _words(text: str) -> list[str]:
    return text.split()


_MALE = _words("""robert william james michael david john richard thomas christopher daniel matthew
andrew anthony stephen peter paul mark simon ian gary kevin neil stuart graham martin edward
alexander benjamin samuel patrick philip timothy gregory kenneth lawrence frederick henry
charles jonathan nicholas joseph adam imran mohammed raj ravi sanjay arjun kwame tariq yusuf
gareth rhys owen dylan callum liam connor hugh nigel trevor colin derek barry keith""")
_FEMALE = _words("""elizabeth margaret catherine katherine susan jennifer patricia rebecca victoria
deborah joanne samantha jessica christine nicola alexandra frances jacqueline judith amanda
sarah helen claire emma rachel laura louise fiona karen julie alison priya aisha fatima ngozi
siobhan niamh bethan cerys gemma hayley kirsty leanne nadia yasmin zara ruth hannah lucy
sophie charlotte eleanor abigail dorothy barbara""")
_FAMILY = _words("""smith jones williams taylor brown davies evans wilson thomas johnson roberts
robinson thompson wright walker white edwards hughes green hall lewis harris clarke patel
jackson wood turner martin cooper hill ward morris moore clark lee king baker harrison
morgan allen james scott phillips watson davis parker price bennett young griffiths mitchell
kelly cook carter richardson bailey collins bell shaw murphy miller cox richards khan
marshall anderson simpson ellis adams singh begum wilkinson foster chapman powell webb rogers
gray mason ali hunt hussain campbell matthews owen palmer holmes mills barnes knight lloyd
butler russell barker fisher stevens jenkins dixon fletcher howard reynolds ahmed okafor
adeyemi mensah chowdhury rahman nguyen chen kaur shah""")
_SPECIAL_FAMILY = ["O'Brien", "O'Connor", "O'Neill", "McDonald", "MacLeod", "Smith-Jones",
                   "Lloyd-Davies", "Van der Berg", "D'Souza", "Fitzgerald", "St John",
                   "Ap Rhys", "Ward-Thomas", "McCarthy", "O'Sullivan"]  # fmt: skip
_PREFIXES = _words("""ash black brad brook clay cran dun east fair green hart hazel holl lang
mar mill north oak pen red ridge rock rose shel stan thorn under wake west whit wind alder
barn beck birch bram bur church cold crow dal elm fern fox gold hal haw heath kings lind
long moss nether pease rad rush sand sher stock thorn wal wick wood""")
_SUFFIXES = _words("""wood ford ley ton field worth ham by well stone bridge more cott dale
hurst wick thwaite combe den hill shaw stead thorpe croft gate land mere brook""")
_PLACES = _words("""Leeds Bradford Sheffield Manchester Liverpool Birmingham Coventry Leicester
Nottingham Derby Bristol Plymouth Exeter Norwich Ipswich Cambridge Oxford Reading Swindon
Southampton Portsmouth Brighton Canterbury Maidstone Chelmsford Luton Northampton Peterborough
Lincoln Hull York Durham Sunderland Newcastle Carlisle Preston Blackpool Bolton Wigan Stoke
Wolverhampton Worcester Hereford Gloucester Bath Taunton Truro Cardiff Swansea Newport Wrexham
Bangor Lambeth Southwark Hackney Croydon Barnet Ealing Camden Islington Lewisham""")
_PRISONS = _words("""Brixton Pentonville Wandsworth Belmarsh Manchester Liverpool Leeds Durham
Birmingham Bristol Cardiff Swansea Styal Bronzefield Wakefield Frankland Whitemoor Woodhill
Thameside Berwyn Oakwood Altcourse Doncaster Lewes Exeter Winchester Norwich Nottingham
Leicester Lincoln Hull Preston Chelmsford Elmley Swaleside Feltham Wetherby Isis""")
_STREETS = _words("High Church Station Victoria Queen King Park Mill London Castle Bridge New")
_STREET_KINDS = [("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln")]

#: Job titles by kind of organisation; the first is the post with its own mailbox.
_ROLES = {
    "police": ["Chief Constable", "Deputy Chief Constable", "Assistant Chief Constable",
               "Chief Superintendent", "Superintendent", "Head of Public Protection",
               "Head of Criminal Justice", "Force Crime Registrar", "Staff Officer"],
    "cps": ["Chief Crown Prosecutor", "Deputy Chief Crown Prosecutor", "Area Business Manager",
            "Senior Crown Prosecutor", "Unit Head", "Victim Liaison Manager"],
    "prison": ["Governor", "Deputy Governor", "Head of Safer Custody", "Head of Healthcare",
               "Head of Reducing Reoffending", "Custodial Manager"],
    "probation": ["Regional Probation Director", "Head of Probation Delivery Unit",
                  "Senior Probation Officer", "Probation Officer"],
    "central": ["Chief Executive", "Director", "Deputy Director", "Head of Policy",
                "Policy Adviser", "Private Secretary"],
    "local": ["Chief Executive", "Director of Children's Services", "Head of Youth Justice",
              "Community Safety Manager"],
    "charity": ["Chief Executive", "Director of Policy", "Policy Officer",
                "Head of Communications", "Trustee"],
}  # fmt: skip
_ROLE_ABBREVIATIONS = [("Chief Crown Prosecutor", "CCP"), ("Deputy Chief Constable", "DCC"),
                       ("Assistant Chief Constable", "ACC"), ("Chief Constable", "CC"),
                       ("Chief Executive", "CEO"), ("Chief Executive", "Chief Exec"),
                       ("Superintendent", "Supt"), ("Chief ", "Ch "), ("Senior", "Snr"),
                       ("Director", "Dir"), ("Deputy", "Dep"), ("Governor", "Gov")]  # fmt: skip
_CATEGORIES = {
    "police": ["Police", "Policing", "Law enforcement"],
    "cps": ["Prosecution", "CPS", "Criminal justice partner"],
    "prison": ["Prisons", "Custody", "HMPPS"],
    "probation": ["Probation", "HMPPS", "Offender management"],
    "central": ["Government", "Central government", "Department"],
    "local": ["Local government", "Local authority", "Council"],
    "charity": ["Voluntary sector", "Third sector", "Charity"],
}
_TITLES = {"m": ["Mr", "Dr", "Prof", "Sir"], "f": ["Mrs", "Ms", "Miss", "Dr", "Dame"]}
_HONOURS = ["OBE", "MBE", "CBE", "QPM", "KC"]
_CANONICAL_NICKNAMES: dict[str, list[str]] = {}
for _nick, _canonicals in sorted(norm.NICKNAMES.items()):
    for _canonical in sorted(_canonicals):
        _CANONICAL_NICKNAMES.setdefault(_canonical, []).append(_nick)


@dataclass(frozen=True, slots=True)
class Labelled:
    """An entry with the truth about it."""

    entry: Entry
    #: Entries with the same value are one stakeholder.
    stakeholder: str
    variations: tuple[str, ...]


@dataclass(frozen=True)
class Rates:
    """How often each variation is applied to one appearance of a stakeholder."""

    nickname: float = 0.12
    initial: float = 0.07
    typo: float = 0.05
    transposed: float = 0.03
    whole_name_in_one_field: float = 0.03
    upper_family: float = 0.15
    lower_case: float = 0.05
    email_missing: float = 0.10
    email_case: float = 0.20
    plus_tag: float = 0.04
    legacy_domain: float = 0.08
    org_alias: float = 0.5
    org_missing: float = 0.05
    org_parent: float = 0.04
    role_missing: float = 0.15
    duplicate_on_one_list: float = 0.03


@dataclass
class _Org:
    key: str
    names: list[str]
    kind: str
    domain: str
    local: str
    parent: str = ""
    switchboard: str = ""
    address: tuple[str, str, str] = ("", "", "")
    weight: float = 1.0


@dataclass
class _Person:
    truth: str
    gender: str
    given: str
    middle: str
    family: str
    org: _Org
    role: str
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    address: tuple[str, str, str] = ("", "", "")
    honours: str = ""
    kind: str = "person"


@dataclass(frozen=True)
class Accuracy:
    """Pairwise accuracy of a consolidation against the truth."""

    true_pairs: int
    auto_pairs: int
    review_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    f1: float
    #: Review pairs as a share of all predicted pairs (auto merges plus review).
    review_share: float
    review_items: int
    missed_by_variation: dict[str, int]
    pairs_by_variation: dict[str, int]


def generate(n_entries: int, *, seed: int = 0, rates: Rates | None = None) -> list[Labelled]:
    """Exactly ``n_entries`` labelled entries over the four lists; the same for a seed."""
    return _Generator(random.Random(seed), rates or Rates()).run(n_entries)


def pair_accuracy(labelled: Sequence[Labelled], predicted: set[tuple[int, int]]) -> Accuracy:
    """Accuracy of predicted pairs of entry positions (as a pairwise linker returns them)."""
    truth = [item.stakeholder for item in labelled]
    true_pairs = sum(c * (c - 1) // 2 for c in Counter(truth).values())
    correct = sum(truth[i] == truth[j] for i, j in predicted)
    return _accuracy(true_pairs, len(predicted), 0, correct, 0, {}, {})


def evaluate(labelled: Sequence[Labelled], result: Consolidation) -> Accuracy:
    """Pairwise accuracy of automatic merges plus the review queue, where a review item
    stands for every pair across its two clusters (what confirming it would merge)."""
    position = {item.entry.key: k for k, item in enumerate(labelled)}
    truth = [item.stakeholder for item in labelled]
    cluster_of = {}
    counts = []
    auto = correct = 0
    for c, cluster in enumerate(result.clusters):
        members = [position[key] for key in cluster.sources]
        counts.append(Counter(truth[k] for k in members))
        for k in members:
            cluster_of[k] = c
        auto += len(members) * (len(members) - 1) // 2
        correct += sum(v * (v - 1) // 2 for v in counts[-1].values())
    review = 0
    linked = set()
    for match in result.review:
        a, b = cluster_of[position[match.left]], cluster_of[position[match.right]]
        linked.add((min(a, b), max(a, b)))
        review += sum(counts[a].values()) * sum(counts[b].values())
        correct += sum(v * counts[b][t] for t, v in counts[a].items())
    groups: dict[str, list[int]] = {}
    for k, t in enumerate(truth):
        groups.setdefault(t, []).append(k)
    missed: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    true_pairs = 0
    for members in groups.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                true_pairs += 1
                a, b = sorted((cluster_of[i], cluster_of[j]))
                found = a == b or (a, b) in linked
                tags = set(labelled[i].variations) | set(labelled[j].variations)
                for tag in tags:
                    seen[tag] += 1
                    missed[tag] += not found
    return _accuracy(true_pairs, auto, review, correct, len(result.review), missed, seen)


def _accuracy(
    true_pairs: int,
    auto: int,
    review: int,
    correct: int,
    items: int,
    missed: Counter[str] | dict[str, int],
    seen: Counter[str] | dict[str, int],
) -> Accuracy:
    predicted = auto + review
    precision = correct / predicted if predicted else 1.0
    recall = correct / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    share = review / predicted if predicted else 0.0
    return Accuracy(
        true_pairs, auto, review, correct, precision, recall, f1, share, items,
        {k: v for k, v in sorted(missed.items()) if v}, dict(sorted(seen.items())),
    )  # fmt: skip


class _Generator:
    def __init__(self, rng: random.Random, rates: Rates) -> None:
        self.rng, self.rates = rng, rates
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()
        self.orgs = self._organisations()
        self.org_weights = [org.weight for org in self.orgs]
        tail = sorted({p + s for p in _PREFIXES for s in _SUFFIXES})
        self.family_pool = [*(name.title() for name in _FAMILY), *_SPECIAL_FAMILY, *tail]
        # A Zipf-like head (Smith about 1.4% of people, as in the UK) and a long flat tail.
        head = [1 / (rank + 1) ** 0.5 for rank in range(len(_FAMILY) + len(_SPECIAL_FAMILY))]
        self.family_weights = head + [sum(head) * 7 / 3 / len(tail)] * len(tail)

    # --- the world: organisations, people, posts --------------------------------------

    def _organisations(self) -> list[_Org]:
        orgs = []
        for key, aliases in norm.ORGANISATION_ALIASES.items():
            names = [norm.ORGANISATION_NAMES[key], *(_title(a) for a in aliases[1:])]
            kind, domain, local, weight = "central", "", "enquiries", 1.0
            place = key.partition(":")[2]
            slug = place.replace(" ", "")
            if key.startswith("police:"):
                kind, weight = "police", 6.0
                domain = {"metropolitan": "met.police.uk"}.get(place, f"{slug}.police.uk")
            elif key.startswith("cps:"):
                kind, domain, local, weight = "cps", "cps.gov.uk", f"{slug}.enquiries", 5.0
            elif key.startswith("probation:"):
                kind, domain, local, weight = "probation", "justice.gov.uk", f"{slug}.pdu", 3.0
            elif key in ("moj", "hmpps", "probation", "hmcts", "laa"):
                domain, weight = "justice.gov.uk", 3.0
            else:
                domain = f"{key.replace(' ', '')}.{'org.uk' if len(key) > 5 else 'gov.uk'}"
            orgs.append(_Org(key, names, kind, domain, local, weight=weight))
        for prison in _PRISONS:
            names = [f"HMP {prison}", f"HM Prison {prison}", f"{prison} Prison"]
            local = f"{prison.lower()}.enquiries"
            orgs.append(_Org(f"prison:{prison.lower()}", names, "prison", "justice.gov.uk",
                             local, parent="HMPPS", weight=3.0))  # fmt: skip
        for place in _PLACES:
            slug = place.lower()
            for kind, names, domain, local in (
                ("local", [f"{place} City Council", f"{place} Council"], f"{slug}.gov.uk", "info"),
                ("local", [f"{place} Youth Justice Service", f"{place} YJS"], f"{slug}.gov.uk",
                 "youthjustice"),
                ("charity", [f"{place} Women's Centre", f"{place} Womens Centre"],
                 f"{slug}womenscentre.org.uk", "info"),
                ("charity", [f"{place} Community Rehabilitation Trust",
                             f"{place} Community Rehab Trust"], f"{slug}crt.org.uk", "info"),
            ):  # fmt: skip
                orgs.append(_Org(f"free:{names[0]}", names, kind, domain, local, weight=0.5))
        for org in orgs:
            if org.key.startswith("cps:"):
                org.parent = "CPS"
            org.switchboard = self._landline()
            org.address = self._address()
        return orgs

    def _landline(self) -> str:
        while True:
            number = (
                f"20{self.rng.choice('37')}{self.rng.randrange(10**7):07d}"
                if self.rng.random() < 0.3
                else f"1{self.rng.randrange(100, 999)}{self.rng.randrange(10**6):06d}"
            )
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def _mobile(self) -> str:
        while True:
            number = f"7{self.rng.choice('4579')}{self.rng.randrange(10**8):08d}"
            if number not in self.used_phones:
                self.used_phones.add(number)
                return number

    def _address(self) -> tuple[str, str, str]:
        rng = self.rng
        place = rng.choice(_PLACES)
        street = f"{rng.randrange(1, 200)} {rng.choice(_STREETS)} {rng.choice(_STREET_KINDS)[0]}"
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = (
            f"{place[:2].upper()}{rng.randrange(1, 30)} "
            f"{rng.randrange(10)}{rng.choice(letters)}{rng.choice(letters)}"
        )
        return (street, place, postcode)

    def _email(self, local: str, domain: str) -> str:
        base, number = local, 1
        while f"{local}@{domain}" in self.used_emails:
            number += 1
            local = f"{base}{number}"
        self.used_emails.add(f"{local}@{domain}")
        return f"{local}@{domain}"

    def _person(self, truth: str, **fixed: object) -> _Person:
        rng = self.rng
        gender = fixed.pop("gender", rng.choice("mf"))
        given = fixed.pop("given", rng.choice(_MALE if gender == "m" else _FEMALE).title())
        family = fixed.pop("family", None) or rng.choices(self.family_pool, self.family_weights)[0]
        org = fixed.pop("org", None) or rng.choices(self.orgs, self.org_weights)[0]
        middle = rng.choice(_MALE if gender == "m" else _FEMALE).title()
        person = _Person(
            truth, gender, given, middle if rng.random() < 0.3 else "", family, org,
            rng.choice(_ROLES[org.kind]), honours=rng.choice(_HONOURS) * (rng.random() < 0.04),
        )  # fmt: skip
        local = norm.fold(f"{given} {family}").replace(" ", ".").replace("..", ".")
        if fixed.pop("shared_only", False) or rng.random() < 0.04:
            person.emails.append(f"{rng.choice([org.local, 'press.office'])}@{org.domain}")
        else:
            person.emails.append(self._email(local, org.domain))
        if rng.random() < 0.15:
            person.emails.append(self._email(local.replace(".", ""), "gmail.com"))
        if rng.random() < 0.5:
            person.phones.append(self._landline())
        if rng.random() < 0.35:
            person.phones.append(self._mobile())
        person.address = org.address
        for name, value in fixed.items():
            setattr(person, name, value)
        return person

    def _other_org(self, org: _Org) -> _Org:
        while True:
            other = self.rng.choices(self.orgs, self.org_weights)[0]
            if other.key != org.key:
                return other

    def _stakeholders(self) -> list[_Person]:
        """One new stakeholder, sometimes with a deliberately confusable other."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            org = rng.choices(self.orgs, self.org_weights)[0]
            role = _ROLES[org.kind][0]
            place = org.local.split(".")[0] if "." in org.local else ""
            mailbox = ".".join(filter(None, [norm.fold(role).replace(" ", "."), place]))
            post = _Person(f"post-{org.key}", "", "", "", "", org, role, kind="post")
            post.emails.append(self._email(mailbox, org.domain))
            post.phones.append(self._landline())
            post.address = org.address
            if rng.random() < 0.3:
                # The current and the previous holder, both listed with the post's mailbox.
                holders = [self._person(f"{post.truth}-h{k}", org=org, role=role) for k in (1, 2)]
                for holder in holders:
                    holder.emails = list(post.emails)
                return [post, *holders]
            return [post]
        if roll < 0.06:
            org = rng.choices(self.orgs, self.org_weights)[0]
            entity = _Person(f"org-{org.key}", "", "", "", "", org, "", kind="organisation")
            entity.emails.append(f"{org.local}@{org.domain}")
            entity.phones.append(org.switchboard)
            entity.address = org.address
            return [entity]
        person = self._person(f"p{self.count}")
        people = [person]
        if roll < 0.09:  # a namesake at another organisation
            people.append(self._person(f"p{self.count}-namesake", given=person.given,
                                       family=person.family, gender=person.gender,
                                       org=self._other_org(person.org)))  # fmt: skip
        elif roll < 0.11:  # a family member at the same home
            home, phone = self._address(), self._landline()
            person.address, person.phones = home, [phone]
            relative = self._person(f"p{self.count}-family", family=person.family)
            relative.address, relative.phones = home, [phone]
            relative.emails = [self._email(norm.fold(relative.given) + "x", "gmail.com")]
            people.append(relative)
        elif roll < 0.13:  # a colleague with the same family name, another given name
            given = rng.choice([g for g in _MALE + _FEMALE if g != person.given.lower()])
            people.append(self._person(f"p{self.count}-colleague", family=person.family,
                                       org=person.org, given=given.title(),
                                       gender="m" if given in _MALE else "f"))  # fmt: skip
        elif roll < 0.15:  # two people known only by the same shared mailbox
            person.emails = [f"{person.org.local}@{person.org.domain}"]
            people.append(self._person(f"p{self.count}-shared", org=person.org, shared_only=True))
            people[-1].emails = list(person.emails)
        return people

    # --- appearances ----------------------------------------------------------------

    def run(self, n_entries: int) -> list[Labelled]:
        rng = self.rng
        out: list[tuple[str, Entry, str, tuple[str, ...]]] = []
        self.count = 0
        seen_posts: set[str] = set()
        while len(out) < n_entries:
            self.count += 1
            for stakeholder in self._stakeholders():
                if stakeholder.truth in seen_posts:
                    continue
                seen_posts.add(stakeholder.truth)
                lists = rng.choices([1, 2, 3, 4], [0.30, 0.30, 0.22, 0.18])[0]
                tenants = rng.sample(TENANTS, lists)
                if rng.random() < self.rates.duplicate_on_one_list:
                    tenants.append(tenants[0])
                for tenant in tenants:
                    entry, tags = self._appearance(stakeholder, tenant)
                    out.append((tenant, entry, stakeholder.truth, tags))
        out = out[:n_entries]
        rng.shuffle(out)
        counters: Counter[str] = Counter()
        labelled = []
        for tenant, entry, truth, tags in out:
            counters[tenant] += 1
            entry_id = f"{tenant}-{counters[tenant]:06d}"
            labelled.append(Labelled(replace(entry, entry_id=entry_id), truth, tags))
        return labelled

    def _appearance(self, who: _Person, tenant: str) -> tuple[Entry, tuple[str, ...]]:
        rng, rates, tags = self.rng, self.rates, []
        given, family, title = who.given, who.family, ""
        if who.kind == "person":
            given, family, title = self._name(who, tags)
        org = who.org
        organisation = org.names[0]
        if rng.random() < rates.org_alias and len(org.names) > 1:
            organisation = rng.choice(org.names[1:])
            tags.append("org_alias")
        if org.parent and who.kind == "person" and rng.random() < rates.org_parent:
            organisation = org.parent
            tags.append("org_parent")
        if rng.random() < 0.1:
            organisation = organisation.upper() if rng.random() < 0.5 else organisation.lower()
        if who.kind == "person" and rng.random() < rates.org_missing:
            organisation = ""
            tags.append("org_missing")
        role = who.role
        if role and rng.random() < 0.4:
            for full, short in rng.sample(_ROLE_ABBREVIATIONS, len(_ROLE_ABBREVIATIONS)):
                if full in role:
                    role = role.replace(full, short)
                    tags.append("role_variant")
                    break
        if who.kind == "person" and rng.random() < rates.role_missing:
            role = ""
        emails = self._emails(who, tenant, tags)
        phones = [_phone_format(number, rng) for number in who.phones if rng.random() < 0.65]
        address = ""
        if who.address[0] and rng.random() < (0.8 if who.kind != "person" else 0.4):
            address = _address_format(who.address, rng)
        category = rng.choice(_CATEGORIES[org.kind])
        entry = Entry(tenant, "", given, family, title, role, organisation, tuple(emails),
                      tuple(phones), address, category)  # fmt: skip
        return entry, tuple(tags)

    def _name(self, who: _Person, tags: list[str]) -> tuple[str, str, str]:
        rng, rates = self.rng, self.rates
        given, family = who.given, who.family
        title = rng.choice(_TITLES[who.gender]) if rng.random() < 0.5 else ""
        nicknames = _CANONICAL_NICKNAMES.get(given.lower(), [])
        if nicknames and rng.random() < rates.nickname:
            given = rng.choice(nicknames).title()
            tags.append("nickname")
        if rng.random() < rates.initial:
            given = given[0] + rng.choice([".", ""])
            tags.append("initial")
        elif who.middle and rng.random() < 0.3:
            given = f"{given} {who.middle[0]}." if rng.random() < 0.7 else f"{given} {who.middle}"
            tags.append("middle_name")
        if rng.random() < rates.typo:
            if rng.random() < 0.6:
                family = _typo(family, rng)
            else:
                given = _typo(given, rng)
            tags.append("typo")
        if any(mark in family for mark in "'- ") and rng.random() < 0.4:
            family = family.replace("'", rng.choice(["", " ", "\u2019"])).replace("-", " ")
            tags.append("punctuation")
        if who.honours and rng.random() < 0.5:
            family = f"{family} {who.honours}"
        if rng.random() < 0.1 and title:
            given, title = f"{title} {given}", ""
            tags.append("title_in_name")
        if rng.random() < rates.upper_family:
            family = family.upper()
            tags.append("case")
        elif rng.random() < rates.lower_case:
            given, family = given.lower(), family.lower()
            tags.append("case")
        if rng.random() < 0.05:
            given, family = f" {given}  ", f"{family} "
            tags.append("spacing")
        if rng.random() < rates.transposed:
            given, family = family, given
            tags.append("transposed")
        elif rng.random() < rates.whole_name_in_one_field:
            form = rng.choice(["{F}, {g}", "{F} {g}", "{g} {f}"])
            family = form.format(F=family.upper(), f=family, g=given)
            given = ""
            tags.append("whole_name")
        return given, family, title

    def _emails(self, who: _Person, tenant: str, tags: list[str]) -> list[str]:
        rng, rates = self.rng, self.rates
        if rng.random() < rates.email_missing:
            tags.append("email_missing")
            return []
        emails = list(who.emails)
        if len(emails) > 1 and rng.random() < 0.7:
            emails = [emails[0]] if rng.random() < 0.8 else [emails[1]]
        out = []
        for email in emails:
            local, _, domain = email.partition("@")
            if domain == "gmail.com" and rng.random() < 0.4:
                local = ".".join(local) if rng.random() < 0.2 else local[:3] + "." + local[3:]
                domain = rng.choice(["gmail.com", "googlemail.com"])
                tags.append("gmail_alias")
            if rng.random() < rates.plus_tag:
                local = f"{local}+{tenant}"
                tags.append("plus_tag")
            if rng.random() < rates.legacy_domain and domain.endswith(("gov.uk", "police.uk")):
                legacy = domain.replace(".gov.uk", ".gsi.gov.uk")
                legacy = legacy.replace(".police.uk", ".pnn.police.uk")
                domain = rng.choice([legacy, f"{domain}.cjsm.net"])
                tags.append("legacy_domain")
            address = f"{local}@{domain}"
            if rng.random() < rates.email_case:
                address = f"{local.title()}@{domain.upper() if rng.random() < 0.3 else domain}"
                tags.append("email_case")
            out.append(address)
        return out


def _title(alias: str) -> str:
    words = alias.split()
    if len(words) == 1 and len(alias) <= 5:
        return alias.upper()
    small = {"and", "of", "for", "the"}
    return " ".join(w if w in small else w.upper() if w == "hm" else w.title() for w in words)


def _typo(word: str, rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    if len(word) < 3:
        return word
    k = rng.randrange(1, len(word) - 1)
    op = rng.choice(["substitute", "delete", "insert", "swap"])
    if op == "substitute":
        return word[:k] + rng.choice(letters) + word[k + 1 :]
    if op == "delete":
        return word[:k] + word[k + 1 :]
    if op == "insert":
        return word[:k] + rng.choice(letters) + word[k:]
    return word[:k] + word[k + 1] + word[k] + word[k + 2 :]


def _phone_format(national: str, rng: random.Random) -> str:
    if national.startswith("7"):
        a, b = national[:4], national[4:]
        return rng.choice([f"0{a} {b}", f"+44 {a} {b}", f"0{national}", f"0{a} {b[:3]} {b[3:]}"])
    if national.startswith("2"):
        a, b, c = national[:2], national[2:6], national[6:]
        forms = [f"0{a} {b} {c}", f"+44 {a} {b} {c}", f"(0{a}) {b}-{c}", f"+44 (0){a} {b} {c}"]
        return rng.choice([*forms, f"0{national}", f"0{a}{b[0]} {b[1:]} {c}"])
    a, b = national[:4], national[4:]
    return rng.choice([f"0{a} {b}", f"+44 {a} {b}", f"(0{a}) {b}", f"0{national}"])


def _address_format(address: tuple[str, str, str], rng: random.Random) -> str:
    street, place, postcode = address
    if rng.random() < 0.3:
        for full, short in _STREET_KINDS:
            street = street.replace(full, short)
    if rng.random() < 0.2:
        postcode = postcode.replace(" ", "")
    text = rng.choice([", ", "\n", " "]).join([street, place, postcode])
    return text.upper() if rng.random() < 0.1 else text
