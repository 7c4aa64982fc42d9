"""Consolidating the inspectorates' stakeholder lists: each real person, post or organisation
once, with the reasons for every proposed match.

How it works, and why:

1. Each entry is normalised once (``shared_workspace.stakeholders.normalise``) and classified as a
   *person* (has a name), a *post* (a job title with no name, e.g. "The Governor, HMP
   Brixton") or an *organisation*; different kinds never merge.
2. **Blocking.** Entries are compared only when they share a selective key: a personal
   mailbox, a phone number, family name + each full form of the given name (Bob and
   Robert meet at "robert"), family name + organisation (initials, missing given names),
   the sorted pair of name fields (transposed names), the one-deletion variants of the
   family name + given name (any single typo in the family name), family name + the given
   name's consonant skeleton (typos in the given name); the organisation for posts and
   organisations. A block larger than ``MAX_BLOCK`` (the John Smiths) is not compared
   all-pairs but by a sorted neighbourhood of ``WINDOW``, so the number of pairs grows
   near-linearly with the entries.
3. **Scoring.** Every candidate pair gets evidence in bits (log2 odds) per field, in the
   spirit of Fellegi-Sunter: agreement adds, disagreement subtracts, a missing field is
   neutral. Scores are vectorised over all pairs with ``rapidfuzz.process.cpdist``. The
   score shown is the probability ``1 / (1 + 2 ** -(PRIOR + evidence))``.
4. **Clustering without chaining (complete linkage).** Two clusters merge only through an
   auto-level pair, and only when *every* cross pair between them is at least review-level
   (or confirmed by a person) and none was rejected. A~B and B~C therefore never merges A
   with C unless A~C is itself plausible. Before merging, the pairs inside each connected
   group of plausible pairs that blocking did not produce are scored too, so "not compared"
   never stands in for "compared and plausible". Confirmed pairs merge first and are
   stopped only by a rejection; rejected pairs never merge and are never queued again.
5. **Review.** Plausible pairs (``REVIEW_THRESHOLD`` and above) that did not merge go to
   the review queue, one per pair of clusters, best pair first.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler, Prefix

from shared_workspace.stakeholders import normalise as norm

#: Pairs at or above this probability merge automatically (4.25 bits of evidence net of
#: the prior: e.g. same full name, organisation and job title, or any shared personal
#: mailbox with a compatible name).
AUTO_THRESHOLD = 0.95
#: Pairs at or above this probability (and below AUTO) go to a person for review.
REVIEW_THRESHOLD = 0.60
#: Evidence, in bits, before any field is compared.
PRIOR = -4.0
#: Blocks larger than this are compared by sorted neighbourhood instead of all pairs.
MAX_BLOCK = 25
WINDOW = 5
#: Groups of plausible pairs up to this size have their missing pairs scored.
COMPLETION_LIMIT = 60
#: Agreeing on a common family name (Smith) is weaker evidence than on a rare one: the
#: exact-family weight moves by log2(TYPICAL_FAMILY_SHARE / share), within FAMILY_ADJUST,
#: where the share is estimated from the list being consolidated, smoothed towards the
#: typical share by FAMILY_PSEUDO_ENTRIES (so a short list barely moves it).
TYPICAL_FAMILY_SHARE = 0.001
FAMILY_PSEUDO_ENTRIES = 20_000
FAMILY_ADJUST = (-2.5, 1.0)

EntryKey = tuple[str, str]
KINDS = ("person", "post", "organisation")
OUTCOMES = {
    "given_name": ("missing", "exact", "nickname", "initial", "short form", "typo", "different"),
    "family_name": ("missing", "exact", "typo", "different"),
    "name_order": ("as entered", "transposed"),
    "email": (
        "none",
        "same mailbox",
        "shared mailbox",
        "same local part",
        "different",
        "different domain",
    ),
    "organisation": ("none", "same", "related", "similar", "different"),
    "phone": ("none", "same mobile", "same landline", "different"),
    "role": ("none", "same", "similar", "different"),
    "address": ("none", "same postcode", "different postcode"),
}
#: Evidence in bits for each kind, field and outcome (in OUTCOMES order).
WEIGHTS: dict[str, dict[str, tuple[float, ...]]] = {
    "person": {
        "given_name": (0, 2.5, 2, 1, 1.5, 1, -4),
        "family_name": (0, 3.5, 1.5, -6),
        "name_order": (0, -0.5),
        "email": (0, 7, 0.5, 0, -4, -2),
        "organisation": (0, 2, 0, 1.5, -3),
        "phone": (0, 5, 2, -1),
        "role": (0, 1.5, 0.5, 0),
        "address": (0, 1, -0.5),
    },
    "post": {
        "email": (0, 7, 0, 0, -2, -1),
        "organisation": (0, 3, -1, 2, -8),
        "phone": (0, 4, 3, -1),
        "role": (0, 4, 1.5, -5),
        "address": (0, 1, -1),
    },
    "organisation": {
        "email": (0, 6, 0, 0, -1, -1),
        "organisation": (0, 6, -4, 3, -10),
        "phone": (0, 3, 3, -0.5),
        "address": (0, 1.5, -1),
    },
}
#: Evidence against a person matching a post or an organisation: they never merge.
KIND_MISMATCH = -30.0
_TABLES = {
    name: np.array(
        [WEIGHTS[kind].get(name, (0,) * len(outcomes)) for kind in KINDS], dtype=np.float64
    )
    for name, outcomes in OUTCOMES.items()
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One stakeholder entry on one inspectorate's (tenant's) nominated list."""

    tenant: str
    entry_id: str
    given_name: str = ""
    family_name: str = ""
    title: str = ""
    role: str = ""
    organisation: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    address: str = ""
    category: str = ""

    @property
    def key(self) -> EntryKey:
        return (self.tenant, self.entry_id)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a pair scored as it did: one field's outcome and its evidence in bits."""

    field: str
    outcome: str
    #: String similarity (0..1) where one applies, else 1.0 for agreement and 0.0 otherwise.
    similarity: float
    weight: float


@dataclass(frozen=True, slots=True)
class Match:
    """A proposed match between two entries with its score and reasons."""

    left: EntryKey
    right: EntryKey
    #: Probability-like score in 0..1, as computed (also for a pair a person confirmed).
    score: float
    reasons: tuple[Reason, ...]
    #: "auto", "confirmed" (merged) or "review" (waiting for a person).
    status: str


@dataclass(frozen=True, slots=True)
class Cluster:
    """One consolidated stakeholder: the entries it came from, in input order."""

    entries: tuple[Entry, ...]

    @property
    def sources(self) -> tuple[EntryKey, ...]:
        return tuple(entry.key for entry in self.entries)

    @property
    def tenants(self) -> tuple[str, ...]:
        return tuple(sorted({entry.tenant for entry in self.entries}))


@dataclass(frozen=True)
class Consolidation:
    """The distribution list: clusters, the review queue and how they came about."""

    clusters: tuple[Cluster, ...]
    review: tuple[Match, ...]
    #: The auto and confirmed matches that joined entries, with their reasons.
    merges: tuple[Match, ...]
    stats: dict[str, int] = field(default_factory=dict)


def consolidate(
    entries: Sequence[Entry],
    *,
    confirmed: Iterable[tuple[EntryKey, EntryKey]] = (),
    rejected: Iterable[tuple[EntryKey, EntryKey]] = (),
    progress: Callable[[int], None] | None = None,
) -> Consolidation:
    """Every entry in exactly one cluster; no cluster holds a rejected pair or a pair below
    review level that no person confirmed; no decided pair is queued for review again.

    Decisions naming entries that are not in ``entries`` are ignored. ``progress`` is told
    the percentage done as each phase ends (preparing, blocking, scoring, clustering).
    """
    index = {entry.key: i for i, entry in enumerate(entries)}
    if len(index) != len(entries):
        raise ValueError("two entries share a (tenant, entry_id) key")
    with _gc_paused():
        return _consolidate(entries, index, confirmed, rejected, progress or _no_progress)


def _no_progress(_percent: int) -> None:
    return None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    # Consolidation allocates millions of small objects that all live to the end: the cyclic
    # collector would rescan them over and over (half the run time at 100,000 entries).
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _consolidate(
    entries: Sequence[Entry],
    index: dict[EntryKey, int],
    confirmed: Iterable[tuple[EntryKey, EntryKey]],
    rejected: Iterable[tuple[EntryKey, EntryKey]],
    progress: Callable[[int], None],
) -> Consolidation:
    n = len(entries)
    prep = _Prepared(entries)
    progress(30)
    yes, no = _decision_codes(index, confirmed, n), _decision_codes(index, rejected, n)
    # A confirmed pair is scored even when blocking missed it, so it can show its reasons.
    pairs = np.union1d(_candidate_pairs(prep), np.fromiter(yes, np.int64, len(yes)))
    progress(45)
    scored = _Scores(prep, pairs)
    progress(70)
    completed = scored.complete_groups(REVIEW_THRESHOLD, yes, COMPLETION_LIMIT)
    clusters, merges = _merge(n, scored, yes, no)
    review = _review_queue(clusters, scored, yes, no)
    progress(85)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(clusters[i], []).append(i)
    stats = {
        "entries": n,
        "candidate_pairs": len(pairs),
        "completion_pairs": completed,
        "oversize_blocks": prep.oversize_blocks,
        "clusters": len(groups),
        "merges": len(merges),
        "review": len(review),
    }
    return Consolidation(
        clusters=tuple(Cluster(tuple(entries[i] for i in g)) for g in groups.values()),
        review=tuple(scored.matches([(i, j, "review") for i, j in review])),
        merges=tuple(scored.matches(merges)),
        stats=stats,
    )


def score_pair(left: Entry, right: Entry) -> Match:
    """The score and reasons for one pair, as ``consolidate`` computes them for a list of
    just these two entries (how common a family name is comes from the list itself)."""
    scored = _Scores(_Prepared([left, right]), np.array([1], dtype=np.int64))
    status = "auto" if scored.p[0] >= AUTO_THRESHOLD else "review"
    return scored.matches([(0, 1, status if scored.p[0] >= REVIEW_THRESHOLD else "none")])[0]


def blocking_keys(entry: Entry) -> set[str]:
    """The blocking keys of one entry (two entries are compared when they share one)."""
    prep = _Prepared([entry], readable=True)
    return set(prep.readable)


# --- Preparation and blocking ------------------------------------------------------------


#: Per-entry integer columns of _Prepared: name -> width (0 for one value per entry).
_COLUMNS = {
    "kind": 0,
    "g": 0,
    "ga": 0,
    "f": 0,
    "glen": 0,
    "gfirst": 0,
    "flen": 0,
    "ffirst": 0,
    "forms": 4,
    "family_forms": 4,
    "org": 0,
    "org_known": 0,
    "ancestors": 3,
    "role_code": 0,
    "postcode": 0,
    "mail": 4,
    "shared_mail": 4,
    "local": 0,
    "webmail": 0,
    "domain": 0,
    "mobile": 3,
    "landline": 3,
}


class _Name(NamedTuple):
    """A parsed name as codes, with its organisation-independent blocking keys."""

    g: int = 0
    ga: int = 0
    f: int = 0
    glen: int = 0
    gfirst: int = 0
    flen: int = 0
    ffirst: int = 0
    forms: tuple[int, ...] = ()
    family_forms: tuple[int, ...] = ()
    family: str = ""
    keys: tuple[str, ...] = ()
    key_hashes: tuple[int, ...] = ()


_NO_NAME = _Name()
#: What the email and phone caches hold for text that is no address or number.
_INVALID = (None,)


def _column(values: Sequence, n: int, width: int) -> np.ndarray:
    """An int32 column, or an (n, width) matrix of variable-length rows padded with -1."""
    if not width:
        return np.fromiter(values, np.int32, n)
    lengths = np.fromiter(map(len, values), np.int64, n)
    flat = np.fromiter(itertools.chain.from_iterable(values), np.int32, int(lengths.sum()))
    rows = np.repeat(np.arange(n), lengths)
    cols = np.arange(len(flat)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    matrix = np.full((n, width), -1, np.int32)
    keep = cols < width
    matrix[rows[keep], cols[keep]] = flat[keep]
    return matrix


class _Prepared:
    """The normalised fields of every entry as arrays, plus their blocking keys.

    Codes are small integers standing for strings (0 for ""), so equality is vectorised;
    parsed names, organisations and roles are cached per distinct spelling.
    """

    def __init__(self, entries: Sequence[Entry], readable: bool = False) -> None:
        n = len(entries)
        self.entries = entries
        self.codes: dict[str, int] = {"": 0}
        # Blocking keys are kept as hashes: a collision can only add a pair to compare.
        self.key_hash: list[int] = []
        self.key_member: list[int] = []
        self.readable: list[str] | None = [] if readable else None
        self.oversize_blocks = 0
        # Keyed by the parsed name, so that its case, spacing and title variants share one.
        self._names: dict[norm.PersonName, _Name] = {}
        self._organisations: dict[str, tuple] = {}
        self._roles: dict[str, tuple[str, int]] = {}
        self._emails: dict[str, tuple] = {}
        self._phones: dict[str, tuple] = {}
        self.org_text: list[str] = []
        self.role: list[str] = []
        rows = [self._prepare(i, entry) for i, entry in enumerate(entries)]
        columns = zip(*rows, strict=True) if rows else ([] for _ in _COLUMNS)
        for (name, width), values in zip(_COLUMNS.items(), columns, strict=True):
            setattr(self, name, _column(values, n, width))
        self.webmail = self.webmail.astype(bool)
        strings = list(self.codes)
        self.given = [strings[c] for c in self.g.tolist()]
        self.given_all = [strings[c] for c in self.ga.tolist()]
        self.family = [strings[c] for c in self.f.tolist()]
        self.family_adjust = self._family_adjust()

    def _code(self, text: str) -> int:
        codes = self.codes
        found = codes.get(text)
        if found is None:
            found = codes[text] = len(codes)
        return found

    def _family_adjust(self) -> np.ndarray:
        """Per entry, the evidence adjustment for agreeing on its family name."""
        people = self.f[self.kind == 0]
        counts = np.bincount(people, minlength=len(self.codes))
        prior = FAMILY_PSEUDO_ENTRIES * TYPICAL_FAMILY_SHARE
        share = (counts[self.f] + prior) / (len(people) + FAMILY_PSEUDO_ENTRIES)
        return np.clip(np.log2(TYPICAL_FAMILY_SHARE / share), *FAMILY_ADJUST)

    def _key(self, key: str, i: int) -> None:
        self.key_hash.append(hash(key))
        self.key_member.append(i)
        if self.readable is not None:
            self.readable.append(key)

    def _prepare(self, i: int, entry: Entry) -> tuple[object, ...]:
        """One entry's row of _COLUMNS values; its blocking keys are added on the way."""
        add_key, code = self._key, self._code
        parsed = norm.parse_name(entry.given_name, entry.family_name)
        name = self._names.get(parsed)
        if name is None:
            name = self._names[parsed] = self._name(parsed)
        org_code, known, org_text, ancestors, org_key = self._organisation(entry.organisation)
        role = self._roles.get(entry.role)
        if role is None:
            text = norm.normalise_role(entry.role) if entry.role else ""
            role = self._roles[entry.role] = (text, code(text))
        person = name is not _NO_NAME
        kind = 0 if person else (1 if role[0] else 2)
        self.org_text.append(org_text)
        self.role.append(role[0])
        postcode = norm.normalise_address(entry.address).postcode if entry.address else ""
        if postcode and kind == 2:
            add_key("z" + postcode, i)
        mail, shared, local, webmail, domain = [], [], -1, 0, -1
        for text in entry.emails:
            email = self._emails.get(text) or self._email(text)
            if email is _INVALID:
                continue
            mailbox, mailbox_domain, mailbox_local, is_role, is_webmail, key = email
            if domain < 0 and not is_webmail:
                domain = mailbox_domain
            # For a post or an organisation its mailbox is its identity, role word or not.
            if kind or not is_role:
                if not mail and not kind:
                    local, webmail = mailbox_local, int(is_webmail)
                mail.append(mailbox)
                add_key(key, i)
            else:
                shared.append(mailbox)
        mobile, landline = [], []
        for text in entry.phones:
            phone = self._phones.get(text) or self._phone(text)
            if phone is not _INVALID:
                (mobile if phone[1] else landline).append(phone[0])
                add_key(phone[2], i)
        if person:
            self.key_hash.extend(name.key_hashes)
            self.key_member.extend([i] * len(name.key_hashes))
            if self.readable is not None:
                self.readable.extend(name.keys)
            if org_key:
                add_key(f"o{name.family}|{org_key}", i)
        else:
            add_key(f"{'r' if kind == 1 else 'o'}{org_key}", i)
        return (
            kind, name.g, name.ga, name.f, name.glen, name.gfirst, name.flen, name.ffirst,
            name.forms, name.family_forms, org_code, known, ancestors, role[1],
            code(postcode) if postcode else -1, mail, shared, local, webmail, domain,
            mobile, landline,
        )  # fmt: skip

    def _email(self, text: str) -> tuple:
        """(mailbox code, domain code, local part code, role?, webmail?, blocking key)."""
        email = norm.normalise_email(text)
        found: tuple = _INVALID
        if email is not None:
            code = self._code
            found = (
                code(email.key),
                -1 if email.is_webmail else code("@" + email.domain),
                code(email.local.replace(".", "").replace("_", "") + "@"),
                email.is_role,
                email.is_webmail,
                "e" + email.key,
            )
        self._emails[text] = found
        return found

    def _phone(self, text: str) -> tuple:
        """(number code, mobile?, blocking key)."""
        phone = norm.normalise_phone(text)
        found: tuple = _INVALID
        if phone is not None:
            found = (self._code(phone.key), phone.is_mobile, "t" + phone.key)
        self._phones[text] = found
        return found

    def _organisation(self, text: str) -> tuple:
        found = self._organisations.get(text)
        if found is None:
            organisation = norm.normalise_organisation(text)
            if organisation is None:
                found = (-1, 0, "", (), "")
            else:
                key = organisation.key
                found = (
                    self._code(key),
                    int(organisation.known),
                    key.partition(":")[2] or key,
                    tuple(self._code(a) for a in organisation.ancestors[:3]),
                    key,
                )
            self._organisations[text] = found
        return found

    def _name(self, name: norm.PersonName) -> _Name:
        """The name's codes and organisation-independent blocking keys (_NO_NAME if none)."""
        given, family, given_all = name.given, name.family, name.given_all
        if not (given or family):
            return _NO_NAME
        code = self._code
        keys = [f"n{family}|{form}" for form in sorted(name.forms) or [""]]
        if len(family) == 1 and len(given_all) > 1:
            # "Smith | J.": an initial in the family field, the family name in the given one.
            keys.append(f"n{given_all}|{family}")
        low, high = sorted((given_all, family))
        keys.append(f"x{low}|{high}")
        if len(given) > 1:
            keys.append(f"q{family}|{norm.phonetic_key(given)}")
            if len(family) >= 4:
                # One edit apart always share a one-deletion variant (a typo in the family).
                keys.extend(f"d{family[:k]}{family[k + 1 :]}|{given}" for k in range(len(family)))
        return _Name(
            code(given),
            code(given_all),
            code(family),
            len(given),
            ord(given[0]) if given else 0,
            len(family),
            ord(family[0]) if family else 0,
            tuple(code(form) for form in sorted(name.forms)[:4]),
            tuple(code(form) for form in sorted(norm.given_forms(family))[:4]),
            family,
            tuple(keys),
            tuple(hash(key) for key in keys),
        )


def _candidate_pairs(prep: _Prepared) -> np.ndarray:
    """Pair codes ``low * n + high`` (low < high) of entries sharing a blocking key."""
    n = len(prep.entries)
    if not prep.key_hash:
        return np.zeros(0, np.int64)
    keys = np.array(prep.key_hash, np.int64)
    members = np.array(prep.key_member, np.int64)
    order = np.lexsort((members, keys))
    keys, members = keys[order], members[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    chunks = []
    sort_keys: list[str] = []
    for size in np.unique(sizes):
        if size < 2:
            continue
        block_starts = starts[sizes == size]
        if size <= MAX_BLOCK:
            grid = members[block_starts[:, None] + np.arange(size)]
            left, right = np.triu_indices(size, 1)
            chunks.append((grid[:, left].ravel(), grid[:, right].ravel()))
            continue
        prep.oversize_blocks += len(block_starts)
        # Neighbours by name then organisation: a switchboard's block pairs namesakes.
        sort_keys = sort_keys or [
            f"{prep.family[i]} {prep.given[i]} {prep.org_text[i]}" for i in range(n)
        ]
        for start in block_starts:
            block = members[start : start + size]
            block = block[np.argsort([sort_keys[i] for i in block], kind="stable")]
            for step in range(1, WINDOW + 1):
                chunks.append((block[:-step], block[step:]))
    if not chunks:
        return np.zeros(0, np.int64)
    a = np.concatenate([c[0] for c in chunks])
    b = np.concatenate([c[1] for c in chunks])
    low, high = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(low * n + high)
    return pairs[(pairs // n) != (pairs % n)]


def _decision_codes(
    index: dict[EntryKey, int], decided: Iterable[tuple[EntryKey, EntryKey]], n: int
) -> set[int]:
    codes = set()
    for left, right in decided:
        # Keys may arrive as lists (from JSON); compare them as (tenant, entry_id) tuples.
        i, j = index.get((left[0], left[1])), index.get((right[0], right[1]))
        if i is not None and j is not None and i != j:
            codes.add(min(i, j) * n + max(i, j))
    return codes


# --- Scoring -----------------------------------------------------------------------------


def _overlap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows of two padded code matrices (-1 = empty) that share a code."""
    return ((a[:, :, None] == b[:, None, :]) & (a[:, :, None] >= 0)).any(axis=(1, 2))


def _typo(a: list[str], b: list[str]) -> np.ndarray:
    """One edit apart (two for long words), never for words shorter than four letters."""
    if not a:
        return np.zeros(0, bool)
    distance = process.cpdist(a, b, scorer=DamerauLevenshtein.distance, workers=-1)
    shortest = np.minimum([len(x) for x in a], [len(y) for y in b])
    return ((distance <= 1) & (shortest >= 4)) | ((distance <= 2) & (shortest >= 8))


def _text_outcome(
    a_codes: np.ndarray,
    b_codes: np.ndarray,
    a: list[str],
    b: list[str],
    ia: np.ndarray,
    ib: np.ndarray,
) -> np.ndarray:
    """missing (0), exact (1), typo (2) or different (3), as in OUTCOMES["family_name"]."""
    missing = (a_codes == 0) | (b_codes == 0)
    out = np.where(missing, 0, np.where(a_codes == b_codes, 1, 3)).astype(np.int8)
    rest = np.flatnonzero(out == 3)
    typo = _typo([a[k] for k in ia[rest]], [b[k] for k in ib[rest]])
    out[rest[typo]] = 2
    return out


def _given_outcome(prep: _Prepared, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """The given names' outcome, in OUTCOMES["given_name"] order."""
    gi, gj = prep.g[ia], prep.g[ib]
    out = np.full(len(ia), 6, np.int8)
    nickname = _overlap(prep.forms[ia], prep.forms[ib])
    initial = ((prep.glen[ia] == 1) | (prep.glen[ib] == 1)) & (prep.gfirst[ia] == prep.gfirst[ib])
    out[initial] = 3
    out[nickname] = 2
    out[gi == gj] = 1
    out[(gi == 0) | (gj == 0)] = 0
    rest = np.flatnonzero(out == 6)
    if len(rest):
        a = [prep.given[k] for k in ia[rest]]
        b = [prep.given[k] for k in ib[rest]]
        prefix = process.cpdist(a, b, scorer=Prefix.similarity, workers=-1)
        shortest = np.minimum(prep.glen[ia[rest]], prep.glen[ib[rest]])
        out[rest[(prefix == shortest) & (shortest >= 3)]] = 4
        still = np.flatnonzero(out[rest] == 6)
        out[rest[still[_typo([a[k] for k in still], [b[k] for k in still])]]] = 5
    return out


def _name_outcomes(
    prep: _Prepared, ia: np.ndarray, ib: np.ndarray, person: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given, family and order outcomes of person pairs, trying the transposed reading too."""
    m = len(ia)
    given, family, order = np.zeros(m, np.int8), np.zeros(m, np.int8), np.zeros(m, np.int8)
    rows = np.flatnonzero(person)
    a, b = ia[rows], ib[rows]
    given[rows] = _given_outcome(prep, a, b)
    family[rows] = _text_outcome(prep.f[a], prep.f[b], prep.family, prep.family, a, b)
    g_w, f_w = _TABLES["given_name"][0], _TABLES["family_name"][0]
    best = g_w[given[rows]] + f_w[family[rows]]
    weak = np.flatnonzero((family[rows] >= 2) | (given[rows] == 6))
    if len(weak):
        a, b = a[weak], b[weak]
        penalty = _TABLES["name_order"][0][1]
        # One list wrote the family name in the given-name field, either side.
        for fa, fb, ga_, gb in ((a, b, a, b), (b, a, b, a)):
            f_out = _text_outcome(prep.f[fa], prep.ga[fb], prep.family, prep.given_all, fa, fb)
            g_out = _text_outcome(prep.g[ga_], prep.f[gb], prep.given, prep.family, ga_, gb)
            g_codes = np.array([0, 1, 5, 6], np.int8)[g_out]
            nickname = (g_codes == 6) & _overlap(prep.forms[ga_], prep.family_forms[gb])
            g_codes[nickname] = 2
            initial = (g_codes == 6) & (prep.gfirst[ga_] == prep.ffirst[gb])
            initial &= (prep.glen[ga_] == 1) | (prep.flen[gb] == 1)
            g_codes[initial] = 3
            weight = g_w[g_codes] + f_w[f_out] + penalty
            better = weight > best[weak]
            target = rows[weak[better]]
            given[target], family[target], order[target] = g_codes[better], f_out[better], 1
            best[weak[better]] = weight[better]
    return given, family, order


def _evaluate(
    prep: _Prepared, ia: np.ndarray, ib: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each field's outcome for every pair, and the pairs' total evidence in bits."""
    kind_a, kind_b = prep.kind[ia], prep.kind[ib]
    same_kind = kind_a == kind_b
    out: dict[str, np.ndarray] = {}
    out["given_name"], out["family_name"], out["name_order"] = _name_outcomes(
        prep, ia, ib, same_kind & (kind_a == 0)
    )
    mail_a, mail_b = prep.mail[ia], prep.mail[ib]
    both_mail = (mail_a[:, 0] >= 0) & (mail_b[:, 0] >= 0)
    # jane.smith@cps.gov.uk and janesmith@gmail.com: one person's work and home addresses.
    same_local = (prep.local[ia] == prep.local[ib]) & (prep.local[ia] >= 0)
    same_local &= prep.webmail[ia] | prep.webmail[ib]
    domain_a, domain_b = prep.domain[ia], prep.domain[ib]
    out["email"] = np.select(
        [
            _overlap(mail_a, mail_b),
            both_mail & same_local,
            both_mail,
            _overlap(prep.shared_mail[ia], prep.shared_mail[ib]),
            (domain_a >= 0) & (domain_b >= 0) & (domain_a != domain_b),
        ],
        [1, 3, 4, 2, 5],
        0,
    ).astype(np.int8)
    mob_a, mob_b = prep.mobile[ia], prep.mobile[ib]
    land_a, land_b = prep.landline[ia], prep.landline[ib]
    both_phone = ((mob_a[:, 0] >= 0) | (land_a[:, 0] >= 0)) & (
        (mob_b[:, 0] >= 0) | (land_b[:, 0] >= 0)
    )
    out["phone"] = np.select(
        [_overlap(mob_a, mob_b), _overlap(land_a, land_b), both_phone], [1, 2, 3], 0
    ).astype(np.int8)
    out["organisation"] = _organisation_outcome(prep, ia, ib)
    out["role"] = _role_outcome(prep, ia, ib)
    pc_a, pc_b = prep.postcode[ia], prep.postcode[ib]
    out["address"] = np.select([(pc_a < 0) | (pc_b < 0), pc_a == pc_b], [0, 1], 2).astype(np.int8)
    evidence = np.full(len(ia), PRIOR)
    for name, outcome in out.items():
        evidence += _TABLES[name][kind_a, outcome]
    evidence += np.where(out["family_name"] == 1, _family_adjust(prep, ia, ib), 0.0)
    evidence[~same_kind] = PRIOR + KIND_MISMATCH
    return out, evidence


def _family_adjust(prep: _Prepared, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    # The smaller adjustment: for a transposed pair one side's "family" is a given name.
    return np.minimum(prep.family_adjust[ia], prep.family_adjust[ib])


def _organisation_outcome(prep: _Prepared, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    org_a, org_b = prep.org[ia], prep.org[ib]
    related = (org_a[:, None] == prep.ancestors[ib]).any(axis=1) | (
        org_b[:, None] == prep.ancestors[ia]
    ).any(axis=1)
    out = np.select([(org_a < 0) | (org_b < 0), org_a == org_b, related], [0, 1, 2], 4).astype(
        np.int8
    )
    # Free-text names (in no table) may be one organisation misspelt or shortened.
    rest = np.flatnonzero((out == 4) & (prep.org_known[ia] == 0) & (prep.org_known[ib] == 0))
    if len(rest):
        a = [prep.org_text[k] for k in ia[rest]]
        b = [prep.org_text[k] for k in ib[rest]]
        similarity = process.cpdist(a, b, scorer=fuzz.token_set_ratio, workers=-1)
        out[rest[similarity >= 90]] = 3
    return out


def _role_outcome(prep: _Prepared, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    out = np.zeros(len(ia), np.int8)
    code_a, code_b = prep.role_code[ia], prep.role_code[ib]
    out[(code_a > 0) & (code_a == code_b)] = 1
    rows = np.flatnonzero((code_a > 0) & (code_b > 0) & (code_a != code_b))
    if len(rows):
        a = [prep.role[k] for k in ia[rows]]
        b = [prep.role[k] for k in ib[rows]]
        similarity = process.cpdist(a, b, scorer=fuzz.ratio, workers=-1)
        out[rows] = np.select([similarity >= 90, similarity >= 75], [1, 2], 3)
    return out


class _Scores:
    """Outcomes, evidence and probability of every scored pair, addressable by pair code."""

    def __init__(self, prep: _Prepared, pairs: np.ndarray) -> None:
        self.prep, self.n = prep, len(prep.entries)
        self.pairs = np.zeros(0, np.int64)
        self.p = np.zeros(0)
        self.outcomes: dict[str, np.ndarray] = {name: np.zeros(0, np.int8) for name in OUTCOMES}
        self.evidence = np.zeros(0)
        self._position: dict[int, int] = {}
        self.add(pairs)

    def add(self, pairs: np.ndarray) -> None:
        """Score more pairs (codes not scored before)."""
        if not len(pairs):
            return
        outcomes, evidence = _evaluate(self.prep, pairs // self.n, pairs % self.n)
        start = len(self.pairs)
        self.pairs = np.concatenate([self.pairs, pairs])
        self.evidence = np.concatenate([self.evidence, evidence])
        self.p = 1.0 / (1.0 + np.exp2(-self.evidence))
        for name, outcome in outcomes.items():
            self.outcomes[name] = np.concatenate([self.outcomes[name], outcome])
        plausible = np.flatnonzero(self.p[start:] >= REVIEW_THRESHOLD) + start
        self._position.update(zip(self.pairs[plausible].tolist(), plausible.tolist(), strict=True))

    def plausible(self, code: int) -> float:
        """The pair's probability when at least review-level, else 0.0."""
        position = self._position.get(code)
        return 0.0 if position is None else float(self.p[position])

    def complete_groups(self, threshold: float, confirmed: set[int], limit: int) -> int:
        """Score the unscored pairs inside each connected group of plausible or confirmed
        pairs of at most ``limit`` entries; return how many were added."""
        n = self.n
        edges = self.pairs[self.p >= threshold].tolist() + sorted(confirmed)
        parent = list(range(n))

        def find(x: int) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for code in edges:
            a, b = find(code // n), find(code % n)
            if a != b:
                parent[max(a, b)] = min(a, b)
        groups: dict[int, list[int]] = {}
        for x in {x for code in edges for x in (code // n, code % n)}:
            groups.setdefault(find(x), []).append(x)
        wanted = [
            min(a, b) * n + max(a, b)
            for members in groups.values()
            if 2 < len(members) <= limit
            for k, a in enumerate(members)
            for b in members[k + 1 :]
        ]
        missing = np.setdiff1d(np.array(wanted, np.int64), self.pairs)
        self.add(missing)
        return len(missing)

    def matches(self, items: Sequence[tuple[int, int, str]]) -> list[Match]:
        """Matches, with reasons, for pairs of entry positions scored before."""
        if not items:
            return []
        prep, n = self.prep, self.n
        low = np.array([min(i, j) for i, j, _ in items], np.int64)
        high = np.array([max(i, j) for i, j, _ in items], np.int64)
        codes = low * n + high
        position = np.array([self._position.get(c, -1) for c in codes.tolist()], np.int64)
        if (position < 0).any():
            order = np.argsort(self.pairs, kind="stable")
            lost = position < 0
            position[lost] = order[np.searchsorted(self.pairs[order], codes[lost])]
        kind_low, kind_high = prep.kind[low], prep.kind[high]
        outcomes, weights = {}, {}
        for name in OUTCOMES:
            outcomes[name] = self.outcomes[name][position]
            weights[name] = _TABLES[name][kind_low, outcomes[name]]
        weights["family_name"] = weights["family_name"] + np.where(
            outcomes["family_name"] == 1, _family_adjust(prep, low, high), 0.0
        )
        similarity = _reason_similarities(prep, low, high)
        columns = {
            name: (outcomes[name].tolist(), np.round(weights[name], 2).tolist())
            for name in OUTCOMES
        }
        sims = {name: np.round(values, 3).tolist() for name, values in similarity.items()}
        p = np.round(self.p[position], 4).tolist()
        kinds = (kind_low != kind_high).tolist()
        out = []
        for k, (_, _, status) in enumerate(items):
            reasons = []
            if kinds[k]:
                label = f"{KINDS[kind_low[k]]} vs {KINDS[kind_high[k]]}"
                reasons.append(Reason("kind", label, 0.0, KIND_MISMATCH))
            else:
                for name, (outcome_list, weight_list) in columns.items():
                    outcome, weight = outcome_list[k], weight_list[k]
                    if outcome == 0 or (weight == 0 and name in _NAME_FIELDS):
                        continue
                    agree = outcome in _AGREEING.get(name, ())
                    value = sims[name][k] if name in sims else float(agree)
                    reasons.append(Reason(name, OUTCOMES[name][outcome], value, weight))
            left, right = prep.entries[low[k]].key, prep.entries[high[k]].key
            out.append(Match(left, right, p[k], tuple(reasons), status))
        return out


_NAME_FIELDS = ("given_name", "family_name")
#: Outcomes (other than string comparisons) shown with similarity 1.0.
_AGREEING = {"email": (1, 2, 3), "phone": (1, 2), "address": (1,), "name_order": (1,)}


def _reason_similarities(
    prep: _Prepared, low: np.ndarray, high: np.ndarray
) -> dict[str, np.ndarray]:
    """Jaro-Winkler of the names (best of as entered and transposed), Indel ratio of the
    organisations and roles, for showing with the reasons."""

    def similar(
        a: list[str], b: list[str], c: np.ndarray, d: np.ndarray, scorer: Callable[..., float]
    ) -> np.ndarray:
        return process.cpdist([a[x] for x in c], [b[x] for x in d], scorer=scorer, workers=-1)

    jw = JaroWinkler.normalized_similarity
    given = np.maximum.reduce([
        similar(prep.given, prep.given, low, high, jw),
        similar(prep.given, prep.family, low, high, jw),
        similar(prep.family, prep.given, low, high, jw),
    ])  # fmt: skip
    family = np.maximum.reduce([
        similar(prep.family, prep.family, low, high, jw),
        similar(prep.family, prep.given_all, low, high, jw),
        similar(prep.given_all, prep.family, low, high, jw),
    ])  # fmt: skip
    return {
        "given_name": given,
        "family_name": family,
        "organisation": similar(prep.org_text, prep.org_text, low, high, fuzz.ratio) / 100,
        "role": similar(prep.role, prep.role, low, high, fuzz.ratio) / 100,
    }


# --- Clustering and the review queue -----------------------------------------------------


def _merge(
    n: int, scored: _Scores, yes: set[int], no: set[int]
) -> tuple[list[int], list[tuple[int, int, str]]]:
    """Complete-linkage merging: confirmed pairs first, then auto pairs, best first."""
    cluster = list(range(n))
    members: dict[int, list[int]] = {}

    def allowed(a: int, b: int, forced: bool) -> bool:
        for x in members.get(a, [a]):
            for y in members.get(b, [b]):
                code = min(x, y) * n + max(x, y)
                if code in no:
                    return False
                if not forced and code not in yes and scored.plausible(code) < REVIEW_THRESHOLD:
                    return False
        return True

    auto = np.flatnonzero(scored.p >= AUTO_THRESHOLD)
    auto = auto[np.lexsort((scored.pairs[auto], -scored.p[auto]))]
    edges = [(code, "confirmed") for code in sorted(yes)]
    edges += [(int(code), "auto") for code in scored.pairs[auto] if int(code) not in no]
    merges = []
    for code, status in edges:
        i, j = code // n, code % n
        a, b = cluster[i], cluster[j]
        if a == b or not allowed(a, b, status == "confirmed"):
            continue
        keep, gone = (a, b) if len(members.get(a, [a])) >= len(members.get(b, [b])) else (b, a)
        moved = members.pop(gone, [gone])
        members.setdefault(keep, [keep]).extend(moved)
        for x in moved:
            cluster[x] = keep
        merges.append((i, j, status))
    return cluster, merges


def _review_queue(
    cluster: list[int], scored: _Scores, yes: set[int], no: set[int]
) -> list[tuple[int, int]]:
    """The best plausible, undecided pair between each two clusters that did not merge."""
    n = scored.n
    members: dict[int, list[int]] = {}
    for x, c in enumerate(cluster):
        members.setdefault(c, []).append(x)
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for position in np.flatnonzero(scored.p >= REVIEW_THRESHOLD).tolist():
        code = int(scored.pairs[position])
        i, j = code // n, code % n
        if cluster[i] == cluster[j] or code in yes or code in no:
            continue
        link = (min(cluster[i], cluster[j]), max(cluster[i], cluster[j]))
        p = float(scored.p[position])
        if link not in best or (-p, code) < (-best[link][0], best[link][1]):
            best[link] = (p, code)
    queue = []
    for (a, b), (p, code) in best.items():
        # A person said one pair across these clusters differs: never ask about them again.
        if no and any(min(x, y) * n + max(x, y) in no for x in members[a] for y in members[b]):
            continue
        queue.append((-p, code))
    return [(code // n, code % n) for _, code in sorted(queue)]
