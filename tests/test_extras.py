"""A missing optional dependency is one sentence that names a command that works: gifcli is
installed from its folder, not from a package index."""

from __future__ import annotations

import pytest

from gifcli.core.errors import GifError
from gifcli.core.extras import require_extra


@pytest.mark.parametrize(("extra", "command"), [
    ("cluster", "run `make demo`, or `pip install -e '.[cluster]'`, in gifcli's folder"),
    ("notebook", "run `pip install -e '.[notebook]'`, in gifcli's folder"),
])
def test_a_missing_extra_names_a_command_that_installs_it(extra, command):
    with pytest.raises(GifError) as raised:
        require_extra("the feature", extra, ["json", "no_such_module_here"])
    assert str(raised.value) == (f"the feature needs the {extra} extra (no_such_module_here "
                                 f"not installed): {command}")
    assert "gifcli[" not in str(raised.value)


def test_nothing_is_said_when_every_module_is_there():
    require_extra("the feature", "cluster", ["json", "math"])
