"""Execute a notebook in this process, recording outputs as a Jupyter kernel would.

A build worker runs every notebook of every area it is given. A separate kernel per
worker would hold a second copy of Python, pandas, Matplotlib and the tidy tables
(about 300 MB) and pass every output through ZeroMQ; instead the worker keeps one
IPython shell and runs the cells itself. The executed notebook is the same nbformat
notebook a kernel would have produced: ``stream`` outputs (consecutive writes to one
stream joined), ``display_data`` (e.g. ``publish``'s MyST, glued values with their
``scrapbook`` metadata, and any Matplotlib figure left open, drawn by the inline
backend), ``execute_result`` and ``error`` outputs, and execution counts from 1.

A cell that raises stops the notebook with ``CellError`` (unless the cell is tagged
``raises-exception``); ``KeyboardInterrupt`` is passed on, not recorded. A cell runs for
at most ``timeout`` seconds when the caller is the process's main thread (it is for
build workers); elsewhere, e.g. in a threaded Dask worker, there is no time limit.
Only one notebook runs at a time in a process: the shell, the working directory and
standard output are the process's.
"""

from __future__ import annotations

import base64
import contextlib
import io
import signal
import threading
from pathlib import Path

import nbformat
from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from traitlets import Type
from traitlets.config import Config

from mhbook.errors import CellError, CellTimeout

#: Held while a notebook runs: the shell, working directory and standard output are shared.
lock = threading.RLock()


def _json_data(data: dict) -> dict:
    """A display's mime bundle as notebook JSON: binary values (PNG) base64-encoded."""
    return {
        mime: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for mime, value in data.items()
    }


class _Publisher(DisplayPublisher):
    """Adds ``display()`` calls to the running cell's outputs."""

    def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
        self.shell.cell_outputs.append(
            nbformat.v4.new_output("display_data", data=_json_data(data), metadata=metadata or {})
        )

    def clear_output(self, wait=False):
        self.shell.cell_outputs.clear()


class _Result(DisplayHook):
    """Adds the value of a cell's last expression to its outputs as ``execute_result``."""

    def quiet(self) -> bool:
        """True when the cell ends with ``;`` (IPython would look in the history, not kept here)."""
        return self.semicolon_at_end_of_expression(self.shell.cell_source)

    def __call__(self, result=None):
        if result is None or self.quiet():
            return
        data, metadata = self.compute_format_data(result)
        self.shell.cell_outputs.append(
            nbformat.v4.new_output(
                "execute_result", data=_json_data(data), metadata=metadata or {}, execution_count=self.shell.cell_count
            )
        )


class _Stream(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` during a cell: writes become ``stream`` outputs."""

    def __init__(self, shell: _Shell, name: str):
        self.shell, self.name = shell, name

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        outputs = self.shell.cell_outputs
        if outputs and outputs[-1].output_type == "stream" and outputs[-1].name == self.name:
            outputs[-1].text += text
        else:
            outputs.append(nbformat.v4.new_output("stream", name=self.name, text=text))
        return len(text)


class _Shell(InteractiveShell):
    """An IPython shell whose displays, results and tracebacks go to ``cell_outputs``."""

    display_pub_class = Type(_Publisher)
    displayhook_class = Type(_Result)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # The running cell: its outputs so far, execution count and source.
        self.cell_outputs: list = []
        self.cell_count, self.cell_source = 0, ""

    def enable_gui(self, gui=None):
        """Nothing to start: figures are drawn inline, with no GUI event loop."""

    def _showtraceback(self, etype, evalue, stb):
        self.cell_outputs.append(
            nbformat.v4.new_output("error", ename=etype.__name__, evalue=str(evalue), traceback=list(stb))
        )


def shell() -> _Shell:
    """This process's shell (created on first use, with the inline Matplotlib backend)."""
    if InteractiveShell.initialized() and not isinstance(InteractiveShell.instance(), _Shell):
        raise RuntimeError(
            "mhbook executes notebooks in its own IPython shell, but this process already "
            "runs another one (IPython or Jupyter): run mhbook build from a terminal"
        )
    if not _Shell.initialized():
        config = Config()
        config.HistoryManager.enabled = False  # no history database: cells are not typed by anyone
        config.InteractiveShell.colors = "nocolor"  # tracebacks kept readable in saved notebooks
        _Shell.instance(config=config).enable_matplotlib("inline")
    return _Shell.instance()


@contextlib.contextmanager
def _time_limit(seconds: float):
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise CellTimeout(f"the cell ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def execute(nb, workdir: Path, timeout: float) -> None:
    """Execute the code cells of ``nb`` in place, in folder ``workdir``.

    Raises ``CellError`` at the first cell that raises, after recording its error output.
    """
    sh = shell()
    with lock, contextlib.chdir(workdir):
        count = 0
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            count += 1
            sh.cell_outputs, sh.cell_count, sh.cell_source = [], count, cell.source
            with (
                contextlib.redirect_stdout(_Stream(sh, "stdout")),
                contextlib.redirect_stderr(_Stream(sh, "stderr")),
                _time_limit(timeout),
            ):
                result = sh.run_cell(cell.source, store_history=False)
            cell.outputs, cell.execution_count = sh.cell_outputs, count
            sh.cell_outputs = []
            error = result.error_in_exec or result.error_before_exec
            if isinstance(error, KeyboardInterrupt):
                raise error
            if error is not None and "raises-exception" not in cell.metadata.get("tags", []):
                raise CellError(count, type(error).__name__, str(error))
