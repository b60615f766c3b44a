"""The built-in test server (``thumbfetch serve``) as a child process, for notebooks and tests.

A child process, as the bench runs it, so its CPU time is never counted as the downloads'.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import tempfile
import urllib.request
from typing import Optional

from ._thumbfetch import SetupError

# The Client-ID the server's Imgur API look-alike accepts.
TEST_CLIENT_ID = "test-client-id"


class Server:
    """A running ``thumbfetch serve``: its `url`, the links it serves, its statistics.

    Use it as a context manager (``with thumbfetch.serve(...) as server:``) or call close().
    """

    def __init__(self, argv: list, start_timeout: float):
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self._log,
                                         stdin=subprocess.DEVNULL)
        try:
            self.url = self._read_address(start_timeout)
        except BaseException:
            self.close()
            raise
        self.client_id = TEST_CLIENT_ID

    def _read_address(self, timeout: float) -> str:
        # Its first stdout line is exactly "listening on http://127.0.0.1:PORT".
        prefix = b"listening on "
        with selectors.DefaultSelector() as selector:
            selector.register(self._process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                raise SetupError(f"the built-in server did not start within {timeout:.0f} s")
        line = self._process.stdout.readline()
        if not line.startswith(prefix):
            self._process.wait()
            self._log.seek(0)
            why = self._log.read().decode(errors="replace").strip() or line.decode().strip()
            raise SetupError(f"the built-in server did not start: {why}")
        return line[len(prefix):].decode().strip()

    @property
    def imgur_api(self) -> str:
        """The base URL to give imgur_links(api=...)."""
        return self.url

    def links(self) -> list:
        """Every image URL it serves (its /list.txt)."""
        with urllib.request.urlopen(self.url + "/list.txt", timeout=30) as answer:
            return answer.read().decode().split()

    def stats(self) -> dict:
        """What it has seen: requests, GETs per path, connections (its /stats)."""
        with urllib.request.urlopen(self.url + "/stats", timeout=30) as answer:
            return json.loads(answer.read())

    def close(self) -> None:
        """Stops it (SIGTERM: it exits 0) and waits for it."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()
        self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<thumbfetch.Server {self.url}>"


def serve(generate: Optional[int] = None, *, dir: Optional[os.PathLike] = None,
          latency_ms: int = 0, jitter_ms: int = 0, imgur_pages: Optional[int] = None,
          start_timeout: float = 300, **options) -> Server:
    """Starts ``thumbfetch serve`` on 127.0.0.1 (a free port) and returns it once it listens.

    generate: N generated images (img_0000.jpg ...), or dir: the files of a folder.
    latency_ms/jitter_ms: before each response. imgur_pages: non-empty pages of its Imgur API
    look-alike (default: enough for all the images, as bench does). Other keywords are the
    command's flags (bandwidth, rate_503=0.05, seed...).
    """
    from . import executable

    if (generate is None) == (dir is None):
        raise ValueError("serve(): give generate=N or dir=DIR")
    argv = [executable(), "serve", "--port", "0", "--latency", str(latency_ms),
            "--jitter", str(jitter_ms)]
    if generate is not None:
        argv += ["--generate", str(generate)]
        pages = imgur_pages if imgur_pages is not None else generate // 40 + 2
    else:
        argv += ["--dir", os.fspath(dir)]
        pages = imgur_pages
    if pages is not None:
        argv += ["--imgur-pages", str(pages)]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            argv.append(flag)
        elif value is not False and value is not None:
            argv += [flag, str(value)]
    return Server(argv, start_timeout)
