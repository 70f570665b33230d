"""Excel downloads: every table a manager sees can be saved as .xlsx."""
import io
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """Values as Excel should hold them; text that could start a formula is kept as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if value is None or isinstance(value, (int, float, date, datetime)):
        return value
    return str(value)


def workbook(sheets: list[tuple[str, list[str], list[list]]]) -> bytes:
    """Build an .xlsx from (sheet title, header, rows) triples; the header row is bold."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([str(h) for h in header])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
        for column, name in zip(sheet.columns, header):
            width = max([len(str(name))] + [len(str(c.value or "")) for c in column][:200])
            sheet.column_dimensions[column[0].column_letter].width = min(4 + width * 1.6, 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(filename: str, sheets: list[tuple[str, list[str], list[list]]]) -> Response:
    """Answer a download of ``sheets`` named ``filename`` (UTF-8 names allowed)."""
    response = Response(workbook(sheets), mimetype=XLSX_MIME)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=export.xlsx; filename*=UTF-8''{quote(filename)}"
    )
    return response
