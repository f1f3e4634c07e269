"""Reading usage events from files (JSON lines, CSV) for the reference client.

The lines are read by the same rules as the API (``core/untrusted_json.py``):
whatever the API cannot take is an input error naming the line.
"""

import csv
import itertools
from decimal import Decimal
from pathlib import Path

import addon_packages

addon_packages.register()

from usage_billing_connector.core.untrusted_json import UntrustedJsonError, decode  # noqa: E402

CSV_REQUIRED = ("event_id", "tenant", "metric", "quantity", "timestamp")
CSV_COLUMNS = (*CSV_REQUIRED, "properties")


class InputError(ValueError):
    """A line of the input file cannot be turned into an event."""


def _floats(value):
    if isinstance(value, Decimal):
        number = float(value)
        if number in (float("inf"), float("-inf")):
            raise InputError(f"the number {value} is beyond the range of a double")
        return number
    if isinstance(value, dict):
        return {key: _floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return value


def _exact_quantity(event):
    """Keep the quantity exactly as written: ``0.1`` must not become ``0.1000000000000000055``.

    The line is parsed with ``parse_float=Decimal`` and the quantity sent as a
    decimal string (the API accepts those); other numbers become plain floats
    again, which is how the server stores properties anyway.
    """
    return {
        key: (str(value) if key == "quantity" and isinstance(value, Decimal) else _floats(value))
        for key, value in event.items()
    }


def read_jsonl(stream, name="<stdin>"):
    """One JSON object per line; blank lines are skipped."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            event = decode(line)
        except UntrustedJsonError as exc:
            raise InputError(f"{name}:{number}: not valid JSON: {exc.message}") from None
        if not isinstance(event, dict):
            raise InputError(f"{name}:{number}: each line must be a JSON object")
        try:
            yield _exact_quantity(event)
        except InputError as exc:
            raise InputError(f"{name}:{number}: {exc}") from None


def read_csv(stream, name="<stdin>"):
    """Header ``event_id,tenant,metric,quantity,timestamp[,properties]``.

    The quantity is sent as written (a decimal string, which the API accepts
    and keeps exact); ``properties`` is JSON text, empty meaning none.
    """
    reader = csv.DictReader(stream)
    # A byte-order mark survives on standard input; spaces after commas are common.
    header = [column.lstrip("\ufeff").strip() for column in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [column for column in CSV_REQUIRED if column not in header]
    unknown = [column for column in header if column not in CSV_COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append("missing column(s) " + ", ".join(missing))
        if unknown:
            problems.append("unknown column(s) " + ", ".join(unknown))
        raise InputError(f"{name}: header: {'; '.join(problems)}")
    for row in reader:
        number = reader.line_num
        if None in row:
            raise InputError(f"{name}:{number}: more fields than header columns")
        if not any(row.values()):
            continue
        event = {column: row[column] for column in CSV_REQUIRED}
        text = (row.get("properties") or "").strip()
        if text:
            try:
                properties = _floats(decode(text))
            except UntrustedJsonError as exc:
                raise InputError(
                    f"{name}:{number}: properties is not JSON: {exc.message}"
                ) from None
            except InputError as exc:
                raise InputError(f"{name}:{number}: properties: {exc}") from None
            if not isinstance(properties, dict):
                raise InputError(f"{name}:{number}: properties must be a JSON object")
            event["properties"] = properties
        yield event


def detect_format(path, given=None):
    if given:
        return given
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    raise InputError(f"{path}: cannot tell the format from the extension; use --format")


def sniff(stream, given=None):
    """Format of a stream without a name (stdin): a JSON line starts with ``{``.

    Returns the format and an iterator over every line, the peeked ones included.
    """
    peeked = []
    for line in stream:
        peeked.append(line)
        if line.strip():
            break
    lines = itertools.chain(peeked, stream)
    if given:
        return given, lines
    first = peeked[-1].lstrip("\ufeff").lstrip() if peeked else ""
    return ("jsonl" if first.startswith("{") else "csv"), lines


def read_events(stream, fmt, name):
    reader = read_csv if fmt == "csv" else read_jsonl
    return reader(stream, name)
