"""Build the optional mypyc speed-up of the template miner into the running Python's site-packages.

Usage (run by `make install` with the venv's python): python scripts/build_speedups.py [--force]

The issue asks for at least 3x drain3's throughput on every corpus; the pure Python miner falls
short on two of them, the same two modules compiled with mypyc (part of mypy, a pinned dev
dependency) do not (docs/benchmarks.md). So this script compiles copies of
`src/backline/patterns/masking.py` and `miner.py` into a package of their own,
`backline_speedups`, and `backline.patterns.engine` imports it when it was built from today's
sources (`SOURCE_HASH`, the SHA-256 of masking.py's bytes then miner.py's).

Why a package of its own, built in a temporary folder: compiled files next to the sources in
`src/` would shadow `miner.py` in an editable install and hide every later edit of it.

The build is optional: on any failure (no C compiler, a mypyc error) it prints one line saying the
pure Python miner will be used and exits 0, so `make install` never breaks because of it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PACKAGE = "backline_speedups"
SOURCES = Path(__file__).resolve().parent.parent / "src" / "backline" / "patterns"
MODULES = ("masking.py", "miner.py")  # the hash covers them in this order
PURE_IMPORT = "from backline.patterns.masking import"
OWN_IMPORT = f"from {PACKAGE}.masking import"
_HASH_LINE = re.compile(r'^SOURCE_HASH = "([0-9a-f]{64})"$', re.MULTILINE)
_SHARED_LINE = re.compile(r'^SHARED_LIB = "([^"/]+)"$', re.MULTILINE)
_FALLBACK = "backline speed-ups not built ({}); the pure Python template miner will be used."


class BuildError(Exception):
    """The speed-up could not be built; the message says why in a few words."""


def read_sources(folder: Path = SOURCES) -> list[bytes]:
    """The bytes of masking.py and miner.py, in that order, read once for hash and build alike."""
    return [(folder / name).read_bytes() for name in MODULES]


def source_hash(folder: Path = SOURCES, sources: list[bytes] | None = None) -> str:
    """SHA-256 of masking.py's bytes then miner.py's: what `engine.source_hash` computes too."""
    digest = hashlib.sha256()
    for part in read_sources(folder) if sources is None else sources:
        digest.update(part)
    return digest.hexdigest()


def rewrite_miner(text: str) -> str:
    """Point miner.py's one import of masking at the compiled package's own masking module."""
    if text.count(PURE_IMPORT) != 1:
        raise BuildError(f"miner.py must import masking exactly once as {PURE_IMPORT!r}")
    return text.replace(PURE_IMPORT, OWN_IMPORT)


def installed_hash(site: Path) -> str | None:
    """The SOURCE_HASH of the build in `site`, or None when there is none or it is incomplete."""
    init = site / PACKAGE / "__init__.py"
    try:
        text = init.read_text(encoding="utf-8")
    except OSError:
        return None
    found, shared = _HASH_LINE.search(text), _SHARED_LINE.search(text)
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    modules = [site / PACKAGE / (Path(name).stem + suffixes[0]) for name in MODULES]
    if found is None or shared is None or not (site / shared[1]).is_file():
        return None
    if not all(path.is_file() for path in modules):
        return None
    return found[1]


def compile_package(build: Path, sources: list[bytes]) -> tuple[Path, Path]:
    """Compile the two modules with mypyc in `build`; return (package folder, shared library)."""
    package = build / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    masking, miner = sources
    (package / "masking.py").write_bytes(masking)
    (package / "miner.py").write_bytes(rewrite_miner(miner.decode("utf-8")).encode("utf-8"))
    command = [sys.executable, "-m", "mypyc", *(f"{PACKAGE}/{name}" for name in MODULES)]
    try:
        # Our own interpreter and fixed arguments: nothing here comes from outside.
        done = subprocess.run(  # noqa: S603
            command, cwd=build, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise BuildError(f"cannot run mypyc: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise BuildError(f"mypyc failed: {last[0]}")
    shared = sorted(build.glob("*__mypyc*" + importlib.machinery.EXTENSION_SUFFIXES[0]))
    if len(shared) != 1:
        raise BuildError(f"expected one shared library from mypyc, found {len(shared)}")
    return package, shared[0]


def install(package: Path, shared: Path, site: Path, digest: str) -> None:
    """Put the build into `site`, replacing an older one.

    The package folder is assembled under a hidden name in `site` and renamed into place once
    complete, after the shared library it needs (copied under a temporary name and renamed: a
    file that a running process has mapped is never written in place). A process that starts
    meanwhile finds no package and uses the pure Python miner.
    """
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    staging = Path(tempfile.mkdtemp(prefix=f".{PACKAGE}-", dir=site))
    try:
        for built in sorted(package.iterdir()):
            if built.name.endswith(suffixes):
                shutil.copyfile(built, staging / built.name)
        init = (
            '"""mypyc build of backline.patterns.masking and .miner: scripts/build_speedups.py."""'
            f'\n\nSOURCE_HASH = "{digest}"\nSHARED_LIB = "{shared.name}"\n'
        )
        (staging / "__init__.py").write_text(init, encoding="utf-8")
        _remove_old(site)
        temporary = site / f".{shared.name}.new"
        shutil.copyfile(shared, temporary)
        os.replace(temporary, site / shared.name)
        os.rename(staging, site / PACKAGE)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_old(site: Path) -> None:
    """Remove an installed build: its package folder and the shared library it names.

    Only the library named in its `__init__.py` goes: other packages (mypy itself) keep
    `*__mypyc*` libraries in site-packages too.
    """
    old = site / PACKAGE
    if not old.exists():
        return
    try:
        shared = _SHARED_LINE.search((old / "__init__.py").read_text(encoding="utf-8"))
    except OSError:
        shared = None
    shutil.rmtree(old)
    if shared is not None:
        (site / shared[1]).unlink(missing_ok=True)


def check(site: Path, digest: str) -> None:
    """Import the installed build in a fresh interpreter and mine a few lines with it."""
    probe = (
        "import importlib.machinery as m, backline_speedups as p, backline_speedups.miner as c\n"
        f"assert p.SOURCE_HASH == {digest!r}\n"
        "assert c.__file__.endswith(tuple(m.EXTENSION_SUFFIXES)), c.__file__\n"
        "t = c.TemplateMiner()\n"
        "assert [x.template for x in t.add_many(['disk 3 full', 'disk 4 full'])] == "
        "['disk <*> full'] * 2\n"
    )
    done = subprocess.run(  # noqa: S603 (our own interpreter and probe)
        [sys.executable, "-c", probe], cwd=site, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        _remove_old(site)
        last = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise BuildError(f"the installed build does not work: {last[0]}")


def build(site: Path, *, force: bool = False) -> str:
    """Build and install unless `site` holds a build of today's sources; say what was done.

    A build of older sources is removed before anything else: it would only be ignored (with a
    warning in every process) if this build failed.
    """
    sources = read_sources()
    digest = source_hash(sources=sources)
    if not force and installed_hash(site) == digest:
        return f"backline speed-ups are up to date ({digest[:12]})."
    _remove_old(site)
    with tempfile.TemporaryDirectory(prefix="backline-speedups-") as folder:
        package, shared = compile_package(Path(folder), sources)
        install(package, shared, site, digest)
    check(site, digest)
    return f"backline speed-ups built with mypyc ({digest[:12]}) into {site}."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="build even if up to date")
    args = parser.parse_args(argv)
    site = Path(sysconfig.get_paths()["purelib"])
    try:
        print(build(site, force=args.force))
    except Exception as exc:  # whatever went wrong, `make install` must go on
        print(_FALLBACK.format(exc if isinstance(exc, BuildError) else repr(exc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
