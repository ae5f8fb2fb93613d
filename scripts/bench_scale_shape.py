"""The shape of `make bench-scale`'s dataset (scripts.bench_scale_data): how many of what, the
names customers have, the history an order in each final status went through, and the COPY
writer every table is filled with."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SALES_REPS = 20
# Names repeat as they do: about ten customers share each full name.
_FIRST_NAMES_TEXT = """
    Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence Emily
    Ella Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda
    Ruby Emilia Maya Millie Noah Oliver George Arthur Muhammad Leo Harry Oscar Archie Henry
    Theodore Freddie Jack Charlie Theo Alfie Jacob Thomas Finley Arlo William Lucas Roman Tommy
    Isaac Teddy Alexander Luca Edward James Joshua Albie Elijah Max Mohammed Reuben Mason
    Sebastian Rory Jude Louie Benjamin Ethan Adam Hugo Joseph Reggie Ronnie Louis Frankie Samuel
    Ezra Toby Hunter Albert Jaxon Hudson Ralph Harvey Zachary Dylan Elliot Grayson
"""
_LAST_NAMES_TEXT = """
    Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson
    Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson
    Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen
    James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook
    Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson
    Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali
    Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell
    Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur
    Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks
    West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton Obrien Watts Rose Booth
    Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster
    Hunter Gregory Carr Lowe Page Marsh Riley Dennis Stone Austin Gardner Burns Kennedy Hamilton
    Hicks Sutton Douglas Reid Oliver Porter Pritchard Kemp Slater Mann Sharp Hopkins Lamb Warren
    Ashton Long Jordan Watkins Doyle Bishop Lane Carroll Hargreaves Moss Whitehead Holland
"""
FIRST_NAMES = tuple(_FIRST_NAMES_TEXT.split())
LAST_NAMES = tuple(_LAST_NAMES_TEXT.split())


@dataclass(frozen=True)
class Chain:
    """What an order in a final status went through: its events, oldest first, as (kind,
    from_status, to_status, reason_code, minutes after submission)."""

    status: str
    events: tuple[tuple[str, str, str, str, int], ...]


S = "status_changed"
CHAINS = {
    "completed": Chain(
        "completed",
        (
            (S, "", "submitted", "", 0),
            (S, "submitted", "provisioning", "", 1),
            ("activation_attempt", "", "", "", 20),
            (S, "provisioning", "activated", "", 20),
            ("billing_started", "", "", "", 21),
            (S, "activated", "completed", "", 21),
        ),
    ),
    "cancelled": Chain(
        "cancelled",
        ((S, "", "submitted", "", 0), (S, "submitted", "cancelled", "", 600)),
    ),
    "rejected": Chain(
        "rejected",
        ((S, "", "submitted", "", 0), (S, "submitted", "rejected", "NOT_SERVICEABLE", 1)),
    ),
    "awaiting_manual": Chain(
        "awaiting_manual",
        ((S, "", "submitted", "", 0), (S, "submitted", "awaiting_manual", "MANUAL_AREA", 1)),
    ),
    "exception": Chain(
        "exception",
        (
            (S, "", "submitted", "", 0),
            (S, "submitted", "provisioning", "", 1),
            ("activation_attempt", "", "", "NO_FREE_PORT", 5),
            ("exception_opened", "", "", "NO_FREE_PORT", 5),
            (S, "provisioning", "exception", "NO_FREE_PORT", 5),
        ),
    ),
    "provisioning": Chain(
        "provisioning",
        ((S, "", "submitted", "", 0), (S, "submitted", "provisioning", "", 1)),
    ),
    "activated": Chain(
        "activated",
        (
            (S, "", "submitted", "", 0),
            (S, "submitted", "provisioning", "", 1),
            ("activation_attempt", "", "", "", 20),
            (S, "provisioning", "activated", "", 20),
        ),
    ),
    "scheduled": Chain(
        "scheduled",
        ((S, "", "submitted", "", 0), (S, "submitted", "scheduled", "", 0)),
    ),
}


def status_for(j: int) -> str:
    """The final status of the j-th order: mostly completed, a backlog in every open state."""
    r = (j * 2654435761) % 1000
    if r < 900:
        return "completed"
    for upper, status in (
        (930, "cancelled"),
        (950, "rejected"),
        (960, "awaiting_manual"),
        (970, "exception"),
        (973, "provisioning"),
        (975, "activated"),
        (985, "scheduled"),
    ):
        if r < upper:
            return status
    return "completed"


class Copier:
    """COPY rows into a table in one statement, from a generator of tuples."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def __call__(self, table: str, columns: list[str], rows: Iterator[tuple[Any, ...]]) -> int:
        count = 0
        with self.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
