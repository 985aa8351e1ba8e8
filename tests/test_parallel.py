"""Worker reuse between notebooks: nothing of one notebook is visible to the next."""

from __future__ import annotations

import subprocess
import sys

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


def test_settling_the_heap_frees_an_areas_cycles_and_freezes_what_lasts():
    # In a fresh interpreter: the freeze is for the whole process.
    code = """
import gc, weakref
from mhbook import parallel
class Node: pass
lasting = Node(); lasting.me = lasting
area = Node(); area.me = area; gone = weakref.ref(area); del area
parallel._settle_heap()
print(gone() is None, gc.get_freeze_count() > 0, gc.get_threshold()[0] == parallel.GC_THRESHOLD)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True", "True"]
