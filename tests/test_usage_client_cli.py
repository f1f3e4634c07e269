"""The reference client's CLI (``tools/usage_client.py``) against a local stand-in of the API.

Exit status 0 when everything is stored, 1 when a batch failed or an event was
rejected, 2 on bad input; the secret only ever comes from an environment
variable; hostile input (lone surrogates, NUL, bytes that are not UTF-8) reaches
the server as escapes or stops with a clear error.
"""

import io
import json

import pytest
import usage_client
import usage_files
from fake_usage_api import CSV_TEXT, KEY, SECRET, events

# ----------------------------------------------------------------------- CLI


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def cli(api, *args):
    return ["--url", api.url, "--key", KEY, *args]


def test_cli_sends_a_jsonl_file_and_prints_one_summary_line(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = write_jsonl(tmp_path / "events.jsonl", events(25))
    assert usage_client.main(cli(api, "--batch-size", "10", str(path))) == 0
    out = capsys.readouterr().out
    assert out == (
        "accepted=25 duplicates=0 quarantined=0 rejected=0 requests=3 retries=0 failed_batches=0\n"
    )
    # Sending the same file again is harmless: everything comes back as duplicates.
    assert usage_client.main(cli(api, str(path))) == 0
    assert capsys.readouterr().out.startswith("accepted=0 duplicates=25 ")


def test_cli_reads_csv_from_stdin_with_a_named_secret_variable(api, monkeypatch, capsys):
    monkeypatch.setenv("MY_SECRET", SECRET)
    stdin = io.StringIO(CSV_TEXT)
    assert usage_client.main(cli(api, "--secret-env", "MY_SECRET", "-"), stdin=stdin) == 0
    assert capsys.readouterr().out.startswith("accepted=2 ")
    assert set(api.stored) == {"c1", "c2"}


def test_cli_exits_1_when_an_event_is_rejected(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = write_jsonl(tmp_path / "e.jsonl", events(2) + events(1, prefix="neg", quantity=-1))
    assert usage_client.main(cli(api, str(path))) == 1
    captured = capsys.readouterr()
    assert "rejected=1" in captured.out and "invalid_quantity" in captured.err


def test_cli_exits_1_when_a_batch_fails(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    api.script = [(400, None)]
    path = write_jsonl(tmp_path / "e.jsonl", events(2))
    assert usage_client.main(cli(api, str(path))) == 1
    assert "failed_batches=1" in capsys.readouterr().out


def test_cli_retries_with_the_injected_sleep(api, tmp_path, monkeypatch, capsys, sleeps):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    api.script = [(429, {"Retry-After": "3"})]
    path = write_jsonl(tmp_path / "e.jsonl", events(2))
    assert usage_client.main(cli(api, str(path)), sleep=sleeps.append) == 0
    assert "retries=1" in capsys.readouterr().out and 3 <= sleeps[0] <= 4


def test_cli_without_the_secret_variable_exits_2(api, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("USAGE_SECRET", raising=False)
    assert usage_client.main(cli(api, str(write_jsonl(tmp_path / "e.jsonl", events(1))))) == 2
    assert "USAGE_SECRET is not set" in capsys.readouterr().err
    assert not api.requests


def test_cli_has_no_secret_option(api, capsys):
    with pytest.raises(SystemExit) as exc:
        usage_client.main(cli(api, "--secret", SECRET, "x.jsonl"))
    assert exc.value.code == 2


def test_cli_bad_line_exits_2_after_sending_the_batches_before_it(
    api, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = tmp_path / "e.jsonl"
    path.write_text(write_jsonl(path, events(3)).read_text() + "{broken\n", encoding="utf-8")
    assert usage_client.main(cli(api, "--batch-size", "2", str(path))) == 2
    assert "e.jsonl:4: not valid JSON" in capsys.readouterr().err
    assert set(api.stored) == {"ev-0", "ev-1"}


# ------------------------------------------------------------------ hostile input


def test_lone_surrogates_and_nul_reach_the_server_as_escapes():
    """The server rejects that one event (invalid_characters), not the batch."""
    (event,) = usage_files.read_jsonl(io.StringIO('{"event_id": "a\\ud800", "t": "b\\u0000"}\n'))
    body = usage_client.encode_body([event, {"event_id": "é"}])
    assert b"\\ud800" in body and b"\\u0000" in body
    assert json.loads(body)["events"][1]["event_id"] == "é"
    plain = usage_client.encode_body([{"event_id": "é"}])
    assert "é".encode() in plain, "UTF-8 as is when it can be"


def test_cli_file_that_is_not_utf8_exits_2(api, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    path = tmp_path / "e.jsonl"
    path.write_bytes('{"event_id": "x"}\n'.encode("utf-16"))
    assert usage_client.main(cli(api, str(path))) == 2
    assert "is not UTF-8 text" in capsys.readouterr().err
    assert not api.requests


def test_cli_reads_print_json_and_exit_1_on_an_error(api, monkeypatch, capsys):
    monkeypatch.setenv("USAGE_SECRET", SECRET)
    assert usage_client.main(cli(api, "--invoices", "acme", "--limit", "5")) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["path"] == "/usage_billing/v1/tenants/acme/invoices?limit=5"
    assert usage_client.main(cli(api, "--usage", "ghost")) == 1
    assert "unknown_tenant" in capsys.readouterr().err
    assert usage_client.main(cli(api)) == 2, "a file or a read is needed"
