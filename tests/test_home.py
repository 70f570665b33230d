"""The home pages' own tables as .xlsx: the manager's staff, the office's outlets."""
import io

from openpyxl import load_workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows(response) -> list[tuple]:
    assert response.status_code == 200
    assert response.mimetype == XLSX
    return list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))


def test_the_manager_downloads_the_own_outlets_staff(manager):
    assert 'href="/home.xlsx"' in manager.get("/").get_data(as_text=True)
    found = rows(manager.get("/home.xlsx"))
    assert found[0] == ("工号", "姓名", "岗位", "入职日期", "状态")
    work_numbers = {row[0] for row in found[1:]}
    assert {"M0001", "L0001", "T1001", "T1006"} <= work_numbers
    assert "T2001" not in work_numbers and "M0002" not in work_numbers


def test_the_office_downloads_the_outlets_of_its_subtree(office):
    assert 'href="/home.xlsx"' in office.get("/").get_data(as_text=True)
    found = rows(office.get("/home.xlsx"))
    assert found[0] == ("网点代码", "网点名称", "窗口数", "在岗人数", "网点负责人")
    assert [row[:3] for row in found[1:]] == [("ZJK-001", "营业部网点", 6),
                                              ("ZJK-002", "桥东网点", 4)]
    assert found[1][4] == "高建国"


def test_tellers_have_no_home_table_to_download(teller, lobby, admin):
    for client in (teller, lobby, admin):
        assert client.get("/home.xlsx").status_code == 403
