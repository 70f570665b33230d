"""The pure rules for org units and people, shared by the admin forms and the CSV imports.

These functions take plain values and need no app, no request and no database.
"""
import pytest

from portal.blueprints.admin.services import (
    code_problem,
    parent_problem,
    password_problem,
    placement_problem,
    windows_problem,
    work_no_problem,
)


# --- org-unit codes ---------------------------------------------------------------------

@pytest.mark.parametrize("code", ["HQ", "ZJK-001", "A", "a1", "X" * 20, "9-9-9", "ZJK-"])
def test_a_code_of_letters_digits_and_hyphens_is_accepted(code):
    assert code_problem(code) is None


@pytest.mark.parametrize("code", [
    "", None, "-ZJK", "X" * 21, "ZJK 001", "ZJK_001", "ZJK/001", "网点", "ZJK.1",
    "ZJK\n", "ZJK\r\n", " ZJK", "ZJK%", "ＺＪＫ",
])
def test_a_code_with_other_characters_or_length_is_refused(code):
    problem = code_problem(code)
    assert problem is not None and "1–20" in problem


# --- parents ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind, parent_kind", [
    ("bank", None),
    ("branch", "bank"),
    ("subbranch", "branch"),
    ("subbranch", "bank"),
    ("outlet", "subbranch"),
    ("outlet", "branch"),
    ("outlet", "bank"),
])
def test_a_unit_may_hang_under_any_higher_level(kind, parent_kind):
    assert parent_problem(kind, parent_kind) is None


@pytest.mark.parametrize("kind, parent_kind", [
    ("outlet", "outlet"),
    ("subbranch", "subbranch"),
    ("branch", "branch"),
    ("subbranch", "outlet"),
    ("branch", "subbranch"),
    ("branch", "outlet"),
])
def test_a_parent_of_equal_or_lower_level_is_refused(kind, parent_kind):
    assert "层级必须高于" in parent_problem(kind, parent_kind)


@pytest.mark.parametrize("kind", ["branch", "subbranch", "outlet"])
def test_every_unit_but_the_bank_needs_a_parent(kind):
    assert "必须有上级机构" in parent_problem(kind, None)


@pytest.mark.parametrize("parent_kind", ["bank", "branch", "subbranch", "outlet"])
def test_the_bank_can_have_no_parent(parent_kind):
    assert "总行不能有上级机构" in parent_problem("bank", parent_kind)


@pytest.mark.parametrize("kind", ["shop", "", "Outlet", None])
def test_an_unknown_kind_is_refused(kind):
    assert "机构类型无效" in parent_problem(kind, "bank")


@pytest.mark.parametrize("parent_kind", ["shop", "", "Bank"])
def test_a_parent_of_unknown_kind_is_refused_not_crashed_on(parent_kind):
    assert parent_problem("outlet", parent_kind) is not None


# --- windows ----------------------------------------------------------------------------

@pytest.mark.parametrize("windows", [0, 1, 6, 99])
def test_an_outlet_may_have_zero_to_ninety_nine_windows(windows):
    assert windows_problem("outlet", windows) is None


@pytest.mark.parametrize("windows", [-1, 100, 1000])
def test_an_outlet_window_count_outside_the_range_is_refused(windows):
    assert "0–99" in windows_problem("outlet", windows)


@pytest.mark.parametrize("kind", ["bank", "branch", "subbranch"])
def test_only_outlets_have_windows(kind):
    assert windows_problem(kind, 0) is None
    assert "只有网点才有窗口" in windows_problem(kind, 1)


# --- work numbers -----------------------------------------------------------------------

@pytest.mark.parametrize("work_no", ["T1001", "A0001", "ab", "X" * 20, "12345"])
def test_a_work_number_of_two_to_twenty_letters_or_digits_is_accepted(work_no):
    assert work_no_problem(work_no) is None


@pytest.mark.parametrize("work_no", [
    "", None, "T", "X" * 21, "T-1001", "T 1001", "T_1001", "张三", "T1001\n", "T1001 ", "Ｔ1001",
])
def test_a_work_number_with_other_characters_or_length_is_refused(work_no):
    assert "2–20" in work_no_problem(work_no)


# --- passwords --------------------------------------------------------------------------

@pytest.mark.parametrize("length", [8, 9, 63, 64])
def test_a_password_of_eight_to_sixty_four_characters_is_accepted(length):
    assert password_problem("p" * length) is None


@pytest.mark.parametrize("length", [0, 1, 7, 65, 200])
def test_a_password_shorter_than_eight_or_longer_than_sixty_four_is_refused(length):
    assert "8–64" in password_problem("p" * length)


def test_a_missing_password_is_refused():
    assert "8–64" in password_problem(None)


def test_password_length_counts_characters_not_bytes():
    assert password_problem("密码" * 4) is None  # 8 characters, 24 bytes
    assert password_problem("密" * 65) is not None


# --- placement of people ----------------------------------------------------------------

@pytest.mark.parametrize("role", ["teller", "lobby_manager", "outlet_manager"])
def test_outlet_roles_belong_to_an_outlet(role):
    assert placement_problem(role, "outlet") is None


@pytest.mark.parametrize("role", ["teller", "lobby_manager", "outlet_manager"])
@pytest.mark.parametrize("unit_kind", ["bank", "branch", "subbranch"])
def test_outlet_roles_cannot_sit_above_an_outlet(role, unit_kind):
    assert "必须属于某个网点" in placement_problem(role, unit_kind)


@pytest.mark.parametrize("role", ["service_office", "admin"])
@pytest.mark.parametrize("unit_kind", ["bank", "branch", "subbranch", "outlet"])
def test_service_office_and_admin_may_belong_to_any_unit(role, unit_kind):
    assert placement_problem(role, unit_kind) is None


@pytest.mark.parametrize("role", ["cashier", "", "Teller", "ADMIN", None])
def test_an_unknown_role_is_refused(role):
    assert "岗位无效" in placement_problem(role, "outlet")
