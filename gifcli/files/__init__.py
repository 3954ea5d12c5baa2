"""Writing results: every file is written whole or not at all (:mod:`gifcli.core.atomic`).

The single-run writers (CSV, JSON, the output folder) are re-exported here; sweeps, their
labelled stores and fits have modules of their own."""

from gifcli.core.atomic import write_atomic, write_files
from gifcli.core.errors import OutputError
from gifcli.files.run import (
    CSV_HEADER,
    T_DECIMALS,
    check_not_inputs,
    check_out_dir,
    csv_bytes,
    json_bytes,
    make_out_dir,
    spike_counts,
    summary,
)

__all__ = [
    "CSV_HEADER",
    "OutputError",
    "T_DECIMALS",
    "check_not_inputs",
    "check_out_dir",
    "csv_bytes",
    "json_bytes",
    "make_out_dir",
    "spike_counts",
    "summary",
    "write_atomic",
    "write_files",
]
