"""Texts the spec fixes to the letter, shared by the HTTP and the browser tests."""

# Paramétrage / Monitoring: the filter labels, which are also the column headers.
SERVICE_COLUMNS = (
    "Réf. du service",
    "Nom du service",
    "Client",
    "Compte client",
    "Site",
    "Type de service",
    "État du service",
)

# A MetaCentrex service's Utilisateurs / Groupements tab: the eleven filter labels.
LICENCE_FILTERS = (
    "SDA",
    "Licence",
    "Réf. accountcode",
    "Réf. fiche produit contractée",
    "État",
    "Numéro d'urgence",
    "Site",
    "Numéro Fax2Mail",
    "Restrictions d'appels sortants",
    "Restrictions d'appels sortants hors forfait illimité",
    "Superviseur",
)
