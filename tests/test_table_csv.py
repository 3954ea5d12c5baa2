"""table.table_csv_bytes: exact float cells, empty NaN cells, ints, bools, and its refusals."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from gifcli.files import table

EDGES = np.array([
    0.0, -0.0, 0.1, -0.009, 1e-05, 1e-4, 9.999999999999999e-05, 0.3, 1 / 3, 2 / 3, 1.0, -1.0,
    1.5, 100.0, 123456.789, 1e15, 1e16, 9007199254740992.0, 9007199254740994.0, 1e22, 1e23,
    1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308,
    2.225073858507201e-308, 5e-324, -5e-324, 1e-323, 4.9406564584124654e-322, 1e-300, 1e300,
])


def random_finite(seed: int, n: int) -> np.ndarray:
    bits = np.random.default_rng(seed).integers(0, 2**64, size=n, dtype=np.uint64)
    values = bits.view(np.float64)
    return values[np.isfinite(values)]


def read(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("ascii"), newline="")))


def float_column(rows: list[list[str]], j: int) -> np.ndarray:
    return np.array([math.nan if row[j] == "" else float(row[j]) for row in rows[1:]])


def assert_same_floats(got: np.ndarray, want: np.ndarray) -> None:
    """Equal to the bit (-0.0 apart from 0.0); every NaN pattern reads back as a NaN."""
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint64), want[~nan].view(np.uint64))


def reference(columns) -> bytes:
    """The plain per-cell way, through the csv module."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in columns])

    def cell(value):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        return "" if math.isnan(value) else repr(value)

    for row in zip(*(np.asarray(c).tolist() for _, c in columns), strict=True):
        writer.writerow([cell(value) for value in row])
    return out.getvalue().encode("ascii")


def mixed_table(seed: int, n: int) -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    noisy = rng.normal(size=n)
    noisy[rng.random(n) < 0.2] = np.nan
    grid = np.repeat(np.linspace(0.0, 1.0, 7), -(-n // 7))[:n]  # many repeats
    lattice = rng.integers(0, 5, n) * 0.1
    lattice[rng.random(n) < 0.3] = np.nan
    return [
        ("value", grid),
        ("noisy", noisy),
        ("bits", random_finite(seed, 2 * n)[:n]),
        ("rate_hz", lattice),
        ("signed_zero", np.where(rng.random(n) < 0.5, 0.0, -0.0)),
        ("n_spikes", rng.integers(-3, 4, n).astype(np.int16)),
        ("big", rng.integers(0, 2**64, n, dtype=np.uint64)),
        ("check_passed", rng.random(n) < 0.5),
    ]


# --- exact floats -----------------------------------------------------------------------------


def test_known_cells():
    data = table.table_csv_bytes([("x", np.array([0.1, -0.009, 1e-05, 1.7976931348623157e308,
                                                  -0.0, 5e-324, 1e16, 1.0, 2.5]))])
    assert data.split(b"\n") == [b"x", b"0.1", b"-0.009", b"0.00001", b"1.7976931348623157e+308",
                                  b"-0.0", b"5e-324", b"1e+16", b"1.0", b"2.5", b""]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_round_trip_is_exact(seed):
    rng = np.random.default_rng(seed)
    bits = np.concatenate([EDGES, -EDGES, random_finite(seed, 40_000)])  # > 2 blocks
    bits = rng.permutation(bits)
    edges = np.resize(np.concatenate([EDGES, -EDGES]), bits.size)  # repeats: one repr each
    ints = rng.integers(-(2**63), 2**63 - 1, bits.size, dtype=np.int64, endpoint=True)
    flags = rng.random(bits.size) < 0.5
    data = table.table_csv_bytes([("bits", bits), ("edges", edges), ("ints", ints),
                                  ("flags", flags)])
    rows = read(data)
    assert rows[0] == ["bits", "edges", "ints", "flags"]
    assert len(rows) == bits.size + 1
    assert all(len(row) == 4 for row in rows)
    assert_same_floats(float_column(rows, 0), bits)
    assert_same_floats(float_column(rows, 1), edges)
    assert [int(row[2]) for row in rows[1:]] == ints.tolist()
    assert [row[3] == "true" for row in rows[1:]] == flags.tolist()


def significant_digits(cell: str) -> int:
    mantissa = cell.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa.rstrip("0")) or 1


def test_cells_are_as_short_as_python_repr():
    values = np.concatenate([EDGES, -EDGES, random_finite(7, 5000)])
    rows = read(table.table_csv_bytes([("x", values), ("y", values[::-1])]))
    for column, expected in ((0, values), (1, values[::-1])):
        cells = [row[column] for row in rows[1:]]
        assert_same_floats(np.array([float(c) for c in cells]), expected)
        assert [significant_digits(c) for c in cells] == [
            significant_digits(repr(v)) for v in expected.tolist()]


def test_same_as_reference():
    columns = mixed_table(3, 2000)
    ours, theirs = read(table.table_csv_bytes(columns)), read(reference(columns))
    assert ours[0] == theirs[0] and len(ours) == len(theirs)
    for mine, other in zip(ours[1:], theirs[1:], strict=True):
        for a, b in zip(mine, other, strict=True):  # the same cells, floats by value
            assert a == b or float(a) == float(b) and repr(float(a)) == b


def test_blocks_do_not_show(monkeypatch):
    columns = mixed_table(4, 1000)
    whole = table.table_csv_bytes(columns)
    for rows in (1, 2, 7, 999, 1000):
        monkeypatch.setattr(table, "ROWS_PER_PIECE", rows)
        assert table.table_csv_bytes(columns) == whole


def test_same_input_same_bytes():
    columns = mixed_table(5, 3000)
    first = table.table_csv_bytes(columns)
    assert table.table_csv_bytes(columns) == first
    assert table.table_csv_bytes([(name, values.copy()) for name, values in columns]) == first
    # other memory layouts of the same values: byte-swapped, strided
    swapped = [(name, values.astype(values.dtype.newbyteorder())) for name, values in columns]
    assert table.table_csv_bytes(swapped) == first
    strided = [(name, np.repeat(values, 2)[::2]) for name, values in columns]
    assert table.table_csv_bytes(strided) == first


# --- NaN, ints, bools -------------------------------------------------------------------------


def test_nan_is_an_empty_cell():
    payload = np.array([0x7FF8000000000001, 0xFFF8000000000000], dtype=np.uint64)
    nans = np.concatenate([[np.nan], payload.view(np.float64)])
    x = np.array([1.0, np.nan, 2.0, *nans])
    data = table.table_csv_bytes([("x", x), ("n", np.arange(x.size))])
    assert data == b"x,n\n1.0,0\n,1\n2.0,2\n,3\n,4\n,5\n"
    # with repeats (each distinct value formatted once) as well
    many = np.tile([np.nan, 0.5, nans[1]], 100)
    rows = read(table.table_csv_bytes([("x", many), ("y", many)]))
    assert [row for row in rows[1:4]] == [["", ""], ["0.5", "0.5"], ["", ""]]
    assert_same_floats(float_column(rows, 0), many)


def test_lone_nan_cell_is_quoted():
    # an empty line would be skipped by CSV readers; "" reads back as one empty cell
    data = table.table_csv_bytes([("x", np.array([np.nan, 1.0, np.nan]))])
    assert data == b'x\n""\n1.0\n""\n'
    assert read(data) == [["x"], [""], ["1.0"], [""]]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                   np.uint32, np.uint64])
def test_integers_in_decimal(dtype):
    info = np.iinfo(dtype)
    values = np.array([info.min, info.max, 0, 1, info.max // 3, info.min // 5], dtype=dtype)
    data = table.table_csv_bytes([("i", values), ("same", np.tile(values[:2], 3))])
    rows = read(data)
    assert [int(row[0]) for row in rows[1:]] == values.tolist()
    assert [int(row[1]) for row in rows[1:]] == np.tile(values[:2], 3).tolist()


def test_bools():
    data = table.table_csv_bytes([("ok", np.array([True, False, True])),
                                  ("k", np.array([3, -1, 0], dtype=np.int64))])
    assert data == b"ok,k\ntrue,3\nfalse,-1\ntrue,0\n"


def test_no_rows_is_the_header():
    data = table.table_csv_bytes([("a", np.array([])), ("b", np.array([], dtype=bool))])
    assert data == b"a,b\n"


def test_output_shape():
    columns = mixed_table(6, 500)
    data = table.table_csv_bytes(columns)
    assert data.isascii()
    assert data.endswith(b"\n")
    assert b"\r" not in data and b'"' not in data
    lines = data.split(b"\n")
    assert lines[0] == b"value,noisy,bits,rate_hz,signed_zero,n_spikes,big,check_passed"
    assert len(lines) == 500 + 2 and lines[-1] == b""
    assert all(line.count(b",") == 7 for line in lines[:-1])


# --- refusals ---------------------------------------------------------------------------------


def test_no_columns():
    with pytest.raises(ValueError, match="at least one column"):
        table.table_csv_bytes([])


@pytest.mark.parametrize("header", ["a,b", 'a"b', "a\nb", "a\rb", "r\u00e9sum\u00e9", "\u03bc",
                                    3])
def test_bad_header(header):
    with pytest.raises(ValueError, match="header"):
        table.table_csv_bytes([("ok", np.zeros(2)), (header, np.zeros(2))])


def test_unequal_lengths():
    with pytest.raises(ValueError, match="rows"):
        table.table_csv_bytes([("a", np.zeros(3)), ("b", np.zeros(4))])
    with pytest.raises(ValueError, match="rows"):
        table.table_csv_bytes([("a", np.zeros(3)), ("b", np.zeros(3, dtype=bool)),
                               ("c", np.zeros(0))])


@pytest.mark.parametrize("column", [np.zeros((2, 2)), np.float64(1.0)])
def test_not_one_dimensional(column):
    with pytest.raises(ValueError, match="1-D"):
        table.table_csv_bytes([("a", column)])


@pytest.mark.parametrize("column", [np.zeros(2, dtype=np.float32),
                                    np.zeros(2, dtype=complex), np.array([1.0, None])])
def test_other_dtypes(column):
    with pytest.raises(ValueError, match="only float64, integer, bool and text"):
        table.table_csv_bytes([("a", column)])


def test_text_and_masked_integer_cells():
    counts = np.ma.masked_array(np.array([3, 0, 7]), mask=[False, True, False])
    data = table.table_csv_bytes([("preset", np.array(["A", "tonic", "x_y"])),
                                  ("n", counts)])
    assert data == b"preset,n\nA,3\ntonic,\nx_y,7\n"
    with pytest.raises(ValueError, match="the cell 'a,b'"):
        table.table_csv_bytes([("preset", np.array(["a,b"]))])


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_infinity_refused(bad):
    values = np.array([1.0, np.nan, bad, 2.0])
    with pytest.raises(ValueError, match=r"infinite value \(row 2\)"):
        table.table_csv_bytes([("a", np.zeros(4)), ("x", values)])
