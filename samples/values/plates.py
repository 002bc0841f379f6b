"""Plate positions as well names on a 96-well plate (8 rows A to H, 12 columns 1 to 12).

Positions are numbered from 1 in the order samples join a batch and fill the plate row by row
(row-major): 1 is A1, 12 is A12, 13 is B1, 96 is H12. A batch larger than a plate goes on to a
second plate, named with its number: position 97 is "plate 2 A1".
"""

from __future__ import annotations

ROWS = "ABCDEFGH"
COLUMNS = 12
WELLS = len(ROWS) * COLUMNS  # 96


def well_name(position: int) -> str:
    """1 -> "A1", 13 -> "B1", 96 -> "H12", 97 -> "plate 2 A1"."""
    if position < 1:
        raise ValueError(f"Plate positions start at 1, not {position}.")
    plate, index = divmod(position - 1, WELLS)
    row, column = divmod(index, COLUMNS)
    well = f"{ROWS[row]}{column + 1}"
    return f"plate {plate + 1} {well}" if plate else well
