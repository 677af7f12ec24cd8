"""CSV that is safe to open in a spreadsheet.

A cell starting with =, +, -, @, a tab or a carriage return is read as a formula by Excel,
LibreOffice and Sheets, and some run it (DDE, HYPERLINK to an attacker's site). Text that
shoppers or suppliers control reaches our exports (product titles, SKUs, UTM values), so
every export writes its text cells through `defuse`, which puts an apostrophe in front;
imports undo it with `restore`, so an export still round-trips.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(cell: object) -> object:
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def restore(cell: str) -> str:
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def defused_row(cells) -> list[object]:
    return [defuse(cell) for cell in cells]
