"""Real NHS systems: bundled NHS England reference data turned into model organisations.

The package carries five NHS England reference tables (``ioc_sim/data/nhs``,
Open Government Licence v3.0; see the README there). The trusts of one
integrated care board (ICB), or any list of ODS codes, become the plain
``organisations`` and ``collaborations`` tables the model accepts, and every
number says where it came from. By step:

* :mod:`~ioc_sim.nhs.data`: the bundled tables, read once;
* :mod:`~ioc_sim.nhs.selection`: the two ICB maps, each ICB's trusts, and
  errors that suggest the nearest known code;
* :mod:`~ioc_sim.nhs.mapping`: type, baseline performance, size unit and pair
  history from the published figures;
* :mod:`~ioc_sim.nhs.geography`: positions from headquarters and shared patients;
* :mod:`~ioc_sim.nhs.real_system`: :func:`build_real_system`, the organisations
  of one system with synthetic partners added on request;
* :mod:`~ioc_sim.nhs.scenario`: a scenario's ``[real_system]`` table, which
  :mod:`ioc_sim.experiments.scenarios` expands with :func:`apply_real_system`.

Nothing here runs the model; this package imports only the declarations
(:mod:`ioc_sim.spec`), so scenarios can use it. The mappings and their reasons
are in ``docs/real_systems.md``.
"""

from ioc_sim.nhs.data import (
    ATTRIBUTION,
    arrangements,
    icbs,
    patient_flows,
    pretty_name,
    successions,
    trusts,
)
from ioc_sim.nhs.geography import (
    OVERLAP_FLOOR,
    flow_vector,
    haversine_km,
    place,
    project_km,
    shared_patients,
)
from ioc_sim.nhs.mapping import (
    EXCLUDED_TYPES,
    HISTORY_DEFAULTS,
    INDICATORS,
    SCALE_HIGH,
    SCALE_LOW,
    TYPE_MAP,
    Indicator,
    acute_median_fte,
    baseline_performance,
    pair_history,
    predecessors,
)
from ioc_sim.nhs.real_system import (
    SYNTHETIC_RADIUS_KM,
    RealSystem,
    build_real_system,
    system_from_code,
)
from ioc_sim.nhs.scenario import (
    ARRANGEMENT_CHOICES,
    REAL_SYSTEM_KEYS,
    apply_real_system,
    parse_real_system,
)
from ioc_sim.nhs.selection import MAP_LABELS, MAPS, icb_maps, list_systems, members_of, resolve_map

__all__ = [
    "ARRANGEMENT_CHOICES",
    "ATTRIBUTION",
    "EXCLUDED_TYPES",
    "HISTORY_DEFAULTS",
    "INDICATORS",
    "MAPS",
    "MAP_LABELS",
    "OVERLAP_FLOOR",
    "REAL_SYSTEM_KEYS",
    "SCALE_HIGH",
    "SCALE_LOW",
    "SYNTHETIC_RADIUS_KM",
    "TYPE_MAP",
    "Indicator",
    "RealSystem",
    "acute_median_fte",
    "apply_real_system",
    "arrangements",
    "baseline_performance",
    "build_real_system",
    "flow_vector",
    "haversine_km",
    "icb_maps",
    "icbs",
    "list_systems",
    "members_of",
    "pair_history",
    "parse_real_system",
    "patient_flows",
    "place",
    "predecessors",
    "pretty_name",
    "project_km",
    "resolve_map",
    "shared_patients",
    "successions",
    "system_from_code",
    "trusts",
]
