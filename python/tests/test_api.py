"""The module's contract beyond the rows: argument errors with the CLI's messages, set-up errors
as thumbfetch.Error, Ctrl-C, the GIL, progress, link sources and the server."""

import _thread
import fcntl
import json
import os
import threading
import time

import pytest

import thumbfetch
from conftest import hidden_leftovers, run_cli


# --- bad arguments: ValueError / TypeError, with the command line's messages ---------------------

@pytest.mark.parametrize("flag, keyword, value", [
    ("--size", "size", "big"),
    ("--jobs", "jobs", 0),
    ("--mode", "mode", "squash"),
    ("--quality", "quality", 101),
])
def test_bad_thumbs_values_raise_value_error_with_the_cli_message(corpus, exe, tmp_path, flag,
                                                                  keyword, value):
    cli = run_cli(exe, "thumbs", corpus, "-o", tmp_path / "cli", flag, value)
    assert cli.returncode == 2
    message = cli.stderr.splitlines()[0]
    with pytest.raises(ValueError) as raised:
        thumbfetch.thumbs(corpus, tmp_path / "py", progress=False, **{keyword: value})
    assert str(raised.value) == message
    assert not (tmp_path / "py").exists()  # refused before any work


def test_bad_fetch_values_raise_value_error(server, tmp_path):
    with pytest.raises(ValueError, match="--strategy"):
        thumbfetch.fetch(server.links(), tmp_path / "out", strategy="fast", progress=False)
    with pytest.raises(ValueError, match="--timeout"):
        thumbfetch.fetch(server.links(), tmp_path / "out", timeout="soon", progress=False)
    assert not (tmp_path / "out").exists()


def test_wrong_types_raise_type_error(server, corpus, tmp_path):
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        thumbfetch.thumbs(corpus, tmp_path / "out", colour="red", progress=False)
    with pytest.raises(TypeError, match="not a str"):
        thumbfetch.fetch(server.links()[0], tmp_path / "out", progress=False)
    with pytest.raises(TypeError, match="must hold str"):
        thumbfetch.fetch([1, 2], tmp_path / "out", progress=False)
    with pytest.raises(TypeError, match="True or False"):
        thumbfetch.thumbs(corpus, tmp_path / "out", skip_existing="yes", progress=False)


# --- set-up problems: thumbfetch.Error subclasses ----------------------------------------------

def test_an_unusable_output_folder_is_a_setup_error(corpus, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(thumbfetch.SetupError) as raised:
        thumbfetch.thumbs(corpus, blocker / "out", progress=False)
    assert isinstance(raised.value, thumbfetch.Error)
    assert not isinstance(raised.value, thumbfetch.FolderLockedError)


def test_a_folder_locked_by_another_run_is_folder_locked_error(server, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".thumbfetch.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another run holds it
        with pytest.raises(thumbfetch.FolderLockedError, match="in use by another thumbfetch run"):
            thumbfetch.fetch(server.links(), out, progress=False)
    assert os.listdir(out) == [".thumbfetch.lock"]  # nothing fetched, no manifest
    frame = thumbfetch.fetch(server.links(), out, progress=False)  # released: it runs
    assert (frame["status"] == "ok").all()


def test_nothing_to_do_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(thumbfetch.NothingToDoError):
        thumbfetch.thumbs(tmp_path / "empty", tmp_path / "out", progress=False)
    with pytest.raises(thumbfetch.NothingToDoError):
        thumbfetch.fetch([], tmp_path / "out", progress=False)


# --- Ctrl-C, the GIL, progress ----------------------------------------------------------------

def test_keyboard_interrupt_stops_a_fetch_cleanly(server, tmp_path):
    # 30 URLs one after another, each answered after 300 ms: 9 s unless stopped.
    urls = [f"{link}?delay=300&n={i}" for i, link in enumerate(server.links() * 3)][:30]
    out = tmp_path / "out"
    started = threading.Event()

    def progress(stage, done, total, failed):
        if done >= 2:
            started.set()

    # Raised in the main thread as a real Ctrl-C is, from another thread, once the run is going.
    threading.Thread(target=lambda: started.wait(30) and _thread.interrupt_main()).start()
    with pytest.raises(KeyboardInterrupt):
        thumbfetch.fetch(urls, out, strategy="serial", progress=progress)
    rows = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    fetched = [row["url"] for row in rows if row["status"] == "ok"]
    assert 2 <= len(fetched) < len(urls)  # stopped: what settled is in the manifest
    assert hidden_leftovers(out) == []  # the transfer in flight was aborted, its temp removed
    # The folder is free again and the run resumes: only what is left is fetched.
    again = thumbfetch.fetch(urls[:len(fetched) + 1], out, strategy="serial", progress=False)
    assert list(again["status"]) == ["skipped"] * len(fetched) + ["ok"]


def test_the_gil_is_released_while_thumbs_runs(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(thumbfetch, "_INTERVAL", 0.01)  # the first callback soon after the start
    counts = {"during": 0}
    running = threading.Event()
    finished = threading.Event()

    def count():
        while not finished.is_set():
            if running.is_set():
                counts["during"] += 1

    counter = threading.Thread(target=count)
    counter.start()

    def progress(stage, done, total, failed):
        running.set()

    try:
        thumbfetch.thumbs(corpus, tmp_path / "out", strategy="serial", size=(512, 512),
                          progress=progress)
    finally:
        finished.set()
        counter.join()
    # Held, the GIL would keep the counter from running at all while the job works.
    assert counts["during"] > 1000


def test_progress_callback_sees_every_item(corpus, tmp_path):
    seen = []
    thumbfetch.thumbs(corpus, tmp_path / "out", progress=lambda *a: seen.append(a))
    assert seen and seen[-1] == ("thumbnails", 16, 16, 0)
    assert all(done <= total for _, done, total, _ in seen)


def test_an_exception_in_the_progress_callback_stops_the_run(corpus, tmp_path):
    def progress(stage, done, total, failed):
        raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        thumbfetch.thumbs(corpus, tmp_path / "out", strategy="serial", progress=progress)
    assert (tmp_path / "out" / "thumbs.jsonl").is_file()  # committed before raising
    assert hidden_leftovers(tmp_path / "out") == []


def test_tqdm_bar_when_progress_is_true(corpus, tmp_path, capsys):
    pytest.importorskip("tqdm")
    thumbfetch.thumbs(corpus, tmp_path / "out")
    assert "thumbnails" in capsys.readouterr().err


# --- link sources and the server ---------------------------------------------------------------

def test_imgur_links_from_the_look_alike(server):
    links = thumbfetch.imgur_links(server.client_id, api=server.url, n=5, progress=False)
    assert len(links) == 5 and all(link.startswith(server.url + "/img/") for link in links)


def test_imgur_links_bad_arguments(server, monkeypatch):
    monkeypatch.delenv("IMGUR_CLIENT_ID", raising=False)
    with pytest.raises(ValueError, match="Client-ID"):
        thumbfetch.imgur_links(api=server.url, progress=False)
    with pytest.raises(ValueError, match="section"):
        thumbfetch.imgur_links("id", section="best", api=server.url, progress=False)


def test_read_url_list(tmp_path):
    path = tmp_path / "links.txt"
    path.write_text("# a comment\nhttp://a.example/1.jpg\n\nftp://b.example/2.jpg\n"
                    "http://a.example/1.jpg\nhttps://c.example/3.png\n")
    with pytest.warns(UserWarning, match="line 4"):
        urls = thumbfetch.read_url_list(path)
    assert urls == ["http://a.example/1.jpg", "https://c.example/3.png"]
    with pytest.raises(FileNotFoundError):
        thumbfetch.read_url_list(tmp_path / "missing.txt")


def test_serve_context_manager():
    with thumbfetch.serve(generate=3, latency_ms=0) as s:
        assert s.url.startswith("http://127.0.0.1:")
        assert len(s.links()) == 3
        process = s._process
    assert process.poll() == 0  # stopped with SIGTERM, exited 0
    with pytest.raises(ValueError):
        thumbfetch.serve()


def children():
    """The pids of this process's live children (worker processes, servers)."""
    pids = []
    for task in os.listdir("/proc/self/task"):
        with open(f"/proc/self/task/{task}/children") as f:
            pids += f.read().split()
    return pids


def test_keyboard_interrupt_in_processes_leaves_no_worker_behind(corpus, tmp_path, server,
                                                                  monkeypatch):
    monkeypatch.setattr(thumbfetch, "_INTERVAL", 0.01)  # stopped soon after the first image
    before = children()

    def progress(stage, done, total, failed):
        if done >= 1:
            raise KeyboardInterrupt  # as Ctrl-C raises it in a callback

    with pytest.raises(KeyboardInterrupt):
        thumbfetch.thumbs(corpus, tmp_path / "out", strategy="processes", jobs=2,
                          size=(1024, 1024), progress=progress)
    assert children() == before  # the workers were stopped and reaped
    assert hidden_leftovers(tmp_path / "out") == []
    resumed = thumbfetch.thumbs(corpus, tmp_path / "out", skip_existing=True, size=(1024, 1024),
                                progress=False)
    assert set(resumed["status"]) == {"skipped", "ok"}  # stopped midway, resumed
