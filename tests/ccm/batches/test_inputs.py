"""Batch inputs, streamed: documents with their lines, problems as documents, resuming at a byte offset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ccm.batches.inputs import InputError, Position, read_documents, source_of, survey
from ccm.batches.models import BatchSource
from ccm.settings import PROJECT_ROOT


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def test_jsonl_documents_keep_their_line_numbers_and_bad_lines_become_problems(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "in.jsonl",
        '{"customer_id": "c-1", "data": {"n": 1}}\n'
        "\n"
        "{not json\n"
        '["a list"]\n'
        '{"customer_id": "c-2", "extra": 1}\n'
        '{"customer_id": 7, "data": {"n": 2}}\n',
    )
    documents = [document for document, _ in read_documents(path, BatchSource.JSONL, Position())]
    assert [(d.line, d.customer_id) for d in documents] == [
        (1, "c-1"),
        (3, None),
        (4, None),
        (5, "c-2"),
        (6, "7"),
    ]
    assert documents[0].data == {"n": 1} and documents[0].problem is None
    assert documents[1].problem is not None and documents[1].problem[0] == "invalid_json"
    assert documents[2].problem == ("invalid_document", "a line must be a JSON object")
    assert documents[3].problem is not None and "extra" in documents[3].problem[1]


def test_csv_dotted_columns_nest_and_json_cells_carry_arrays(tmp_path: Path) -> None:
    lines = json.dumps([{"description": "Fibre", "quantity": 1, "unit_price": "39.90"}])
    path = _write(
        tmp_path,
        "in.csv",
        "customer_id,invoice.number,invoice.currency,invoice.lines,note\r\n"
        f'c-1,INV-1,EUR,"{lines.replace(chr(34), chr(34) * 2)}",\r\n'
        'c-2,INV-2,EUR,"[not json",\r\n'
        ",INV-3,EUR,,\r\n"
        'c-4,"INV\r\n4",EUR,,x\r\n',
    )
    documents = [document for document, _ in read_documents(path, BatchSource.CSV, Position())]
    assert documents[0].line == 2 and documents[0].customer_id == "c-1"
    assert documents[0].data == {
        "invoice": {"number": "INV-1", "currency": "EUR", "lines": json.loads(lines)}
    }
    assert documents[1].problem is not None and documents[1].problem[0] == "invalid_cell"
    assert "invoice.lines" in documents[1].problem[1]
    assert documents[2].problem == ("invalid_document", "customer_id is empty")
    assert documents[3].line == 5 and documents[3].data == {
        "invoice": {"number": "INV\r\n4", "currency": "EUR"},
        "note": "x",
    }


@pytest.mark.parametrize("name", ["in.jsonl", "in.csv"])
def test_reading_from_a_checkpoint_yields_exactly_the_rest(tmp_path: Path, name: str) -> None:
    source = source_of(name)
    if source is BatchSource.CSV:
        text = "customer_id,n\n" + "".join(f'c-{i},"{i}\n{i}"\n' for i in range(1, 8))
    else:
        text = "".join(json.dumps({"customer_id": f"c-{i}", "data": {"n": i}}) + "\n" for i in range(1, 8))
    path = _write(tmp_path, name, text)
    everything = list(read_documents(path, source, Position()))
    _, checkpoint = everything[2]
    rest = [document for document, _ in read_documents(path, source, checkpoint)]
    assert rest == [document for document, _ in everything[3:]]
    assert [d.customer_id for d in rest] == ["c-4", "c-5", "c-6", "c-7"]


def test_survey_hashes_and_counts_and_refuses_unreadable_inputs(tmp_path: Path) -> None:
    path = _write(tmp_path, "in.jsonl", '{"customer_id": "c-1"}\n\n{"customer_id": "c-2"}\n')
    surveyed = survey(path, BatchSource.JSONL)
    assert surveyed.documents == 2 and len(surveyed.sha256) == 64
    with pytest.raises(InputError, match="customer_id"):
        survey(_write(tmp_path, "no-id.csv", "name,invoice.number\nx,1\n"), BatchSource.CSV)
    latin1 = tmp_path / "latin1.jsonl"
    latin1.write_bytes('{"customer_id": "Müller"}\n'.encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        survey(latin1, BatchSource.JSONL)
    with pytest.raises(InputError, match=r"\.jsonl"):
        source_of("invoices.xlsx")


def test_the_shipped_examples_are_valid_inputs() -> None:
    """The README's commands read these files: every line a document without a problem."""
    for name in ("invoices.jsonl", "invoices.csv"):
        path = PROJECT_ROOT / "docs" / "examples" / name
        documents = [document for document, _ in read_documents(path, source_of(name), Position())]
        assert documents and all(document.problem is None for document in documents)
        assert all(document.data["invoice"]["lines"] for document in documents)
