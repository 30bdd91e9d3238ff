"""Real NHS systems: the bundled data, its mapping onto the model, scenarios and commands."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ioc_sim import load_scenario, nhs
from ioc_sim.cli.main import main
from ioc_sim.errors import ConfigError
from ioc_sim.experiments.scenarios import bundled_scenarios
from ioc_sim.spec.forms import ORG_TYPES

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "ioc_sim" / "data" / "nhs"


def raw_csv(name: str) -> pd.DataFrame:
    """A bundled table read straight from the file, independently of ioc_sim.nhs."""
    return pd.read_csv(DATA / name, dtype=str)


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ----------------------------------------------------------------- the data
def test_data_is_bundled_with_its_licence_attribution():
    for name in (
        "nhs_trusts_england.csv",
        "icbs.csv",
        "trust_icb_patient_flows_2022.csv",
        "trust_successions_since_2010.csv",
        "trust_group_arrangements_evidence.csv",
    ):
        assert (DATA / name).is_file(), name
    readme = (DATA / "README.md").read_text()
    assert (
        "Contains public sector information licensed under the Open Government Licence v3.0"
        in readme
    )
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["ioc_sim"]
    assert {"data/nhs/*.csv", "data/nhs/*.md", "data/*.toml"} <= set(patterns)
    assert len(nhs.trusts()) == 206 and len(nhs.icbs()) == 48


def test_trust_counts_per_icb_match_the_files():
    icbs = raw_csv("icbs.csv").set_index("icb_code")
    trusts = raw_csv("nhs_trusts_england.csv")
    listing = nhs.list_systems().set_index("icb")
    assert len(listing) == 48
    for code, row in icbs.iterrows():
        for year, col in (("2025", "trusts_2022"), ("2026", "trusts_2026")):
            expected = row[f"n_trusts_{year}"]
            got = listing.at[code, col]
            if pd.isna(expected):
                assert pd.isna(got), (code, year)
                continue
            open_ = trusts[f"open_in_{year}_snapshot"].fillna("True") != "False"
            in_file = int(((trusts[f"icb_code_{year}"] == code) & open_).sum())
            assert int(got) == int(float(expected)) == in_file, (code, year)
    types = ["acute", "acute_specialist", "mental_health", "community", "ambulance", "other_online"]
    used = listing.apply(
        lambda r: r["trusts_2026"] if r["map_used"] == "2026" else r["trusts_2022"], axis=1
    )
    assert (listing[types].sum(axis=1) == used).all()
    assert len(nhs.list_systems("2026")) == 36 and len(nhs.list_systems("2022")) == 42


def all_systems() -> list[tuple[str, str]]:
    return [
        (code, "2022" if y == "2025" else "2026")
        for code in nhs.icbs().index
        for y in nhs.icb_maps(code)
    ]


@pytest.mark.parametrize("code,map_", all_systems(), ids=[f"{c}-{m}" for c, m in all_systems()])
def test_every_system_builds_and_runs(tmp_path, code, map_):
    p = write(
        tmp_path,
        f'[scenario]\nmonths = 3\n[real_system]\nicb = "{code}"\n'
        f'map = "{map_}"\nadd_primary_care = 2\n',
    )
    sc = load_scenario(p)
    year = "2025" if map_ == "2022" else "2026"
    members = nhs.members_of(code, year)
    modelled = members[members["org_type"] != "other_online"]
    assert [o["id"] for o in sc.organisations[:-2]] == list(modelled.index)
    model = sc.build()
    model.run()
    df = model.model_dataframe()
    assert len(df) == 4 and df.notna().all().all()
    assert {a.code for a in model.agents} == set(modelled.index) | {"PCN01", "PCN02"}


def test_a_one_trust_system_needs_partners(tmp_path):
    p = write(tmp_path, '[scenario]\nmonths = 3\n[real_system]\nicb = "QSL"\n')
    with pytest.raises(ConfigError, match="has 1 organisation; a collaboration needs two"):
        load_scenario(p)


# ------------------------------------------------------------------ mappings
def test_types_map_onto_the_model_and_the_online_trust_is_excluded():
    rs = nhs.build_real_system("QKK", map_="2026")
    assert "K0N6A" not in rs.ids
    assert any("K0N6A" in n and "national online trust" in n for n in rs.notes)
    rs = nhs.build_real_system("QOP")
    types = dict(zip(rs.table["id"], rs.table["type"], strict=True))
    assert types["RBV"] == "acute"  # The Christie, a specialist acute trust
    assert types["RXV"] == "mental_health" and types["RX7"] == "ambulance"
    assert set(types.values()) <= set(ORG_TYPES)


def test_indicator_scores_are_linear_from_floor_to_standard():
    ae, rtt, occ = nhs.INDICATORS
    assert ae.score(0.50) == pytest.approx(0.1) and ae.score(0.95) == pytest.approx(0.9)
    assert ae.score(0.725) == pytest.approx(0.5)
    assert ae.score(0.30) == 0.1 and ae.score(0.99) == 0.9  # clipped
    assert occ.score(1.00) == pytest.approx(0.1) and occ.score(0.85) == pytest.approx(0.9)
    assert occ.score(0.90) > occ.score(0.95)  # fuller hospitals score lower
    assert rtt.score(0.66) == pytest.approx(0.5)


def test_baseline_performance_of_a_real_trust_by_hand():
    rs = nhs.build_real_system("QOC")
    row = rs.table.set_index("id").loc["RXW"]
    ae = 0.1 + 0.8 * (0.5184 - 0.50) / 0.45
    rtt = 0.1 + 0.8 * (0.6907 - 0.40) / 0.52
    occ = 0.1 + 0.8 * (0.9481 - 1.00) / (0.85 - 1.00)
    assert row["baseline_performance"] == pytest.approx((ae + rtt + occ) / 3, abs=1e-4)
    assert row["performance_basis"] == "A&E 4h, RTT 18w, occupancy"
    # A community trust's minor-injury A&E figure is not used; its RTT figure is.
    r1d = rs.table.set_index("id").loc["R1D"]
    assert r1d["A&E 4h"] == pytest.approx(0.996) and r1d["performance_basis"] == "RTT 18w"


def test_missing_values_are_imputed_explicitly_never_zero(tmp_path):
    rs = nhs.build_real_system("QOP")
    t = rs.table.set_index("id")
    for code in ("RT2", "RXV", "RX7"):
        assert t.at[code, "baseline_performance"] == 0.55
        assert t.at[code, "performance_basis"].startswith("imputed")
        assert any(n.startswith(code) and "imputed as 0.55" in n for n in rs.notes)
    assert (rs.table["baseline_performance"].dropna() > 0).all()
    # The imputation follows the scenario's own population mean.
    p = write(
        tmp_path,
        "[scenario]\nmonths = 2\n[system]\nbaseline_performance_mean = 0.6\n"
        '[real_system]\nicb = "QOP"\n',
    )
    orgs = {o["id"]: o for o in load_scenario(p).organisations}
    assert orgs["RT2"]["baseline_performance"] == 0.6
    # A tiny waiting list (31 pathways) is not used: the trust has no indicator left.
    r1a = nhs.build_real_system(ods=["R1A", "RWP"]).table.set_index("id").loc["R1A"]
    assert r1a["performance_basis"].startswith("imputed")


def test_sizes_are_staff_relative_to_the_median_acute_trust():
    rs = nhs.build_real_system("QOP")
    t = rs.table.set_index("id")
    unit = nhs.acute_median_fte()
    assert unit == pytest.approx(5257.5)
    assert t.at["R0A", "size"] == pytest.approx(17976 / unit, abs=1e-4)


def test_geographic_positions_keep_headquarters_distances():
    rs = nhs.build_real_system("QOC", placement="geography")
    t = rs.table.set_index("id")
    a, b = t.loc["RXW"], t.loc["RL1"]
    model_km = float(np.hypot(a["x"] - b["x"], a["y"] - b["y"]))
    true_km = nhs.haversine_km(a["lat"], a["lon"], b["lat"], b["lon"])
    assert model_km == pytest.approx(true_km, rel=0.01)


def test_shared_patients_by_hand():
    flows = pd.read_csv(DATA / "trust_icb_patient_flows_2022.csv")
    a = flows[flows.ods_code == "R0A"].set_index("icb_code")["share_of_trust_admissions_from_icb"]
    b = flows[flows.ods_code == "RM3"].set_index("icb_code")["share_of_trust_admissions_from_icb"]
    both = pd.concat([a, b], axis=1).fillna(0.0)
    overlap = nhs.shared_patients(["R0A", "RM3", "RXV"])
    assert overlap.at["R0A", "RM3"] == pytest.approx(both.min(axis=1).sum())
    assert overlap.at["R0A", "R0A"] == pytest.approx(1.0, abs=1e-5)
    assert overlap.loc["RXV"].isna().all()  # a mental health trust: unknown, not zero
    # A trust that took over another after 2022 pools their shares with equal weight.
    ral = nhs.flow_vector("RAL")
    assert ral.sum() == pytest.approx(1.0, abs=1e-5)
    own = flows[flows.ods_code == "RAL"].set_index("icb_code")["share_of_trust_admissions_from_icb"]
    old = flows[flows.ods_code == "RAP"].set_index("icb_code")["share_of_trust_admissions_from_icb"]
    expected = pd.concat([own, old], axis=1).fillna(0.0).mean(axis=1)
    pd.testing.assert_series_equal(ral.sort_index(), expected.sort_index(), check_names=False)


def test_shared_patients_placement_pulls_sharing_pairs_together():
    geo = nhs.build_real_system("T6Y0W", placement="geography").table.set_index("id")
    pat = nhs.build_real_system("T6Y0W").table.set_index("id")

    def stretch(a: str, b: str) -> float:
        d = lambda t: float(np.hypot(*(t.loc[a, ["x", "y"]] - t.loc[b, ["x", "y"]])))  # noqa: E731
        return d(pat) / d(geo)

    # West Suffolk shares few patients with Norwich; King's Lynn shares many.
    overlap = nhs.shared_patients(["RGR", "RM1", "RCX"])
    assert overlap.at["RGR", "RM1"] < overlap.at["RCX", "RM1"]
    assert stretch("RGR", "RM1") > stretch("RCX", "RM1")


def test_pair_history_from_icbs_groups_and_successions():
    pairs = nhs.pair_history(["R0A", "RM3", "RWJ", "RXW", "R1D", "RGR"])
    h = {frozenset((a, b)): (v, r) for a, b, v, r in pairs.itertuples(index=False)}
    assert h[frozenset(("R0A", "RWJ"))][0] == pytest.approx(0.1)  # same ICB since 2022
    value, reasons = h[frozenset(("R0A", "RM3"))]  # both took over RW6
    assert value == pytest.approx(0.0) and "RW6" in reasons
    value, reasons = h[frozenset(("RXW", "R1D"))]  # G3 group model
    assert value == pytest.approx(0.4) and "G3" in reasons
    assert frozenset(("RGR", "RXW")) not in h  # no record at all


def test_collaborations_take_the_history_of_their_members(tmp_path):
    p = write(
        tmp_path,
        '[scenario]\nmonths = 2\n[real_system]\nicb = "QOC"\n'
        '[[collaborations]]\nname = "pair"\nform = "group_model"\n'
        'members = ["RXW", "R1D"]\n'
        '[[collaborations]]\nname = "all3"\nmembers = "all"\n'
        '[[collaborations]]\nname = "told"\nmembers = "all"\nhistory = -0.5\n',
    )
    sc = load_scenario(p)
    history = sc.build().collaborations().set_index("name")["history"]
    assert history["pair"] == pytest.approx(0.4)
    assert history["all3"] == pytest.approx((0.4 + 0.1 + 0.1) / 3, abs=1e-4)
    assert history["told"] == -0.5


def test_arrangements_can_become_collaborations(tmp_path):
    base = '[scenario]\nmonths = 2\n[real_system]\nicb = "QOC"\n'
    collabs = (
        load_scenario(write(tmp_path, base + 'arrangements = "collaborations"\n'))
        .build()
        .collaborations()
        .set_index("name")
    )
    assert collabs.at["arrangement_G3", "form"] == "group_model"
    assert collabs.at["arrangement_G3", "members"] == "RXW, R1D"
    assert "main" in collabs.index
    ignored = (
        load_scenario(write(tmp_path, base + 'arrangements = "ignore"\n'))
        .build()
        .collaborations()
        .set_index("name")
    )
    assert list(ignored.index) == ["main"]
    assert ignored.at["main", "history"] == pytest.approx(0.1)


def test_synthetic_partners_sit_near_their_hosts(tmp_path):
    p = write(
        tmp_path,
        '[scenario]\nmonths = 2\n[real_system]\nicb = "QOP"\n'
        "add_primary_care = 14\nadd_social_care = 10\n",
    )
    sc = load_scenario(p)
    orgs = {o["id"]: o for o in sc.organisations}
    pcn = [o for o in orgs.values() if o["type"] == "primary_care_network"]
    sc_ = [o for o in orgs.values() if o["type"] == "social_care"]
    assert len(pcn) == 14 and len(sc_) == 10
    for o in pcn + sc_:
        host = orgs[o["name"].split("near ")[1].rstrip(")")]
        radius = nhs.SYNTHETIC_RADIUS_KM[o["type"]]
        assert np.hypot(o["x"] - host["x"], o["y"] - host["y"]) == pytest.approx(radius, abs=0.01)
        assert host["type"] == "acute" and o["distressed"] is False
        assert "baseline_performance" not in o  # drawn by the model
    # The largest acute trust hosts the most networks.
    hosts = pd.Series([o["name"].split("near ")[1].rstrip(")") for o in pcn]).value_counts()
    assert hosts.index[0] == "R0A"
    model = sc.build()
    assert len(model.agents) == 10 + 24
    assert model.agent("PCN01").org_type == "primary_care_network"


def test_scenario_organisations_override_a_real_trust(tmp_path):
    p = write(
        tmp_path,
        '[scenario]\nmonths = 2\n[real_system]\nicb = "QOP"\n'
        '[[organisations]]\nid = "RWJ"\ndistressed = true\nfinances = 0.2\n'
        '[[organisations]]\nid = "HOSPICE"\ntype = "community"\n',
    )
    model = load_scenario(p).build()
    assert model.agent("RWJ").distressed and model.agent("RWJ").finances == pytest.approx(0.2)
    assert not model.agent("RMC").distressed  # no status in the data: outside special measures
    assert model.agent("HOSPICE").org_type == "community"


def test_system_shorthand(tmp_path):
    sc = load_scenario(write(tmp_path, 'system = "QOC"\n[scenario]\nmonths = 2\n'))
    assert [o["id"] for o in sc.organisations] == ["R1D", "RL1", "RXW"]
    sc = load_scenario(write(tmp_path, 'system = ["RXW", "RWJ"]\n[scenario]\nmonths = 2\n'))
    assert [o["id"] for o in sc.organisations] == ["RXW", "RWJ"]
    assert sc.real_system.icb is None


BASE = "[scenario]\nmonths = 6\n"
BAD = [
    (
        "unknown key",
        BASE + '[real_system]\nicb = "QOP"\nadd_gps = 3\n',
        "real_system.add_gps: unknown key in [real_system]",
    ),
    (
        "unknown icb",
        BASE + '[real_system]\nicb = "QOQQ"\n',
        "real_system.icb: unknown ICB code 'QOQQ' (did you mean",
    ),
    (
        "neither",
        BASE + "[real_system]\nadd_primary_care = 2\n",
        "real_system: give exactly one of icb",
    ),
    (
        "both",
        BASE + '[real_system]\nicb = "QOP"\nods = ["RXW"]\n',
        "real_system: give exactly one of icb",
    ),
    (
        "bad map",
        BASE + '[real_system]\nicb = "QOP"\nmap = "2030"\n',
        "real_system.map: got '2030'; allowed",
    ),
    (
        "map off its life",
        BASE + '[real_system]\nicb = "QMM"\nmap = 2026\n',
        "real_system.map: got 2026, but QMM exists only on the 2022-2026 map",
    ),
    (
        "map with ods",
        BASE + '[real_system]\nods = ["RXW", "R1D"]\nmap = "2026"\n',
        "real_system.map: applies only with icb",
    ),
    (
        "closed trust",
        BASE + '[real_system]\nods = ["RXW", "RW6"]\n',
        "real_system.ods[1]: RW6 closed on 2021-10-01",
    ),
    (
        "unknown ods",
        BASE + '[real_system]\nods = ["RXW", "RZZ9"]\n',
        "real_system.ods[1]: unknown ODS code 'RZZ9'",
    ),
    (
        "duplicate ods",
        BASE + '[real_system]\nods = ["RXW", "RXW"]\n',
        "real_system.ods[1]: RXW is listed twice",
    ),
    (
        "ods not a list",
        BASE + '[real_system]\nods = "RXW"\n',
        "real_system.ods: got 'RXW'; allowed: a list of ODS codes",
    ),
    (
        "bad type",
        BASE + '[real_system]\nicb = "QOP"\ntypes = ["hospital"]\n',
        "real_system.types: got ['hospital']",
    ),
    (
        "negative partners",
        BASE + '[real_system]\nicb = "QOP"\nadd_primary_care = -1\n',
        "real_system.add_primary_care: got -1; allowed: a whole number from 0 to 500",
    ),
    (
        "bad placement",
        BASE + '[real_system]\nicb = "QOP"\nplacement = "random"\n',
        "real_system.placement: got 'random'",
    ),
    (
        "history range",
        BASE + '[real_system]\nicb = "QOP"\nhistory_group = 2\n',
        "real_system.history_group: got 2; allowed: a number from -1 to 1",
    ),
    (
        "bad arrangements",
        BASE + '[real_system]\nicb = "QOP"\narrangements = "all"\n',
        "real_system.arrangements: got 'all'",
    ),
    (
        "exclude stranger",
        BASE + '[real_system]\nicb = "QOP"\nexclude = ["RXW"]\n',
        "real_system.exclude[0]: 'RXW' is not a trust of this system",
    ),
    (
        "distressed stranger",
        BASE + '[real_system]\nicb = "QOP"\ndistressed = ["RXW"]\n',
        "real_system.distressed[0]: 'RXW' is not a trust of this system",
    ),
    (
        "n_organisations",
        BASE + '[system]\nn_organisations = 40\n[real_system]\nicb = "QOP"\n',
        "system.n_organisations: not used with a real system",
    ),
    (
        "said twice",
        'system = "QOP"\n' + BASE + '[real_system]\nicb = "QOP"\n',
        "system: name the real system once",
    ),
    (
        "override typo",
        BASE + '[real_system]\nicb = "QOP"\n[[organisations]]\nid = "RWJ"\n'
        '[[organisations]]\nid = "RMC"\nfinance = 0.3\n',
        "organisations[1].finance: unknown organisation field",
    ),
    (
        "addition without type",
        BASE + '[real_system]\nicb = "QOP"\n[[organisations]]\nid = "NEW"\n',
        "organisations[0].type: got None",
    ),
    (
        "unknown member",
        BASE + '[real_system]\nicb = "QOC"\n[[collaborations]]\nname = "x"\n'
        'members = ["RXW", "RWJ"]\n',
        "collaborations[0].members: unknown organisation 'RWJ'",
    ),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in BAD], ids=[n for n, _, _ in BAD])
def test_bad_real_system_names_file_and_field(tmp_path, text, expected):
    p = write(tmp_path, text, "bad.toml")
    with pytest.raises(ConfigError) as info:
        load_scenario(p)
    message = str(info.value)
    assert message.startswith(str(p)), message
    assert expected in message, message
    assert "\n" not in message


# ------------------------------------------------------------ bundled scenarios
REAL = [p for p in bundled_scenarios() if "real_system" in tomllib.loads(p.read_text())]


def test_bundled_real_systems_cover_three_shapes():
    systems = {}
    for p in REAL:
        data = tomllib.loads(p.read_text())
        assert p.read_text().startswith("# Question:") and data["scenario"]["question"]
        systems.setdefault(data["real_system"]["icb"], []).append(data)
    assert {"QOP", "QOC", "T6Y0W"} <= set(systems)
    assert len(nhs.members_of("QOP", "2026")) >= 10  # large urban
    assert nhs.icb_maps("T6Y0W") == ("2026",)  # formed in April 2026
    assert len(nhs.members_of("QOC", "2026")) == 3  # rural, three trusts
    for arms in systems.values():
        # Each what-if comes as two arms with the same seed and replicates, so they compare
        # replicate by replicate (common random numbers).
        assert len(arms) == 2
        assert len({(a["scenario"]["seed"], a["scenario"]["replicates"]) for a in arms}) == 1


@pytest.mark.parametrize("path", REAL, ids=[p.stem for p in REAL])
def test_real_scenario_arms_differ_where_they_should(path):
    sc = load_scenario(path)
    model = sc.build(months=12)
    model.run()
    collabs = model.collaborations()
    # The arm's own collaboration works (some pair is assigned to it), not shadowed by the ICS.
    focus = collabs[collabs["name"] != "integrated_care_system"]["name"].tolist()
    assert focus
    sim = model.sim
    names = [s.name for s in sim.st.collabs]
    used = {names[c] for c in np.unique(sim.edge_collab[0]) if c < len(names)}
    assert set(focus) <= used


# ----------------------------------------------------------------- commands
def test_systems_command_lists_every_icb(capsys):
    assert main(["systems"]) == 0
    out = capsys.readouterr().out
    assert "QOP" in out and "Greater Manchester" in out and "T6Y0W" in out
    assert "Open Government Licence v3.0" in out
    codes = set(nhs.icbs().index)
    rows = [line for line in out.splitlines() if line.split(" ")[0] in codes]
    assert len(rows) == 48
    assert main(["systems", "--map", "2026"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.split(" ")[0] in codes]
    assert len(rows) == 36


def test_systems_show_lists_trusts_with_values(capsys):
    assert main(["systems", "show", "QOP"]) == 0
    out = capsys.readouterr().out
    for code in nhs.members_of("QOP", "2026").index:
        assert f"\n{code} " in out
    assert "imputed" in out and "RW6" in out and "Open Government Licence" in out
    assert main(["systems", "show", "QOP", "--csv"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert len(table) == 10 and {"baseline_performance", "performance_basis", "x", "y"} <= set(
        table.columns
    )
    assert main(["systems", "show", "RXW,R1D"]) == 0
    assert "RXW-R1D: +0.40" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["systems", "show", "NOPE"], "NOPE: not an ICB code or an ODS trust code"),
        (["systems", "show", "QMM", "--map", "2026"], "QMM: got '2026', but QMM exists only"),
        (["systems", "--map", "1999"], "--map: got '1999'"),
        (["systems", "show", "RXW,RW6"], "RXW,RW6: RW6 closed on"),
    ],
)
def test_systems_command_errors_are_one_line(argv, expected):
    proc = subprocess.run([sys.executable, "-m", "ioc_sim", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
