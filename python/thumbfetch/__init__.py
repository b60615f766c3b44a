"""thumbfetch from Python: download image sets concurrently and thumbnail them in parallel.

The functions run the same jobs as the ``thumbfetch`` command (plan, run, commit: the same
output folders, names, manifests, locks and resume) and take the command's options as keywords
(``per_host=4`` is ``--per-host 4``, ``size=(256, 256)`` is ``--size 256x256``), with its
defaults and its error messages. While they work the GIL is released; Ctrl-C (KeyboardInterrupt)
stops them cleanly (items in progress finish or are aborted, the manifest is written, then
KeyboardInterrupt is raised).

    import thumbfetch
    with thumbfetch.serve(generate=200, latency_ms=50) as server:
        urls = thumbfetch.imgur_links(server.client_id, api=server.url, n=200)
        downloads = thumbfetch.fetch(urls, "images", strategy="async", jobs=64)
        thumbnails = thumbfetch.thumbs("images", "thumbs", strategy="processes")
        table = thumbfetch.bench(serve=200, latency=50, repeat=1)

Results are pandas DataFrames, one row per item (plain lists of dicts when pandas is absent),
with the run's summary in ``.attrs["summary"]`` (``.summary`` on a list). Per-item failures are
rows (``status == "failed"``, ``error_kind``, ``error``), never exceptions; bad arguments raise
ValueError or TypeError; set-up problems (an output folder that cannot be made or written, a
folder locked by another run) raise ``thumbfetch.Error`` subclasses. Items a stopped run never
did are rows with ``status == "not started"`` (``error_kind`` "cancelled"), as many as
``summary["not_started"]``. A full disk stops the run as the command's does (what is done is
kept, the manifest written) and then raises ``OSError(errno.ENOSPC, ...)`` once, with the rows
in its ``result`` attribute and the first error in ``summary["out_of_space"]``; the same call
resumes once there is room. Paths that are not UTF-8 come back as ``os.fsdecode`` shows them.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from typing import Any, Callable, Iterable, Optional, Union

from . import _thumbfetch
from ._server import Server, serve
from ._thumbfetch import Error, FolderLockedError, NothingToDoError, SetupError

try:
    import pandas as _pandas
except ImportError:  # pragma: no cover - the lists of dicts are tested by patching this
    _pandas = None

__all__ = [
    "Error",
    "FolderLockedError",
    "NothingToDoError",
    "Server",
    "SetupError",
    "bench",
    "executable",
    "fetch",
    "imgur_links",
    "read_url_list",
    "run",
    "serve",
    "thumbs",
]

PathLike = Union[str, "os.PathLike[str]"]
# progress=True: a tqdm bar when tqdm is importable (notes on stderr); False: silent; or a
# callable progress(stage, done, total, failed).
Progress = Union[bool, Callable[[str, int, int, int], Any]]

_INTERVAL = 0.1  # seconds between two looks at Ctrl-C and the progress

# The columns of each result, in order, with their dtypes.
_S, _I, _F, _O = "object", "int64", "float64", "object"
FETCH_COLUMNS = {
    "url": _S, "file": _S, "status": _S, "error_kind": _S, "error": _S, "http_code": _I,
    "bytes": _I, "content_type": _S, "sha256": _S, "attempts": _I, "seconds": _F,
}
THUMBS_COLUMNS = {
    "input": _S, "file": _S, "status": _S, "error_kind": _S, "error": _S, "width": _I,
    "height": _I, "bytes": _I, "decoder": _S, "seconds": _F,
}
RUN_COLUMNS = {
    "url": _S, "file": _S, "original": _S, "status": _S, "stage": _S, "error_kind": _S,
    "error": _S, "http_code": _I, "bytes": _I, "width": _I, "height": _I, "thumb_bytes": _I,
    "download_seconds": _F, "thumb_seconds": _F, "seconds": _F,
}
BENCH_COLUMNS = {
    "step": _S, "approach": _S, "strategy": _S, "workers": _I, "items": _I, "ok": _I,
    "failed": _I, "wall_s": _F, "wall_min_s": _F, "wall_max_s": _F, "cpu_s": _F,
    "images_per_s": _F, "speedup": _F, "mismatch": _S, "wall_runs": _O, "cpu_runs": _O,
}


def executable() -> str:
    """The thumbfetch executable the module was built with (worker processes, bench, serve).

    $THUMBFETCH_EXE first, then the one recorded at build or install time, then PATH.
    """
    given = os.environ.get("THUMBFETCH_EXE")
    if given:
        return given
    try:
        from ._paths import THUMBFETCH_EXE

        if os.access(THUMBFETCH_EXE, os.X_OK):
            return THUMBFETCH_EXE
    except ImportError:
        pass
    found = shutil.which("thumbfetch")
    if found is None:
        raise SetupError("cannot find the thumbfetch executable: set $THUMBFETCH_EXE")
    return found


class Rows(list):
    """A result without pandas: a list of dicts, one per item, and the run's summary."""

    summary: dict = {}


def _frame(result: dict, columns: dict):
    rows, summary = result["rows"], result["summary"]
    if _pandas is None:
        out = Rows({name: row[name] for name in columns} for row in rows)
        out.summary = summary
        return out
    frame = _pandas.DataFrame(rows, columns=list(columns)).astype(columns)
    frame.attrs["summary"] = summary
    return frame


def _result(result: dict, columns: dict, function: str, out_dir):
    """The rows; or, when a full disk stopped the run, OSError(ENOSPC) carrying them.

    Raised, not warned: like Ctrl-C's KeyboardInterrupt, a full disk ends the whole run (the
    command prints one message and exits 1), and a warning is easily filtered or scrolled past
    while a notebook goes on with a partial table. The rows stay on the exception (``result``).
    """
    frame = _frame(result, columns)
    summary = result["summary"]
    first = summary.get("out_of_space")
    if first:
        error = OSError(errno.ENOSPC,
                        f"no space left on device ({first}): stopped, {summary['not_started']} "
                        f"not done; free some space and call thumbfetch.{function}() again to "
                        f"resume", os.fsdecode(out_dir))
        error.result = frame
        raise error
    return frame


class _TqdmProgress:
    """A tqdm bar per stage, and the job's notes written above it."""

    def __init__(self):
        try:
            import ipywidgets  # noqa: F401  (a notebook's bar needs it, else tqdm warns)
            from tqdm.auto import tqdm
        except ImportError:
            from tqdm import tqdm

        self._tqdm = tqdm
        self._bar = None
        self._stage = None

    def __call__(self, stage: str, done: int, total: int, failed: int) -> None:
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._bar = self._tqdm(total=total, desc=stage, unit="img", file=sys.stderr)
        self._bar.n = done
        if failed:
            self._bar.set_postfix(failed=failed, refresh=False)
        self._bar.refresh()

    def note(self, line: str) -> None:
        self._tqdm.write(line, file=sys.stderr)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _note_to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _callbacks(progress: Progress):
    """(progress callable or None, note callable or None, closer)."""
    if progress is False or progress is None:
        return None, None, lambda: None
    if callable(progress):
        return progress, None, lambda: None
    try:
        bar = _TqdmProgress()
    except ImportError:
        return None, _note_to_stderr, lambda: None
    return bar, bar.note, bar.close


def _call(function, *args, progress: Progress, options: dict):
    on_progress, on_note, close = _callbacks(progress)
    options = {k: v for k, v in options.items() if v is not None}
    try:
        return function(*args, options, on_progress, on_note, _INTERVAL, executable())
    finally:
        close()


def _urls(urls) -> list:
    if isinstance(urls, (str, bytes)):
        raise TypeError("urls must be a list of URLs, not a str (read_url_list(path) reads a file)")
    return list(urls)


def fetch(urls: Iterable[str], out_dir: PathLike, *, strategy: str = "async", jobs: int = 16,
          progress: Progress = True, **options):
    """Downloads `urls` into `out_dir`, as ``thumbfetch fetch``: one row per URL.

    strategy: "serial", "threads" or "async"; jobs: transfers in flight (threads: workers).
    Other keywords are the command's flags: per_host, retries, connect_timeout, stall_timeout,
    timeout ("30s", "2m"), retry_delay, retry_after_max, max_bytes ("50MB"), wait.
    An invalid URL is a failed row (refused); duplicates are fetched once.
    """
    options.update(strategy=strategy, jobs=jobs)
    result = _call(_thumbfetch.fetch, _urls(urls), os.fsencode(out_dir), progress=progress,
                   options=options)
    return _result(result, FETCH_COLUMNS, "fetch", out_dir)


def thumbs(inputs: Union[PathLike, Iterable[PathLike]], out_dir: PathLike, *,
           size=(128, 128), strategy: str = "threads", jobs: Optional[int] = None,
           progress: Progress = True, **options):
    """Thumbnails image files and folders into `out_dir`, as ``thumbfetch thumbs``.

    size: (width, height) or "WxH"; strategy: "serial", "threads" or "processes"; jobs:
    workers (None: the cores). Other keywords are the command's flags: mode, format, quality,
    background, max_pixels, reducing_gap, allow_truncated, recursive, mirror_tree (with
    recursive: keep the folder tree), skip_existing, timeout, wait. One row per input.
    """
    options.update(size=size, strategy=strategy, jobs=jobs)
    result = _call(_thumbfetch.thumbs, inputs, os.fsencode(out_dir), progress=progress,
                   options=options)
    return _result(result, THUMBS_COLUMNS, "thumbs", out_dir)


def run(urls: Iterable[str], out_dir: PathLike, *, strategy: str = "async", jobs: int = 16,
        thumb_strategy: str = "threads", workers: Optional[int] = None,
        progress: Progress = True, **options):
    """Downloads and thumbnails `urls` as one streamed pipeline, as ``thumbfetch run``.

    Takes fetch()'s keywords and the thumbnail ones (size, mode, format...), plus
    thumb_strategy, workers (None: the cores), thumb_timeout and keep_originals.
    """
    options.update(strategy=strategy, jobs=jobs, thumb_strategy=thumb_strategy, workers=workers)
    result = _call(_thumbfetch.run, _urls(urls), os.fsencode(out_dir), progress=progress,
                   options=options)
    return _result(result, RUN_COLUMNS, "run", out_dir)


def bench(urls: Optional[Iterable[str]] = None, *, serve: Optional[int] = None,
          latency: int = 50, repeat: int = 3, jobs: int = 64, workers: Optional[int] = None,
          work: Optional[PathLike] = None, report: Optional[PathLike] = None,
          progress: Progress = True, **options):
    """Every approach on the same input, as ``thumbfetch bench``: the comparison table.

    Source: `urls`, or serve=N (the built-in server with N generated images, `latency` ms
    before each response). repeat: measured runs of each approach; jobs: transfers in flight;
    workers: thumbnail threads or processes (None: the cores); work: keep every run's output
    there (default: a temp folder, removed); report: also write index.html, report.md,
    results.csv/json and the chart there. Other keywords: the command's transfer and thumbnail
    flags (thumb_format for the thumbnails' format). Summary: machine, source, repeat.
    """
    options.update(serve=serve, latency=latency if serve else None, repeat=repeat, jobs=jobs,
                   workers=workers, report=os.fspath(report) if report is not None else None)
    given = None if urls is None else _urls(urls)
    with tempfile.TemporaryDirectory(prefix="thumbfetch-bench-") as temp:
        options["work"] = os.fspath(work) if work is not None else temp
        result = _call(_thumbfetch.bench, given, progress=progress, options=options)
    return _frame(result, BENCH_COLUMNS)


def imgur_links(client_id: Optional[str] = None, *, section: str = "hot", sort: str = "viral",
                window: str = "day", n: int = 0, api: str = "https://api.imgur.com",
                animated: bool = False, nsfw: bool = False, progress: Progress = True) -> list:
    """Image links from the Imgur API v3 gallery, as ``--imgur``: at most `n` (0: all).

    client_id: default $IMGUR_CLIENT_ID. Albums are expanded; still images only unless
    animated/nsfw. Rate limits stop the collection and keep what was collected (a note says so).
    """
    options = {
        "imgur_client_id": client_id, "imgur_section": section, "imgur_sort": sort,
        "imgur_window": window, "imgur_api": api, "imgur_animated": animated,
        "imgur_nsfw": nsfw, "count": n,
    }
    options = {k: v for k, v in options.items() if v is not None}
    _, on_note, close = _callbacks(progress)
    try:
        return _thumbfetch.imgur_links(options, on_note, _INTERVAL)
    finally:
        close()


def read_url_list(path: PathLike) -> list:
    """The URLs of a list file, as ``--urls`` reads it: blank lines and # comments skipped,
    each URL normalised, duplicates kept once. Invalid lines are warned about and left out."""
    import warnings

    got = _thumbfetch.read_url_list(os.fspath(path))
    for line, text, reason in got["invalid"]:
        warnings.warn(f"{os.fspath(path)} line {line}: {text}: {reason}", stacklevel=2)
    return got["urls"]
