"""`cmake --install` puts a working package into site-packages: it imports outside the build
tree and starts the installed thumbfetch (worker processes), not the build tree's."""

import os
import subprocess
import sys

import pytest

BUILD = os.environ.get("THUMBFETCH_BUILD_DIR")
SITE = os.environ.get("THUMBFETCH_PYTHON_INSTALL_DIR")


@pytest.mark.skipif(not BUILD or not SITE, reason="run from ctest (needs the build folder)")
def test_installed_package_imports_and_runs_its_own_executable(corpus, tmp_path):
    prefix = tmp_path / "prefix"
    done = subprocess.run(["cmake", "--install", BUILD, "--prefix", str(prefix)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    script = (
        "import sys, thumbfetch\n"
        "print(thumbfetch.__file__)\n"
        "print(thumbfetch.executable())\n"
        "frame = thumbfetch.thumbs(sys.argv[1], sys.argv[2], strategy='processes', jobs=2,"
        " progress=False)\n"
        "print((frame['status'] == 'ok').sum())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "THUMBFETCH_EXE")}
    env["PYTHONPATH"] = str(prefix / SITE)
    run = subprocess.run([sys.executable, "-c", script, str(corpus), str(tmp_path / "out")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    module, exe, ok = run.stdout.split()
    assert module.startswith(str(prefix / SITE / "thumbfetch"))
    assert exe == str(prefix / "bin" / "thumbfetch")
    assert ok == "16"
