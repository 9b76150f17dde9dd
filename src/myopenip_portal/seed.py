"""Deterministic demo data: the same `--seed` always gives the same clients, services,
licences and numbers.

The service SRV-10021 (with the user guide's four licences) is identical whatever the
seed, because the bot's demo and tests name it; everything around it varies with the seed.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

from myopenip_portal import db
from myopenip_portal.config import OTHER_PARTNER_LOGIN

GROUPEMENTS = "groupements"
UTILISATEURS = "utilisateurs"
USER_TYPES = ("Licence utilisateur essentiel", "Licence utilisateur avancé")
GROUP_TYPES = (
    "Licence SVI",
    "Licence fax entreprise",
    "Licence full conferencing",
    "Licence full meeting avancée",
    "Licence full meeting",
)
RESTRICTIONS = ("Aucune", "International", "Numéros surtaxés", "International et surtaxés")
RESTRICTIONS_HF = ("Aucune", "Bloquées", "Plafonnées à 50 €")
FIRST_NAMES = (
    "Camille", "Léa", "Hugo", "Manon", "Lucas", "Chloé", "Louis", "Inès", "Jules", "Zoé",
    "Arthur", "Jade", "Gabriel", "Louise", "Raphaël", "Alice", "Paul", "Emma", "Nathan",
    "Sarah", "Théo", "Clara", "Tom", "Lina", "Victor", "Anna", "Hélène", "Éric",
)  # fmt: skip
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
    "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David",
    "Bertrand", "Roux", "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier",
)  # fmt: skip

# (login, name) of the two partners; the first login comes from --user.
DEMO_PARTNER_NAME = "Partenaire Démo"
OTHER_PARTNER_NAME = "Partenaire B"

# Demo clients: (name, account, sites). The first owns SRV-10021.
DEMO_CLIENTS = (
    ("Normandie Logistique", "CC-100245", ("Caen – Siège", "Rouen – Entrepôt")),
    ("Cabinet Durand Avocats", "CC-100318", ("Caen – Cabinet", "Bayeux – Annexe")),
    ("Clinique du Parc", "CC-100402", ("Lisieux – Clinique",)),
    ("Boulangeries Lemoine", "CC-100577", ("Caen – Atelier", "Falaise – Boutique")),
    ("Transports Vire & Fils", "CC-100689", ("Vire – Dépôt",)),
    ("Agence Horizon Immobilier", "CC-100731", ("Deauville – Agence", "Honfleur – Agence")),
)
OTHER_CLIENTS = (
    ("Hôtel des Remparts", "CC-200114", ("Saint-Malo – Hôtel",)),
    ("Garage Martin", "CC-200256", ("Rennes – Garage",)),
)

# SRV-10021's groupements: (ref, type, number or None, user). The guide's four are here.
SRV_10021_GROUPEMENTS = (
    ("FPC367123", "Licence SVI", "0231456780", "Accueil SVI"),
    ("FPC367124", "Licence SVI", None, ""),
    ("FPC367125", "Licence fax entreprise", "0231456782", "Fax Comptabilité"),
    ("FPC367126", "Licence full conferencing", None, ""),
    ("FPC367127", "Licence fax entreprise", "0231456781", "Fax Direction"),
    ("FPC367128", "Licence full conferencing", "0231456789", "Salle Conférence Seine"),
    ("FPC367129", "Licence full meeting avancée", "0231456790", "Salle Réunion Orne"),
    ("FPC367130", "Licence full meeting", "0231456791", "Salle Réunion Dives"),
)
SRV_10021_USERS = 28  # more than a page of 20
SRV_10021_NO_NUMBER = {5, 12, 19, 26}  # indexes of user licences without a number
SRV_10021_STANDARDISTE = {0, 9, 17, 26}
SRV_10021_RECORDING = {0, 3, 9, 14, 21}

# `--licences-per-service N` with `--bulk-services K` (benchmarks at scale, workers on
# services of their own): K active MetaCentrex services of K different clients of the demo
# user are topped up to N numbered "Utilisateurs" licences each. The first two are
# SRV-10022 and SRV-10023, refs FPC600000… and FPC700000… (the seed's random refs stay
# below FPC500000); from the third on, each service is added with a client and a site of
# its own (SRV-10403 "MetaCentrex Banc d'essai 03" of "Banc d'essai 03", CC-900003, …),
# its refs taken N at a time from FPC800000 on. The k-th service's numbers start with
# 0970 + k - 1 (0970, 0971, 0972…; the seed's start with 02). All of it is drawn from a
# random stream of its own after every other row: whatever K and N, the rest of the data
# (SRV-10021 and the guide's licences above all) is exactly that of the seed. N = 0 (the
# default) adds nothing, whatever K; K = 2 (the default) adds no service.
EXISTING_BULK = (("SRV-10022", 600000), ("SRV-10023", 700000))
BULK_MAX = 99999  # licences a bulk service may hold
BULK_SERVICES_MAX = 30  # one number prefix each, 0970 to 0999
ADDED_BULK_FIRST_REF = 800000
ADDED_BULK_REFS = 1_000_000 - ADDED_BULK_FIRST_REF  # FPC800000 to FPC999999, shared


def bulk_problem(services: int, per_service: int) -> str | None:
    """Why K bulk services of N licences each cannot be seeded, or None."""
    if not 1 <= services <= BULK_SERVICES_MAX:
        return f"bulk services must be between 1 and {BULK_SERVICES_MAX}, got {services}"
    if not 0 <= per_service <= BULK_MAX:
        return f"licences per service must be between 0 and {BULK_MAX}, got {per_service}"
    added = max(0, services - len(EXISTING_BULK)) * per_service
    if added > ADDED_BULK_REFS:
        return (
            f"{services} bulk services of {per_service} licences need {added} new refs "
            f"beyond SRV-10022 and SRV-10023; at most {ADDED_BULK_REFS}"
        )
    return None


def seed_database(
    conn: sqlite3.Connection,
    seed: int,
    user: str,
    password: str,
    *,
    licences_per_service: int = 0,
    bulk_services: int = len(EXISTING_BULK),
) -> None:
    """Replace all data with the data set of this seed (one transaction, well under 1 s
    with the default data); `licences_per_service` and `bulk_services`: see EXISTING_BULK."""
    problem = bulk_problem(bulk_services, licences_per_service)
    if problem:
        raise ValueError(problem)
    rows = _DataSet(seed, user, password, licences_per_service, bulk_services).build()
    conn.execute("BEGIN")
    try:
        db.wipe(conn)
        for table in ("partners", "clients", "sites", "services", "licences", "numbers"):
            db.insert_rows(conn, table, rows[table])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


class _DataSet:
    """Builds the rows of every table for one seed."""

    def __init__(
        self, seed: int, user: str, password: str, licences_per_service: int, bulk_services: int
    ) -> None:
        self.rng = random.Random(seed)
        self.licences_per_service = licences_per_service
        self.bulk_services = bulk_services
        self.user = user
        self.password = password
        self.rows: dict[str, list[dict[str, Any]]] = {
            t: [] for t in ("partners", "clients", "sites", "services", "licences", "numbers")
        }
        fixed_groupements = {ref for ref, *_ in SRV_10021_GROUPEMENTS}
        fixed_users = {f"FPC{367131 + i}" for i in range(SRV_10021_USERS)}
        self.used_refs: set[str] = fixed_groupements | fixed_users
        self.used_numbers: set[str] = {n for _, _, n, _ in SRV_10021_GROUPEMENTS if n} | {
            f"02314567{i + 1:02d}" for i in range(SRV_10021_USERS)
        }
        self.sites: dict[str, list[tuple[int, str]]] = {}
        self.clients: dict[str, int] = {}

    # -- helpers

    def _new_ref(self) -> str:
        while True:
            ref = f"FPC{self.rng.randint(300000, 499999)}"
            if ref not in self.used_refs:
                self.used_refs.add(ref)
                return ref

    def _new_number(self, prefix: str) -> str:
        while True:
            number = prefix + "".join(str(self.rng.randint(0, 9)) for _ in range(10 - len(prefix)))
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def _person(self, rng: random.Random) -> str:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"

    # -- build

    def build(self) -> dict[str, list[dict[str, Any]]]:
        self.rows["partners"] = [
            {"login": self.user, "name": DEMO_PARTNER_NAME, "password": self.password},
            {
                "login": OTHER_PARTNER_LOGIN,
                "name": OTHER_PARTNER_NAME,
                "password": OTHER_PARTNER_LOGIN,
            },
        ]
        site_id = 0
        for partner, clients in ((self.user, DEMO_CLIENTS), (OTHER_PARTNER_LOGIN, OTHER_CLIENTS)):
            for name, account, site_names in clients:
                client_id = len(self.rows["clients"]) + 1
                self.clients[account] = client_id
                self.rows["clients"].append(
                    {"id": client_id, "name": name, "account": account, "partner": partner}
                )
                self.sites[account] = []
                for site_name in site_names:
                    site_id += 1
                    self.sites[account].append((site_id, site_name))
                    self.rows["sites"].append(
                        {"id": site_id, "client_id": client_id, "name": site_name}
                    )
        self._srv_10021()
        self._fixed_services()
        self._random_services()
        self._bulk_licences()
        return self.rows

    def _service(
        self, ref: str, name: str, account: str, site: int, type_: str, state: str
    ) -> tuple[str, str]:
        site_id, site_name = self.sites[account][site]
        details: dict[str, str] = {}
        if type_ == "Trunk SIP":
            details = {
                "Canaux simultanés": str(self.rng.choice((10, 20, 30, 60))),
                "Adresse IP de l'IPBX": f"192.0.2.{self.rng.randint(2, 250)}",
                "Codec préféré": "G.711 A-law",
                "Tranche SDA": f"{self._new_number('02')[:8]}00 – 99",
            }
        elif type_ == "Accès Fibre":
            details = {
                "Débit": self.rng.choice(("100 Mbit/s", "500 Mbit/s", "1 Gbit/s")),
                "Adresse IP fixe": f"198.51.100.{self.rng.randint(2, 250)}",
                "Routeur": "openIP Box Pro",
                "Garantie de temps de rétablissement": "4 h ouvrées",
            }
        elif type_ == "Accès SDSL":
            details = {"Débit": "8 Mbit/s symétriques", "Paires de cuivre": "2"}
        self.rows["services"].append(
            {
                "ref": ref,
                "name": name,
                "client_id": self.clients[account],
                "site_id": site_id,
                "type": type_,
                "state": state,
                "details": details,
            }
        )
        return account, site_name

    def _licence(
        self,
        *,
        ref: str,
        service_ref: str,
        account: str,
        site: str,
        type_: str,
        tab: str,
        number: str | None,
        user_name: str,
        options: list[str],
        rng: random.Random,
    ) -> None:
        fax = type_ == "Licence fax entreprise"
        self.rows["licences"].append(
            {
                "ref": ref,
                "service_ref": service_ref,
                "type": type_,
                "tab": tab,
                "sda": number,
                "user_name": user_name if number else "",
                "site": site,
                "state": db.ASSIGNED_STATE if number else db.UNASSIGNED_STATE,
                "accountcode": f"AC-{ref[3:]}",
                "fiche": f"OC-{rng.randint(2019, 2024)}-{rng.randint(1000, 9999)}",
                "urgence": (number[:8] + "00") if number else "",
                "fax2mail": number if (fax and number) else "",
                "restrictions": rng.choice(RESTRICTIONS),
                "restrictions_hf": rng.choice(RESTRICTIONS_HF),
                "superviseur": ("Oui" if rng.random() < 0.2 else "Non") if number else "",
                "options": options,
                "settings": _settings(rng, number, fax) if number else {},
                "history": rng.randint(3, 480) if number else 0,
            }
        )
        if number:
            self.rows["numbers"].append(
                {"number": number, "account": account, "state": "assigned", "licence_ref": ref}
            )

    # -- the data sets

    def _srv_10021(self) -> None:
        """The guide's service: fixed content, its own random stream so no seed changes it."""
        rng = random.Random(10021)
        account, site = self._service(
            "SRV-10021", "MetaCentrex Siège Caen", "CC-100245", 0, db.METACENTREX, db.ACTIVE
        )
        for ref, type_, number, user_name in SRV_10021_GROUPEMENTS:
            self._licence(
                ref=ref, service_ref="SRV-10021", account=account, site=site, type_=type_,
                tab=GROUPEMENTS, number=number, user_name=user_name,
                options=["Enregistrement des appels"] if type_ == "Licence SVI" else [], rng=rng,
            )  # fmt: skip
        for i in range(SRV_10021_USERS):
            options = []
            if i in SRV_10021_STANDARDISTE:
                options.append(db.STANDARDISTE)
            if i in SRV_10021_RECORDING:
                options.append("Enregistrement des appels")
            self._licence(
                ref=f"FPC{367131 + i}", service_ref="SRV-10021", account=account, site=site,
                type_=USER_TYPES[i % 3 == 2], tab=UTILISATEURS,
                number=None if i in SRV_10021_NO_NUMBER else f"02314567{i + 1:02d}",
                user_name=self._person(rng), options=options, rng=rng,
            )  # fmt: skip
        # The client's pool also holds numbers free to give and one in quarantine.
        for number, number_state in (
            ("0231456792", "available"),
            ("0231456793", "available"),
            ("0231456796", "quarantine"),
        ):
            self.used_numbers.add(number)
            self.rows["numbers"].append(
                {"number": number, "account": account, "state": number_state, "licence_ref": None}
            )

    def _metacentrex_licences(
        self, service_ref: str, account: str, site: str, users: int, groups: int, unnumbered: int
    ) -> None:
        prefix = "02" + str(self.rng.randint(31, 33))
        for i in range(users + groups):
            is_user = i < users
            options = []
            if is_user and self.rng.random() < 0.15:
                options.append(db.STANDARDISTE)
            if self.rng.random() < 0.25:
                options.append("Enregistrement des appels")
            self._licence(
                ref=self._new_ref(), service_ref=service_ref, account=account, site=site,
                type_=self.rng.choice(USER_TYPES if is_user else GROUP_TYPES),
                tab=UTILISATEURS if is_user else GROUPEMENTS,
                number=None if i < unnumbered else self._new_number(prefix),
                user_name=self._person(self.rng) if is_user else "Groupement",
                options=options, rng=self.rng,
            )  # fmt: skip

    def _fixed_services(self) -> None:
        """Services whose existence the bot's tests rely on; their content follows the seed."""
        account, site = self._service(
            "SRV-10022", "MetaCentrex Cabinet", "CC-100318", 0, db.METACENTREX, db.ACTIVE
        )
        self._metacentrex_licences("SRV-10022", account, site, users=22, groups=3, unnumbered=2)
        account, site = self._service(
            "SRV-10023", "MetaCentrex Clinique", "CC-100402", 0, db.METACENTREX, db.ACTIVE
        )
        self._metacentrex_licences("SRV-10023", account, site, users=21, groups=2, unnumbered=1)
        account, site = self._service(
            "SRV-10024", "MetaCentrex Atelier", "CC-100577", 0, db.METACENTREX, "Suspendu"
        )
        self._metacentrex_licences("SRV-10024", account, site, users=4, groups=1, unnumbered=0)
        account, site = self._service(
            "SRV-10025", "MetaCentrex Dépôt", "CC-100689", 0, db.METACENTREX, "Résilié"
        )
        self._metacentrex_licences("SRV-10025", account, site, users=2, groups=0, unnumbered=2)
        self._service("SRV-10026", "Trunk SIP Rouen", "CC-100245", 1, "Trunk SIP", db.ACTIVE)
        self._service("SRV-10027", "Fibre Entrepôt Rouen", "CC-100245", 1, "Accès Fibre", db.ACTIVE)
        account, site = self._service(
            "SRV-20001", "MetaCentrex Hôtel", "CC-200114", 0, db.METACENTREX, db.ACTIVE
        )
        self._metacentrex_licences("SRV-20001", account, site, users=6, groups=2, unnumbered=1)
        self._service("SRV-20002", "Trunk SIP Garage", "CC-200256", 0, "Trunk SIP", db.ACTIVE)

    def _random_services(self) -> None:
        """Enough further services that the list paginates and filters matter."""
        types = (db.METACENTREX, "Trunk SIP", "Accès Fibre", "Accès SDSL")
        states = (db.ACTIVE, db.ACTIVE, db.ACTIVE, "Suspendu", "Résilié")
        count = self.rng.randint(18, 24)
        refs = sorted(self.rng.sample(range(10030, 10300), count))
        for number in refs:
            ref = f"SRV-{number}"
            _name, account, sites = self.rng.choice(DEMO_CLIENTS)
            site = self.rng.randrange(len(sites))
            type_ = self.rng.choice(types)
            label = {db.METACENTREX: "MetaCentrex", "Trunk SIP": "Trunk SIP"}.get(type_, "Accès")
            town = sites[site].split(" – ")[0]
            account, site_name = self._service(
                ref, f"{label} {town}", account, site, type_, self.rng.choice(states)
            )
            if type_ == db.METACENTREX:
                users = self.rng.randint(0, 5)
                self._metacentrex_licences(
                    ref, account, site_name, users=users, groups=self.rng.randint(0, 2),
                    unnumbered=self.rng.randint(0, 1),
                )  # fmt: skip

    def _bulk_licences(self) -> None:
        """`--licences-per-service N`: top up the bulk services (see EXISTING_BULK)."""
        if self.licences_per_service <= 0:
            return
        rng = random.Random(f"bulk-{self.rng.random()}")  # after every other draw
        for index in range(self.bulk_services):
            service_ref, first_ref = self._bulk_service(index)
            self._top_up(service_ref, first_ref, f"09{70 + index}", rng)

    def _bulk_service(self, index: int) -> tuple[str, int]:
        """The index-th bulk service (added with its client from the third on) and its
        first licence ref."""
        if index < len(EXISTING_BULK):
            return EXISTING_BULK[index]
        number = f"{index + 1:02d}"
        account = f"CC-9000{number}"
        client_id = len(self.rows["clients"]) + 1
        site_id = len(self.rows["sites"]) + 1
        name, site = f"Banc d'essai {number}", "Caen – Banc d'essai"
        self.clients[account] = client_id
        self.sites[account] = [(site_id, site)]
        self.rows["clients"].append(
            {"id": client_id, "name": name, "account": account, "partner": self.user}
        )
        self.rows["sites"].append({"id": site_id, "client_id": client_id, "name": site})
        ref = f"SRV-104{number}"
        self._service(ref, f"MetaCentrex {name}", account, 0, db.METACENTREX, db.ACTIVE)
        added = index - len(EXISTING_BULK)
        return ref, ADDED_BULK_FIRST_REF + added * self.licences_per_service

    def _top_up(self, service_ref: str, first_ref: int, prefix: str, rng: random.Random) -> None:
        """Numbered "Utilisateurs" licences until the service holds licences_per_service."""
        accounts = {client_id: account for account, client_id in self.clients.items()}
        service = next(s for s in self.rows["services"] if s["ref"] == service_ref)
        account = accounts[service["client_id"]]
        site = dict(self.sites[account])[service["site_id"]]
        have = sum(1 for lic in self.rows["licences"] if lic["service_ref"] == service_ref)
        for i in range(max(0, self.licences_per_service - have)):
            ref, number = f"FPC{first_ref + i}", f"{prefix}{i:06d}"
            self.used_refs.add(ref)
            self.used_numbers.add(number)
            options = [db.STANDARDISTE] if rng.random() < 0.15 else []
            self._licence(
                ref=ref, service_ref=service_ref, account=account, site=site,
                type_=rng.choice(USER_TYPES), tab=UTILISATEURS, number=number,
                user_name=self._person(rng), options=options, rng=rng,
            )  # fmt: skip


def _settings(rng: random.Random, number: str, fax: bool) -> dict[str, Any]:
    """A licence's settings: what a dissociation wipes."""
    if fax:
        return {"fax2mail": f"fax.{number}@example.fr", "en_tete": "openIP Fax"}
    return {
        "messagerie_vocale": rng.random() < 0.8,
        "renvoi_immediat": None if rng.random() < 0.7 else f"06{rng.randint(10000000, 99999999)}",
        "renvoi_sur_non_reponse_secondes": rng.choice((15, 20, 30)),
        "presentation_numero": rng.choice(("SDA", "Standard")),
    }
