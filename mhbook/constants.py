"""Codes, patterns and group labels shared by sources, measures and pages: one copy of each.

Sources: ONS (the England code, GSS), NHS England / NHS Digital (how breakdown labels
are written in Talking Therapies and Mental Health Act publications: the 2001 Census
broad ethnic groups, a two-character code before a label, and the wording of unknowns).
Reporting periods are not here (see ``mhbook.periods``).
"""

from __future__ import annotations

import re

#: England's GSS code (ONS), as published for England rows.
ENGLAND_CODE = "E92000001"

#: The broad ethnic groups of NHS publications (2001 Census categories), in the published
#: order; "Other Ethnic Groups" is written as NHS England writes it.
BROAD_ETHNIC_GROUPS = ("Asian or Asian British", "Black or Black British", "Mixed", "Other Ethnic Groups", "White")

#: The code NHS data dictionaries put before a breakdown label ("05 Mobility", "XX Not stated",
#: "NN Prefer not to say", "ZZ Not applicable"): two digits, or XX, NN or ZZ, and a space.
NHS_CODE_PREFIX = re.compile(r"^(\d\d|XX|NN|ZZ) ")

#: Breakdown labels that say the group is not known (not stated, invalid, unknown ...).
UNKNOWN_GROUP = re.compile(r"not stated|not known|invalid|no code recorded|unknown", re.IGNORECASE)

#: Catalogue ids of reference lookups and boundaries (not measured data): a figure's
#: period is taken from the measured datasets it read, not from these.
REFERENCE_DATASET_PREFIXES = ("lkp-", "bnd-", "dfe-la-codes", "ods-", "iapt-meta-")
