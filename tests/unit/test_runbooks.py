"""The shipped runbooks load and cover every fault type the engine can raise; every runbook
error names the file, the line and the key path, exactly.

One bad file per message in tests/data/runbooks, each stating its expected messages in
``# expect:`` comments (``{file}`` = the bad file, ``{shipped}`` = the shipped runbook
directory). Files named ``with_shipped_*`` are loaded together with the shipped runbooks,
because what they get wrong is only wrong in a set (an id or a fault type taken twice).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from incident_runbooks import (
    RUNBOOK_DIR,
    RunbookError,
    check_runbooks,
    level_label,
    load_runbook_files,
    load_runbooks,
)
from incident_runbooks.loader import runbook_files
from noc.core.vocabulary import FAULT_TYPES, LEVELS

DATA = Path(__file__).resolve().parent.parent / "data" / "runbooks"
BAD_FILES = sorted(DATA.glob("*.yaml"))


def expected_messages(path: Path) -> list[str]:
    return [
        line.split("# expect: ", 1)[1]
        .replace("{file}", str(path))
        .replace("{shipped}", str(RUNBOOK_DIR))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("# expect: ")
    ]


@pytest.fixture(scope="module")
def shipped():
    return load_runbooks()


def test_shipped_runbooks_load_without_issues(shipped):
    assert check_runbooks() == []
    assert len(shipped) == len(runbook_files()) >= 9


@pytest.mark.parametrize("fault_type", FAULT_TYPES)
def test_every_fault_type_the_engine_can_raise_has_a_runbook(shipped, fault_type):
    runbook = shipped.for_fault(fault_type)
    assert fault_type in runbook.applies_to
    assert shipped.runbook_id_for(fault_type) == runbook.id
    assert [runbook.deadline(level) for level in LEVELS]  # every level has deadlines
    assert runbook.steps and runbook.escalation


def test_each_fault_type_is_covered_exactly_once(shipped):
    covered = [t for rb in shipped for t in rb.applies_to]
    assert sorted(covered) == sorted(FAULT_TYPES)


def test_a_single_phone_shares_the_grouped_phone_runbook(shipped):
    assert shipped.for_fault("phone_unreachable") is shipped.for_fault("phones_unreachable")


def test_shipped_runbooks_meet_the_contract(shipped):
    """Recovery targets within the contract's 24 h; level I acknowledged within 5 minutes;
    escalation receivers are the four tiers the alerting layer defines."""
    for rb in shipped:
        assert rb.deadline("I").acknowledge <= 300
        assert all(rb.deadline(level).recover <= 24 * 3600 for level in LEVELS)
        assert rb.title.zh and rb.title.en
        for step in rb.steps:
            assert step.action.zh and step.action.en
            assert not (step.automated and step.intervention)
    assert shipped.receivers() == {"noc-oncall", "noc-lead", "carrier-liaison", "purchaser-contact"}


def test_runbooks_for_outages_have_manual_interventions_and_automated_diagnosis(shipped):
    for fault_type in ("circuit_down", "gateway_unreachable", "router_down", "phones_unreachable"):
        rb = shipped.for_fault(fault_type)
        assert rb.automated_steps(), fault_type
        assert any(s.intervention for s in rb.steps), fault_type


def test_verify_steps_run_on_recovery_and_diagnostics_on_open(shipped):
    """A verify step run when the incident opens would only re-confirm the fault (issue 11)."""
    verifies = [rb.step("verify") for rb in shipped if "verify" in {s.id for s in rb.steps}]
    assert len(verifies) >= 8
    for rb in shipped:
        for step in rb.steps:
            expected = None if step.automated is None else "on_open"
            if step.id == "verify" and step.automated is not None:
                expected = "on_recovery"
            assert step.runs_on == expected, (rb.id, step.id)
    rb = shipped.for_fault("circuit_down")
    assert [s.id for s in rb.automated_steps("on_open")] == ["confirm", "ce-interface", "path"]
    assert [s.id for s in rb.automated_steps("on_recovery")] == ["verify"]
    assert [s.id for s in rb.automated_steps()] == ["confirm", "ce-interface", "path", "verify"]
    assert rb.step("report-carrier").runs_on is None


def test_deadline_accepts_p_aliases(shipped):
    rb = shipped.for_fault("circuit_down")
    assert rb.deadline("P1") == rb.deadline("I")
    assert rb.deadline("P4") == rb.deadline("IV")
    assert rb.deadline("I").acknowledge == 300.0 and rb.deadline("I").recover == 4 * 3600.0
    assert rb.deadline("IV").acknowledge == 2 * 3600.0 and rb.deadline("IV").recover == 24 * 3600.0
    with pytest.raises(KeyError, match="unknown severity level 'P9'"):
        rb.deadline("P9")


def test_first_steps_are_in_document_order(shipped):
    rb = shipped.for_fault("circuit_down")
    assert [s.id for s in rb.first_steps(3)] == ["confirm", "ce-interface", "path"]
    assert rb.first_steps(100) == list(rb.steps)
    assert rb.step("report-carrier").role == "carrier" and rb.step("report-carrier").intervention
    assert rb.step("confirm").automated.action == "reprobe"


def test_escalation_by_level_and_elapsed_time(shipped):
    rb = shipped.for_fault("circuit_down")
    assert [t.notify for t in rb.escalation_for("P1")][:4] == [
        "noc-oncall",
        "noc-lead",
        "carrier-liaison",
        "purchaser-contact",
    ]
    assert "purchaser-contact" not in [t.notify for t in rb.escalation_for("III")]
    assert [t.notify for t in rb.due_escalations("I", 12 * 60)] == ["noc-oncall", "noc-lead"]
    assert rb.due_escalations("I", 60) == []


def test_environment_fills_contact_numbers(monkeypatch):
    monkeypatch.setenv("NOC_CARRIER_FAULT_LINE", "+86 898 0000 0000")
    rb = load_runbooks().for_fault("circuit_down")
    assert rb.step("report-carrier").contact.phone == "+86 898 0000 0000"
    monkeypatch.delenv("NOC_CARRIER_FAULT_LINE")
    assert (
        load_runbooks()
        .for_fault("circuit_down")
        .step("report-carrier")
        .contact.phone.startswith("运营商")
    )


def test_level_label_is_chinese_first():
    assert level_label("I") == "I级 特别重大 / level I critical"


def test_unknown_fault_type_lookup_is_a_clear_key_error(shipped):
    with pytest.raises(KeyError, match="no runbook covers fault type 'printer_jam'"):
        shipped.for_fault("printer_jam")


# --- errors -------------------------------------------------------------------------------


def test_there_is_a_bad_file_per_message():
    assert len(BAD_FILES) >= 20
    assert all(expected_messages(p) for p in BAD_FILES), "every bad file states what it expects"


@pytest.mark.parametrize("path", BAD_FILES, ids=[p.stem for p in BAD_FILES])
def test_bad_runbook_reports_exact_messages(path: Path):
    with_shipped = path.stem.startswith("with_shipped")
    files = [*runbook_files(), path] if with_shipped else [path]
    with pytest.raises(RunbookError) as exc_info:
        load_runbook_files(files, complete=with_shipped)
    assert [str(issue) for issue in exc_info.value.issues] == expected_messages(path)


def test_a_missing_fault_type_is_reported_for_the_directory(tmp_path: Path):
    for path in runbook_files():
        if path.name != "router_down.yaml":
            shutil.copy(path, tmp_path / path.name)
    issues = check_runbooks(tmp_path)
    assert [str(i) for i in issues] == [f"{tmp_path}: no runbook covers fault type 'router_down'"]
    with pytest.raises(RunbookError, match="router_down"):
        load_runbooks(tmp_path)


def test_a_file_that_fails_to_parse_still_counts_its_fault_types(tmp_path: Path):
    """A broken file reports its own errors, not a cascade of 'no runbook covers …'."""
    for path in runbook_files():
        shutil.copy(path, tmp_path / path.name)
    broken = tmp_path / "router_down.yaml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("role: operator", "role: boss", 1),
        encoding="utf-8",
    )
    messages = [str(i) for i in check_runbooks(tmp_path)]
    assert len(messages) == 1 and "role: must be operator" in messages[0]
    assert messages[0].startswith(f"{broken}:")


def test_an_empty_directory_is_an_error(tmp_path: Path):
    messages = [str(i) for i in check_runbooks(tmp_path)]
    assert messages[0] == f"{tmp_path}: no runbook files (*.yaml)"
    assert len(messages) == 1 + len(FAULT_TYPES)


def test_p_keys_are_accepted_for_levels(tmp_path: Path):
    text = (
        (DATA / "level_order_p_keys.yaml")
        .read_text(encoding="utf-8")
        .replace("recover: 8h", "recover: 2h")
    )
    good = tmp_path / "p_keys.yaml"
    good.write_text(text, encoding="utf-8")
    rb = load_runbook_files([good], complete=False).get("test-runbook")
    assert rb.deadline("I").recover == 2 * 3600.0 and rb.deadline("P3").acknowledge == 30 * 60.0
