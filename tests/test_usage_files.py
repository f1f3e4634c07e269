"""The reference client's file readers (JSON lines, CSV): what the API can take, named by line."""

import io

import pytest
import usage_files
from fake_usage_api import CSV_TEXT


def test_csv_rows_become_events_with_exact_quantities():
    rows = list(usage_files.read_csv(io.StringIO(CSV_TEXT), "x.csv"))
    assert rows == [
        {
            "event_id": "c1",
            "tenant": "acme",
            "metric": "api_calls",
            "quantity": "1.50",
            "timestamp": "2026-01-15T10:00:00Z",
            "properties": {"user_id": "u1"},
        },
        {
            "event_id": "c2",
            "tenant": "globex",
            "metric": "storage_gb",
            "quantity": "3",
            "timestamp": "2026-01-15T11:00:00+01:00",
        },
    ]


def test_csv_without_properties_column_and_with_spaces_in_header():
    text = (
        "event_id, tenant, metric, quantity, timestamp\ne,acme,api_calls,2,2026-01-15T10:00:00Z\n"
    )
    (event,) = usage_files.read_csv(io.StringIO(text))
    assert event["quantity"] == "2"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("event_id,tenant,metric,quantity\n", "missing column(s) timestamp"),
        ("event_id,tenant,metric,quantity,timestamp,colour\n", "unknown column(s) colour"),
        (CSV_TEXT.replace('"{""user_id"": ""u1""}"', "{oops"), "x.csv:2: properties is not JSON"),
        (CSV_TEXT.replace('"{""user_id"": ""u1""}"', "[1]"), "must be a JSON object"),
    ],
)
def test_csv_errors_name_the_line(text, message):
    with pytest.raises(
        usage_files.InputError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        list(usage_files.read_csv(io.StringIO(text), "x.csv"))


def test_jsonl_lines_become_events_and_keep_decimals_exact():
    text = (
        '{"event_id": "j1", "tenant": "acme", "metric": "api_calls", "quantity": 0.1,'
        ' "timestamp": "2026-01-15T10:00:00Z", "properties": {"ratio": 0.5, "n": 2}}\n'
        "\n"
        '{"event_id": "j2", "tenant": "acme", "metric": "api_calls", "quantity": 4,'
        ' "timestamp": "2026-01-15T10:00:00Z"}\n'
    )
    first, second = usage_files.read_jsonl(io.StringIO(text))
    assert first["quantity"] == "0.1" and first["properties"] == {"ratio": 0.5, "n": 2}
    assert second["quantity"] == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [("{oops\n", "e.jsonl:1: not valid JSON"), ("\n[1]\n", "e.jsonl:2: each line")],
)
def test_jsonl_errors_name_the_line(text, message):
    with pytest.raises(usage_files.InputError, match=message):
        list(usage_files.read_jsonl(io.StringIO(text), "e.jsonl"))


@pytest.mark.parametrize(
    ("name", "given", "expected"),
    [
        ("a.csv", None, "csv"),
        ("a.JSONL", None, "jsonl"),
        ("a.ndjson", None, "jsonl"),
        ("a.txt", "csv", "csv"),
    ],
)
def test_format_comes_from_the_extension_or_the_option(name, given, expected):
    assert usage_files.detect_format(name, given) == expected


def test_unknown_extension_needs_format():
    with pytest.raises(usage_files.InputError, match="--format"):
        usage_files.detect_format("events.txt")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"quantity": NaN}\n', "e.jsonl:1: not valid JSON"),
        ('{"quantity": Infinity}\n', "e.jsonl:1: not valid JSON"),
        ('{"a": ' + "[" * 2000 + "]" * 2000 + "}\n", "e.jsonl:1: not valid JSON"),
        ('{"properties": {"x": 1e309}}\n', "e.jsonl:1: the number 1E\\+309 is beyond"),
    ],
)
def test_jsonl_lines_the_api_cannot_take_are_input_errors(text, message):
    with pytest.raises(usage_files.InputError, match=message):
        list(usage_files.read_jsonl(io.StringIO(text), "e.jsonl"))


def test_csv_properties_are_read_with_the_same_rules():
    text = CSV_TEXT.replace('"{""user_id"": ""u1""}"', '"{""x"": NaN}"')
    with pytest.raises(usage_files.InputError, match=r"x\.csv:2: properties is not JSON"):
        list(usage_files.read_csv(io.StringIO(text), "x.csv"))
    text = CSV_TEXT.replace('"{""user_id"": ""u1""}"', '"{""x"": 1e400}"')
    with pytest.raises(usage_files.InputError, match=r"x\.csv:2: properties: the number"):
        list(usage_files.read_csv(io.StringIO(text), "x.csv"))
