"""The build: each County & UA's site from the notebooks, incrementally and in parallel.

Modules, each importing only those listed before it (no cycle; ``tests/test_build_package.py``):

- ``reasons``: why an output runs again (``Why``, ``Reason``), as data;
- ``jobs``: what passes between the coordinating process and the workers (``AreaJob``,
  ``AreaOutcome`` with per-phase seconds, ``StagedSite``, ``Failure``);
- ``project``: the project's notebooks, book pages and per-site Jupyter Book configuration;
- ``versions``: digests of the code a page or a site is made with;
- ``store``: executed notebooks and the records that key them, under ``<out>/.mhbook-build``;
- ``local``: the authors' own words (``--local``) boxed into chapters;
- ``execute``: runs a notebook's cells in this process, outputs as a kernel writes them;
- ``render``: Sphinx, the documents, and moving a finished site into place;
- ``workers``: the long-lived worker processes (notebooks, then the site's staging);
- ``executors``: a local process pool or a Dask cluster;
- ``output``: the output folder's lock, checks, and what a killed build left;
- ``plan``: what is stale, and why;
- ``run``: ``build_areas``, which coordinates all of the above.

The names below are the build's public face (the command line, tests and benchmarks use them).
Which datasets a page reads is recorded by ``mhbook.reads``, outside this package: the data
layer records its reads there, and the build only collects them.
"""

from mhbook.build.jobs import PHASES, Failure
from mhbook.build.local import LOCAL_CLASS, LOCAL_TITLE, insert_local, local_block, local_folder, read_local
from mhbook.build.output import LOCK_NAME, clean_leftovers, output_lock
from mhbook.build.project import document_formats, notebook_names, project_root, write_book_config
from mhbook.build.reasons import Reason, Why
from mhbook.build.run import AreaResult, BuildReport, build_area, build_areas, write_index
from mhbook.build.workers import CELL_TIMEOUT_S
from mhbook.errors import BookError, BuildInterrupted

__all__ = [
    "CELL_TIMEOUT_S",
    "LOCAL_CLASS",
    "LOCAL_TITLE",
    "LOCK_NAME",
    "PHASES",
    "AreaResult",
    "BookError",
    "BuildInterrupted",
    "BuildReport",
    "Failure",
    "Reason",
    "Why",
    "build_area",
    "build_areas",
    "clean_leftovers",
    "document_formats",
    "insert_local",
    "local_block",
    "local_folder",
    "notebook_names",
    "output_lock",
    "project_root",
    "read_local",
    "write_book_config",
    "write_index",
]
