"""The simulated patients: identifiers, home facility, MHV account, sign-in credential, browser.

Identifiers follow the real formats (ICN ``##########V######``, 10-digit EDIPI, UUID user ids) but
are random; emails use the reserved ``example.com`` domain.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Oracle Health (formerly Cerner) sites; every other station runs VistA.
ORACLE_HEALTH_SITES: tuple[str, ...] = (
    "463",
    "531",
    "648",
    "653",
    "663",
    "668",
    "687",
    "692",
    "757",
)

# A spread of VistA station numbers within the 358-758 range used by VA treatment facilities.
VISTA_STATIONS: tuple[str, ...] = (
    "358", "402", "405", "436", "437", "438", "442", "459", "460", "501",
    "502", "506", "508", "509", "512", "515", "516", "518", "520", "521",
    "523", "528", "537", "538", "540", "541", "542", "544", "546", "548",
    "549", "550", "552", "553", "554", "556", "558", "561", "562", "564",
    "573", "580", "581", "583", "589", "590", "595", "598", "605", "612",
    "618", "626", "632", "635", "640", "656", "657", "671", "673", "688",
)  # fmt: skip

ORACLE_HEALTH_SHARE = 0.12

MHV_ACCOUNT_STATES: tuple[tuple[str, float], ...] = (
    ("OK", 0.93),
    ("NONE", 0.035),
    ("MULTIPLE", 0.02),
    ("DEACTIVATED", 0.015),
)

# (device, browser, operating system, user agent). No quotes or backslashes: these go into JSON
# fragments that are built once and reused.
CLIENTS: tuple[tuple[str, str, str, str], ...] = (
    (
        "Desktop", "Chrome 131", "Windows 11",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36",
    ),
    (
        "Desktop", "Edge 131", "Windows 10",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ),
    (
        "Desktop", "Firefox 133", "Windows 11",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    ),
    (
        "Laptop", "Safari 18", "macOS 14",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/18.1 Safari/605.1.15",
    ),
    (
        "iPhone", "Safari 18", "iOS 18",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    ),
    (
        "Android phone", "Chrome 131", "Android 14",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36",
    ),
    (
        "iPad", "Safari 17", "iPadOS 17",
        "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.6 Mobile/15E148 Safari/604.1",
    ),
    (
        "Chromebook", "Chrome 130", "ChromeOS 130",
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36",
    ),
)  # fmt: skip
CLIENT_WEIGHTS = (30, 12, 6, 10, 22, 12, 5, 3)

_FIRST = (
    "james", "mary", "robert", "linda", "michael", "patricia", "william", "barbara", "david",
    "susan", "richard", "jessica", "joseph", "sarah", "thomas", "karen", "charles", "nancy",
    "carlos", "maria", "jamal", "keisha", "nguyen", "ana", "dennis", "gloria",
)  # fmt: skip
_LAST = (
    "smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "rodriguez",
    "martinez", "hernandez", "lopez", "wilson", "anderson", "thomas", "taylor", "moore", "jackson",
    "martin", "lee", "thompson", "white", "harris", "clark", "lewis", "walker",
)  # fmt: skip
_IP_FIRST_OCTETS = (24, 47, 67, 68, 71, 73, 75, 76, 96, 98, 99, 107, 108, 162, 174)


@dataclass(frozen=True)
class Patient:
    """One portal user. Every identifier on it is protected patient data."""

    index: int
    user_uuid: str
    icn: str
    mhv_correlation_id: str
    # A second MHV id for accounts in the MULTIPLE state: the root of the wrong-id pharmacy bug.
    other_mhv_correlation_id: str
    edipi: str
    email: str
    facility: str
    data_source_system: str  # VISTA | ORACLE_HEALTH
    mhv_account_state: str  # OK | NONE | MULTIPLE | DEACTIVATED
    credential: str  # idme | logingov
    device: str
    browser: str
    os: str
    user_agent: str
    remote_ip: str
    activity: float
    prescription_ids: tuple[int, ...]

    @property
    def oracle_health(self) -> bool:
        return self.data_source_system == "ORACLE_HEALTH"


def seeded_rng(seed: int, purpose: str) -> random.Random:
    """An independent random stream for one purpose, fixed by the seed.

    Separate streams keep, say, the population identical when only the traffic rate changes.
    Seeding with a string hashes it with SHA-512, which is stable across runs and machines
    (unlike ``hash()``).
    """
    # A seeded, reproducible generator is the point here; nothing secret is drawn from it.
    return random.Random(f"backline-sim:{seed}:{purpose}")  # noqa: S311


def random_uuid(rng: random.Random) -> str:
    """A version-4-shaped UUID string drawn from ``rng`` (``uuid.uuid4`` would not be reproducible)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def random_icn(rng: random.Random) -> str:
    # Real ICNs start with 10; the six digits after the V are a checksum we do not reproduce.
    return f"10{rng.randrange(10**8):08d}V{rng.randrange(10**6):06d}"


def build_population(rng: random.Random, users: int) -> list[Patient]:
    """``users`` patients drawn from ``rng``; at least one in each MHV account state and EHR."""
    states = [s for s, _ in MHV_ACCOUNT_STATES]
    state_weights = [w for _, w in MHV_ACCOUNT_STATES]
    patients: list[Patient] = []
    for i in range(users):
        oracle = rng.random() < ORACLE_HEALTH_SHARE
        state = rng.choices(states, state_weights)[0]
        # Guarantee the rare shapes that scenarios and tests rely on, whatever the seed.
        if i < len(states):
            state = states[i]
        if i in (4, 5):
            oracle = i == 4
        facility = rng.choice(ORACLE_HEALTH_SITES if oracle else VISTA_STATIONS)
        client = rng.choices(CLIENTS, CLIENT_WEIGHTS)[0]
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        patients.append(
            Patient(
                index=i,
                user_uuid=random_uuid(rng),
                icn=random_icn(rng),
                mhv_correlation_id=str(rng.randrange(10**7, 10**8)),
                other_mhv_correlation_id=(
                    str(rng.randrange(10**7, 10**8)) if state == "MULTIPLE" else ""
                ),
                edipi=str(rng.randrange(10**9, 10**10)),
                email=f"{first}.{last}{rng.randrange(10, 100)}@example.com",
                facility=facility,
                data_source_system="ORACLE_HEALTH" if oracle else "VISTA",
                mhv_account_state=state,
                credential="idme" if rng.random() < 0.6 else "logingov",
                device=client[0],
                browser=client[1],
                os=client[2],
                user_agent=client[3],
                remote_ip=(
                    f"{rng.choice(_IP_FIRST_OCTETS)}.{rng.randrange(256)}."
                    f"{rng.randrange(256)}.{rng.randrange(1, 255)}"
                ),
                # Heavy-tailed: a few patients use the portal far more than most.
                activity=rng.paretovariate(1.6),
                prescription_ids=tuple(
                    rng.randrange(10**7, 3 * 10**7) for _ in range(rng.randrange(1, 6))
                ),
            )
        )
    return patients
