"""SQL that turns a row into the text of a file's cells inside PostgreSQL, so the export loop
only moves strings: times in the tenant's zone, coded values as labels, metadata values as
text, and every free-text cell neutralised against formula injection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Case, Expression, F, Func, Q, TextField, Value, When
from django.db.models.sql.compiler import SQLCompiler

# A spreadsheet treats a cell that starts with one of these as a formula (or, for tab and CR,
# shifts it into one): such a cell gets a leading apostrophe. Also done in Python for headers.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them), as a PostgreSQL escape string;
# PostgreSQL text never holds NUL.
XML_ILLEGAL = r"E'[\x01-\x08\x0b\x0c\x0e-\x1f]'"
# An Excel cell holds at most 32,767 characters.
XLSX_CELL_MAX = 32_000


def neutralise(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralised_sql(column: str) -> str:
    """``neutralise`` in SQL over a plain column (repeating it costs nothing): one integer
    test of the first character's code."""
    codes = ", ".join(str(ord(c)) for c in FORMULA_STARTS)
    return f"CASE WHEN ascii({column}) IN ({codes}) THEN '''' || {column} ELSE {column} END"


def xlsx_safe_sql(column: str) -> str:
    """Drops the characters XML cannot hold and cuts to what an Excel cell takes."""
    return f"left(regexp_replace({column}, {XML_ILLEGAL}, '', 'g'), {XLSX_CELL_MAX})"


class _Custom(Expression):
    """An expression wrapped around one inner expression (each subclass's ``as_sql`` lists
    the parameters in placeholder order)."""

    output_field = TextField()

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner

    def get_source_expressions(self) -> list[Any]:
        return [self.inner]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.inner,) = exprs


class LocalTime(_Custom):
    """A timestamp as ``YYYY-MM-DD HH:MM:SS`` in a time zone (empty when NULL)."""

    def __init__(self, inner: Any, zone: str) -> None:
        super().__init__(inner)
        self.zone = zone

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.inner)
        return (
            f"coalesce(to_char(({sql}) AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI:SS'), '')",
            [*params, self.zone],
        )


class MetadataText(_Custom):
    """One key of a JSON object as a cell: lists joined with commas, booleans as yes/no."""

    def __init__(self, inner: Any, key: str, yes: str, no: str) -> None:
        super().__init__(inner)
        self.key, self.yes, self.no = key, yes, no

    def as_sql(self, compiler: SQLCompiler, connection: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.inner)
        value = f"(({sql}) -> %s)"
        template = (
            f"coalesce(CASE jsonb_typeof({value})"
            f" WHEN 'array' THEN array_to_string(ARRAY("
            f"SELECT jsonb_array_elements_text({value})), ', ')"
            f" WHEN 'boolean' THEN CASE WHEN ({value})::boolean THEN %s ELSE %s END"
            f" ELSE ({sql}) ->> %s END, '')"
        )
        key = [*params, self.key]
        return template, [*key, *key, *key, self.yes, self.no, *params, self.key]


class Minutes(Func):
    """Minutes between two timestamps, one decimal (NULL when either is missing)."""

    template = "round((extract(epoch FROM (%(expressions)s)) / 60)::numeric, 1)"
    arg_joiner = " - "


def labels(field: str, choices: list[tuple[str, Any]]) -> Case:
    """A coded value as its (already translated) label."""
    return Case(
        *[When(**{field: value}, then=Value(str(label))) for value, label in choices],
        default=F(field),
        output_field=TextField(),
    )


def yes_no(condition: Q, yes: str, no: str) -> Case:
    return Case(When(condition, then=Value(yes)), default=Value(no), output_field=TextField())
