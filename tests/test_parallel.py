"""Worker reuse between notebooks: nothing of one notebook is visible to the next.

Each test runs in a fresh interpreter: the IPython shell and the garbage collector's
settings it touches belong to the whole process, and a shell left in the test process
would be inherited by build workers forked from it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _in_fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter (its asserts fail the test); return its output."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_clear_namespace_forgets_variables_and_outputs_but_keeps_the_shell_working():
    _in_fresh_python("""
        from IPython.core.interactiveshell import InteractiveShell
        from mhbook.build.workers import clear_namespace
        shell = InteractiveShell.instance()
        shell.run_cell("import math\\nleak = [1, 2, 3]\\nleak")
        assert "leak" in shell.user_ns and shell.user_ns["Out"]
        clear_namespace()
        assert not {"leak", "math"} & set(shell.user_ns)
        assert not shell.user_ns["Out"] and shell.user_ns["_"] == ""
        assert shell.user_ns["__name__"] == "__main__"
        result = shell.run_cell("value = len('abc')\\nvalue")
        assert result.success and result.result == 3
        assert shell.run_cell("leak").error_in_exec.__class__ is NameError
    """)


def test_settling_the_heap_frees_an_areas_cycles_and_freezes_what_lasts():
    output = _in_fresh_python("""
        import gc, weakref
        from mhbook.build import workers as parallel
        class Node: pass
        lasting = Node(); lasting.me = lasting
        area = Node(); area.me = area; gone = weakref.ref(area); del area
        parallel._settle_heap()
        print(gone() is None, gc.get_freeze_count() > 0, gc.get_threshold()[0] == parallel.GC_THRESHOLD)
    """)
    assert output.split() == ["True", "True", "True"]
