"""Worker reuse between notebooks: nothing of one notebook is visible to the next."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell

from mhbook.parallel import clear_namespace


def test_clear_namespace_forgets_variables_and_outputs_but_keeps_the_shell_working():
    shell = InteractiveShell.instance()
    shell.run_cell("import math\nleak = [1, 2, 3]\nleak")
    assert "leak" in shell.user_ns and shell.user_ns["Out"]
    clear_namespace()
    assert not {"leak", "math"} & set(shell.user_ns)
    assert not shell.user_ns["Out"] and shell.user_ns["_"] == ""
    assert shell.user_ns["__name__"] == "__main__"
    result = shell.run_cell("value = len('abc')\nvalue")
    assert result.success and result.result == 3
    assert shell.run_cell("leak").error_in_exec.__class__ is NameError
