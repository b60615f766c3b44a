"""Fixtures: the built-in server (a real HTTP server on 127.0.0.1) and a corpus of images made by
``thumbfetch corpus``; every test writes into its own pytest temp folder."""

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

import thumbfetch


@pytest.fixture(scope="session")
def exe():
    return thumbfetch.executable()


@pytest.fixture(scope="session")
def server():
    with thumbfetch.serve(generate=12, latency_ms=2) as s:
        yield s


@pytest.fixture(scope="session")
def corpus(tmp_path_factory, exe):
    """16 web-sized photo-like images (JPEG and PNG)."""
    folder = tmp_path_factory.mktemp("corpus")
    subprocess.run([exe, "corpus", str(folder), "-n", "16"], check=True, capture_output=True)
    return folder


def run_cli(exe, *args):
    """The command line on the same input, for the "same files as the CLI" checks."""
    return subprocess.run([exe, *map(str, args)], capture_output=True, text=True)


def images(folder):
    """name -> SHA-256 of the image files of an output folder (manifests, hidden files left out)."""
    out = {}
    for p in sorted(Path(folder).iterdir()):
        if p.name.startswith(".") or p.suffix == ".jsonl" or not p.is_file():
            continue
        out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def hidden_leftovers(folder):
    """Hidden files other than the lock: temp files a run should have removed."""
    return [p for p in os.listdir(folder) if p.startswith(".") and p != ".thumbfetch.lock"]
