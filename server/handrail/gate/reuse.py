"""`handrail check` run again on unchanged inputs: the previous run's output, provably the same.

A git hook or a CI step often runs the gate twice on the same tree, and a run costs ~300 ms,
most of it importing the engine (issue 17). A full run on the click-free path records every
input it consumed while it ran, and the next run with the same key replays its output only
when every one of them is unchanged; on any difference or doubt it runs in full. A gate that
prints a stale result is worse than none, so the manifest is built from what the run did, not
from a list of what we think it reads:

- every file opened (`open` audit events, `os.open` included), every `os.stat`/`os.lstat`/
  `os.access`/`os.readlink` (patched for the run: stats raise no audit event) and every folder
  listed (`os.listdir`, `os.scandir`), by a stat signature taken *before* the run reads it:
  device, inode, type, size, mtime and ctime (a folder's mtime and ctime move with every entry
  added, removed or renamed in it). A content change always moves ctime (the kernel sets it, no
  user can set it back), so a file changed after its signature was taken has another one next
  time; the one gap is a change within the same clock tick as an earlier one, so a run that
  meets an input changed less than `RACY_NS` before it started (2 s when the file system keeps
  whole seconds) records nothing (git's "racy" files; the next run records). This holds on the
  local file systems of `LOCAL_FILE_SYSTEMS` on Linux only: a network or FUSE file system may
  not move ctime, and Windows' `st_ctime` is the creation time, so nothing is recorded
  elsewhere.
- every module imported from outside Python's library folders (Handrail's source in an editable
  install changes without a version bump), and every `sys.path` folder's signature (a
  package installed or upgraded adds and removes `.dist-info` folders in it).
- every subprocess, which may only be git: its argv, folder, environment and the hash of its
  exit code and output. The next run starts each again, all at once, compares the files while
  git runs, then compares git's answers. Anything else (another program, input on stdin,
  a socket, a database other than the content-addressed context cache) makes the run not
  reusable.
- the key: argv, working directory, Handrail's version, the interpreter, the
  local and the UTC date (cadence deadlines), every environment variable but a few volatile
  ones (hashed, never stored), and whether stdout and stderr are terminals and their encoding.

An input that changes after its signature was taken (while the run reads it, or by the run
itself) has another signature at the next run, which therefore runs in full. The manifest
lives in the user's cache folder (never in the repository; a cache folder inside the
workspace turns reuse off), owned by the user and written atomically (not durably: a lost one
means a full run); one that cannot be read, parsed or trusted means a full run.
Only the click-free command lines are recorded, so options that write or run things
(`--rerun`, `--record-gate`, `--commits`) never reuse. `HANDRAIL_NO_REUSE=1` turns it off.

The recording starts before the workspace is found, so the files and folders that decide the
root are inputs like any other. The replay (`replay_if_unchanged`) runs first thing in
`cli.entry`: it imports nothing of the engine, not even the command's option parser (a manifest
exists only for a command line the click-free path ran and recorded).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat as stat_mod
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any, TextIO

from handrail import __version__

FORMAT = 3
RACY_NS = 100_000_000
"""A file changed less than this before the run started may change again within the same clock
tick without moving its signature: such a run leaves no manifest. File times come from the
kernel's coarse clock (a tick of 1-10 ms on Linux), so 100 ms leaves a wide margin."""
COARSE_RACY_NS = 2_000_000_000
"""The same for a file whose times are whole seconds (a file system without nanoseconds, e.g.
ext4 with small inodes; FAT's 2 s steps)."""

LOCAL_FILE_SYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs", "f2fs", "bcachefs",
     "jfs", "reiserfs", "ramfs"}
)  # fmt: skip
"""File systems whose ctime the kernel itself keeps (`/proc/self/mountinfo` names them): reuse is
recorded only for a workspace on one of them."""

VOLATILE_ENV = frozenset({"PWD", "OLDPWD", "SHLVL", "_", "HANDRAIL_DEBUG_REUSE"})
"""Environment variables no output depends on (the shell's bookkeeping; the test marker)."""

DISABLE_ENV = "HANDRAIL_NO_REUSE"
DEBUG_ENV = "HANDRAIL_DEBUG_REUSE"
"""When set, a replay says so on stderr (tests prove reuse happened with it)."""

_NON_REUSABLE_EVENTS = (
    "socket.",
    "urllib.",
    "http.",
    "ftplib.",
    "smtplib.",
    "os.chdir",  # relative paths recorded after it would name other files
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.startfile",
    "pty.",
    "webbrowser.",
)

_DEVICES = frozenset({stat_mod.S_IFCHR, stat_mod.S_IFBLK})

_WATCHED = frozenset({"open", "os.listdir", "os.scandir", "subprocess.Popen", "sqlite3.connect"})
"""The audit events that name an input (or a subprocess, counted against the git calls)."""

Signature = list[Any]


def signature(path: str, *, follow: bool) -> Signature:
    """What a file or folder is, by its metadata: equal signatures mean the same content
    (outside the racy window; the module docstring says why)."""
    try:
        st = os.stat(path, follow_symlinks=follow) if follow else os.lstat(path)
    except OSError as exc:
        return ["missing", exc.errno]
    kind = stat_mod.S_IFMT(st.st_mode)
    if stat_mod.S_ISDIR(st.st_mode):
        # Looked at, not listed: what it holds is recorded only when it is listed
        # (`folder_signature`, whose times move with every entry made inside it).
        return [kind, st.st_dev, st.st_ino, stat_mod.S_IMODE(st.st_mode)]
    return [
        kind,
        st.st_dev,
        st.st_ino,
        stat_mod.S_IMODE(st.st_mode),
        st.st_size,
        st.st_mtime_ns,
        st.st_ctime_ns,
    ]


def file_signatures(path: str) -> list[Signature]:
    """A path's signature, and its target's when it is a symlink. A device (/dev/null, a
    terminal) has no content and times that move with every write: it is left out (a link to
    one is still an input: pointed elsewhere, it has another signature)."""
    sigs = [signature(path, follow=False)]
    if sigs[0][0] == stat_mod.S_IFLNK:
        sigs.append(signature(path, follow=True))
    if sigs[-1][0] in _DEVICES:
        sigs.pop()
    return sigs


def folder_signature(path: str) -> Signature:
    """What a folder holds, by its metadata: an entry added, removed or renamed (a file
    replaced by a folder of the same name included) moves the folder's modification and change
    times, so equal signatures mean the same names and kinds (outside the racy window). An
    entry's own size and times are not in it: the run learns them only through a stat, which
    records the entry as a file (`os.stat`, and `DirEntry.stat` through `_Entry`)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return ["missing", exc.errno]
    return [
        stat_mod.S_IFMT(st.st_mode),
        st.st_dev,
        st.st_ino,
        stat_mod.S_IMODE(st.st_mode),
        st.st_mtime_ns,
        st.st_ctime_ns,
    ]


def _newest_of(mtime_ns: int, ctime_ns: int) -> int:
    """The later of two times, moved forward to the end of the racy window's width when the file
    system keeps whole seconds only (so one comparison with `RACY_NS` serves both)."""
    newest = max(mtime_ns, ctime_ns)
    if mtime_ns % 1_000_000_000 == 0 and ctime_ns % 1_000_000_000 == 0:
        newest += COARSE_RACY_NS - RACY_NS
    return newest


def _newest_ns(sig: Signature) -> int:
    """A file's (7 fields) or a folder's (6) newest time; 0 for one missing."""
    if len(sig) == 7:
        return _newest_of(sig[5], sig[6])
    if len(sig) == 6:
        return _newest_of(sig[4], sig[5])
    return 0


MOUNTINFO = "/proc/self/mountinfo"


def mount_table(mountinfo_file: str = MOUNTINFO) -> list[tuple[str, str, int]] | None:
    """(mount point, file system type, device number) of every mount, in the kernel's order
    (a later mount on the same point hides an earlier one); None when it cannot be read."""
    try:
        with open(mountinfo_file, "rb") as handle:
            lines = handle.read().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        return None
    import re  # not on the replay's path

    table: list[tuple[str, str, int]] = []
    for line in lines:
        # "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw"
        left, sep, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if not sep or len(fields) < 5 or not rest:
            continue
        major, _, minor = fields[2].partition(":")
        if not (major.isdigit() and minor.isdigit()):
            continue
        # The kernel writes a blank, tab, newline or backslash in a mount point as an octal escape.
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), fields[4])
        table.append((point, rest[0], os.makedev(int(major), int(minor))))
    return table


def local_file_system(path: str, table: list[tuple[str, str, int]] | None = None) -> str | None:
    """None when `path` lies on a local file system whose ctime the kernel keeps (on Linux, by
    the mount table); else why reuse cannot trust it."""
    if not sys.platform.startswith("linux"):
        return f"reuse is recorded on Linux only (this is {sys.platform})"
    table = mount_table() if table is None else table
    if table is None:
        return "the mounts are unknown"
    real = os.path.realpath(path)
    best, kind = "", ""
    for point, fs_type, _ in table:
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs_type
    if kind not in LOCAL_FILE_SYSTEMS:
        return f"{real} is on a {kind or 'unknown'} file system"
    return None


def local_devices(table: list[tuple[str, str, int]] | None) -> set[int]:
    """The device numbers of every mounted local file system (`LOCAL_FILE_SYSTEMS`): an input on
    any other device (a network share mounted inside the workspace, or reached through a
    symlink) keeps a run from being recorded. Empty when the table is unknown."""
    return {dev for _, fs_type, dev in table or () if fs_type in LOCAL_FILE_SYSTEMS}


# -- the key -------------------------------------------------------------------------------------


def cache_folder() -> Path:
    """Where manifests live: `$HANDRAIL_CACHE_DIR`, `$XDG_CACHE_HOME/handrail` or
    `~/.cache/handrail`, then `check-reuse/`."""
    configured = os.environ.get("HANDRAIL_CACHE_DIR")
    if configured:
        base = Path(configured)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg) / "handrail" if xdg else Path.home() / ".cache" / "handrail"
    return base.absolute() / "check-reuse"


def _stream_facts(stream: TextIO) -> list[Any]:
    try:
        tty = bool(stream.isatty())
    except Exception:
        tty = False
    return [
        type(stream).__name__,
        tty,
        getattr(stream, "encoding", None),
        getattr(stream, "errors", None),
    ]


def run_key(args: Sequence[str], streams: tuple[TextIO, TextIO] | None = None) -> dict[str, Any]:
    """Everything a run's output may depend on that is not a file, a folder or git."""
    import datetime as dt

    out, err = streams if streams is not None else (sys.stdout, sys.stderr)
    env = sorted((k, v) for k, v in os.environ.items() if k not in VOLATILE_ENV)
    env_hash = hashlib.sha256(json.dumps(env).encode("utf-8", "surrogateescape")).hexdigest()
    return {
        "format": FORMAT,
        "version": __version__,
        "python": [
            sys.version,
            sys.executable,
            sys.prefix,
            list(sys.path),
            list(sys.argv[:1]),
            list(sys.flags),
        ],
        "argv": list(args),
        "cwd": os.getcwd(),
        "today": dt.date.today().isoformat(),
        "utc_today": dt.datetime.now(dt.UTC).date().isoformat(),
        "env": env_hash,
        "user": [os.getuid(), os.getgid(), os.getgroups()] if hasattr(os, "getuid") else None,
        "stdout": _stream_facts(out),
        "stderr": _stream_facts(err),
    }


def manifest_path(key: dict[str, Any]) -> Path:
    name = json.dumps([key["cwd"], key["argv"]]).encode("utf-8", "surrogateescape")
    return cache_folder() / (hashlib.sha256(name).hexdigest()[:32] + ".json")


def enabled() -> bool:
    """False when turned off (`HANDRAIL_NO_REUSE`)."""
    return os.environ.get(DISABLE_ENV, "") in ("", "0")


def cache_inside(root: str) -> bool:
    """True when the cache folder lies inside the workspace: a manifest there could have come
    with the repository, so none is read or written."""
    try:
        cache_folder().relative_to(root)
    except ValueError:
        return False
    return True


# -- recording -----------------------------------------------------------------------------------


class _Tee:
    """A text stream that keeps a copy of what is written to it, in one list with the other
    stream's, so that a replay writes both in the order the run did."""

    def __init__(self, wrapped: TextIO, number: int, parts: list[list[Any]]) -> None:
        self.wrapped = wrapped
        self.number = number
        self.parts = parts

    def write(self, text: str) -> int:
        if self.parts and self.parts[-1][0] == self.number:
            self.parts[-1][1] += text
        else:
            self.parts.append([self.number, text])
        return self.wrapped.write(text)

    def flush(self) -> None:
        self.wrapped.flush()

    def isatty(self) -> bool:
        return self.wrapped.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class _Entry:
    """A `DirEntry` whose `stat()` is an input of the run, as `os.stat` of its path is."""

    __slots__ = ("_entry", "_recorder", "name", "path")

    def __init__(self, entry: os.DirEntry[Any], recorder: Recorder) -> None:
        self._entry = entry
        self._recorder = recorder
        self.name = entry.name
        self.path = entry.path

    def stat(self, *, follow_symlinks: bool = True) -> os.stat_result:
        self._record()
        return self._entry.stat(follow_symlinks=follow_symlinks)

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._entry.is_symlink():
            self._record()  # the kind of what the link points to, wherever that is
        return self._entry.is_dir(follow_symlinks=follow_symlinks)

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        if follow_symlinks and self._entry.is_symlink():
            self._record()
        return self._entry.is_file(follow_symlinks=follow_symlinks)

    def _record(self) -> None:
        recorder = self._recorder
        if recorder.active and recorder.reusable and not recorder.paused:
            with recorder.pause():
                recorder._file(os.fsdecode(self.path))

    def is_symlink(self) -> bool:
        return self._entry.is_symlink()

    def inode(self) -> int:
        return self._entry.inode()

    def __fspath__(self) -> Any:
        return self._entry.__fspath__()

    def __repr__(self) -> str:
        return f"<_Entry {self.name!r}>"


class _Entries:
    """`os.scandir`'s iterator, handing out `_Entry`s."""

    def __init__(self, found: Any, recorder: Recorder) -> None:
        self._found = found
        self._recorder = recorder

    def __iter__(self) -> _Entries:
        return self

    def __next__(self) -> _Entry:
        return _Entry(next(self._found), self._recorder)

    def __enter__(self) -> _Entries:
        return self

    def __exit__(self, *exc: object) -> None:
        self._found.close()

    def close(self) -> None:
        self._found.close()


class Recorder:
    """The inputs one run consumes, from `start` to `stop`."""

    def __init__(self, args: Sequence[str]) -> None:
        self._root: Path | None = None
        self._root_prefix = ""
        self.args = list(args)
        self.active = False
        # Per thread: the check reads files from worker threads too, and one thread inside
        # the recorder's own stat must not hide another thread's input.
        self._local = threading.local()
        self._lock = threading.RLock()
        self.reusable = True
        self.why = ""
        self.started_ns = time.time_ns()
        self.files: dict[str, list[Signature]] = {}
        self.dirs: dict[str, Signature] = {}
        self.git: list[dict[str, Any]] = []
        self.popens = 0
        self.completed = False
        self.code = 0
        self._restore: list[Callable[[], None]] = []
        self._out: _Tee | None = None
        self._err: _Tee | None = None
        self._cache_db = str(cache_folder().parent)
        self.key = run_key(self.args)
        self._outside = _library_folders()
        self._cwd = os.getcwd()

    # The hook is permanent once added (the interpreter allows no removal): it does nothing
    # unless a recorder is active.
    def _hook(self, event: str, hook_args: tuple[Any, ...]) -> None:
        if not self.active or not self.reusable or self.paused:
            return  # once declined, the rest of the run costs nothing more
        with self.pause():
            try:
                self._on_event(event, hook_args)
            except Exception as exc:  # recording must never break the run: it only declines
                self.decline(f"{event}: {type(exc).__name__}: {exc}")

    def _on_event(self, event: str, hook_args: tuple[Any, ...]) -> None:
        if event == "open":
            path = hook_args[0]
            if isinstance(path, int):
                return  # a descriptor already opened (a pipe)
            self._file(os.fsdecode(path))
        elif event in ("os.listdir", "os.scandir"):
            path = hook_args[0]
            if path is None:
                path = "."
            if isinstance(path, int):
                self.decline("a folder listed by descriptor")
                return
            self._folder(os.path.abspath(os.fsdecode(path)))
        elif event == "subprocess.Popen":
            self.popens += 1
        elif event == "sqlite3.connect":
            db = os.path.abspath(os.fsdecode(hook_args[0]))
            # The context cache: results by content digest, the same answer for the same
            # content whatever it holds.
            if not db.startswith(self._cache_db + os.sep):
                self.decline(f"a database: {db}")
        elif event == "socket.__new__":
            return  # a socket made reads nothing: what it binds or connects to decides
        elif event == "socket.bind" and _loopback_probe(hook_args[1]):
            # urllib3 (imported with detect-secrets for a secret scan) binds ::1, port 0, to
            # learn whether IPv6 works, and closes it: nothing is received.
            return
        elif event.startswith(_NON_REUSABLE_EVENTS):
            self.decline(event)

    @property
    def root(self) -> Path | None:
        """The workspace, once found: whatever lies in it is always an input."""
        return self._root

    @root.setter
    def root(self, root: Path | None) -> None:
        self._root = root
        self._root_prefix = os.path.join(os.path.abspath(root), "") if root is not None else ""

    def _outside_inputs(self, path: str) -> bool:
        """Python's own files (its standard library and installed packages): covered by the
        interpreter and `sys.path` listings of the key, not recorded one by one, unless they
        lie in the workspace (a virtual environment inside a repository that is not in git
        is walked like any folder)."""
        return path.startswith(self._outside) and not (
            self._root_prefix and path.startswith(self._root_prefix)
        )

    def _file(self, path: str) -> None:
        # The working folder cannot change while recording (a chdir declines): joining is
        # enough, and much cheaper than `abspath` for the thousands of paths of a run.
        full = path if path.startswith(os.sep) else os.path.join(self._cwd, path)
        if full in self.files or self._outside_inputs(full):
            return
        sigs = file_signatures(full)
        if not sigs:
            return
        self.files[full] = sigs
        # Taken before the run reads the file: a later change moves it, except within the
        # same clock tick as a change made just before (the racy window).
        if any(_newest_ns(sig) > self.started_ns - RACY_NS for sig in sigs):
            self.decline(f"{full} changed just before the run")

    def _folder(self, full: str) -> None:
        if full in self.dirs or self._outside_inputs(full):
            return
        sig = folder_signature(full)
        self.dirs[full] = sig
        if _newest_ns(sig) > self.started_ns - RACY_NS:
            self.decline(f"the folder {full} changed just before the run")

    def _foreign_device(self, allowed: set[int]) -> str | None:
        """Why an input on a device not in `allowed` (local file systems) nor the workspace's
        keeps the run from being recorded (a network share inside it, or behind a symlink),
        or None."""
        assert self._root is not None
        try:
            allowed.add(os.stat(self._root).st_dev)
        except OSError as exc:
            return f"the workspace cannot be looked at: {exc}"
        for path, sigs in self.files.items():
            for sig in sigs:
                if sig[0] != "missing" and sig[1] not in allowed:
                    return f"{path} is on a file system reuse cannot trust"
        for path, sig in self.dirs.items():
            if sig[0] != "missing" and sig[1] not in allowed:
                return f"the folder {path} is on a file system reuse cannot trust"
        return None

    def decline(self, why: str) -> None:
        if self.reusable:
            self.reusable = False
            self.why = why

    @property
    def paused(self) -> bool:
        """True while this thread runs the recorder's own work (its stats are no input)."""
        return bool(getattr(self._local, "depth", 0))

    def pause(self) -> Recorder:
        """`with recorder.pause():` the recorder's own work (a class, not a generator: it runs
        for every input of the run)."""
        return self

    def __enter__(self) -> None:
        self._lock.acquire()
        self._local.depth = getattr(self._local, "depth", 0) + 1

    def __exit__(self, *exc: object) -> None:
        self._local.depth -= 1
        self._lock.release()

    def start(self) -> None:
        """Record from now on: the audit hook, stats, git's output, stdout and stderr."""
        if not _hook_added:
            _add_hook()
        global _current
        _current = self
        self.active = True
        for name in ("stat", "lstat", "access", "readlink", "open"):
            self._patch_os(name)
        self._patch_scandir()
        self._patch_popen()

    def capture_output(self) -> None:
        parts: list[list[Any]] = []
        self._out = _Tee(sys.stdout, 1, parts)
        self._err = _Tee(sys.stderr, 2, parts)
        real_out, real_err = sys.stdout, sys.stderr
        sys.stdout = self._out
        sys.stderr = self._err

        def restore() -> None:
            if sys.stdout is self._out:
                sys.stdout = real_out
            if sys.stderr is self._err:
                sys.stderr = real_err

        self._restore.append(restore)

    def stop(self) -> None:
        global _current
        self.active = False
        _current = None
        while self._restore:
            self._restore.pop()()

    def _patch_os(self, name: str) -> None:
        original = getattr(os, name)
        recorder = self

        def wrapper(path: Any, *args: Any, **kwargs: Any) -> Any:
            if recorder.active and recorder.reusable and not recorder.paused:
                with recorder.pause():
                    try:
                        if not isinstance(path, int):  # a descriptor's file was recorded at open
                            recorder._file(os.fsdecode(path))
                            if kwargs.get("dir_fd") is not None:
                                recorder.decline(f"os.{name} with dir_fd")
                    except Exception as exc:
                        recorder.decline(f"os.{name}: {exc}")
            return original(path, *args, **kwargs)

        setattr(os, name, wrapper)
        self._restore.append(lambda: setattr(os, name, original))

    def _patch_scandir(self) -> None:
        """`os.scandir` records the folder (before the run reads it) and hands out entries
        whose `stat()`, or a kind asked through a symlink, records the entry's file."""
        original = os.scandir
        recorder = self

        def scandir(path: Any = None) -> Any:
            if (
                not (recorder.active and recorder.reusable and not recorder.paused)
                or isinstance(path, int)  # declined by the audit event
            ):
                return original() if path is None else original(path)
            with recorder.pause():
                recorder._folder(os.path.abspath(os.fsdecode(path if path is not None else ".")))
                # Paused: the audit event of this call is not recorded a second time.
                found = original() if path is None else original(path)
            return _Entries(found, recorder)

        os.scandir = scandir
        self._restore.append(lambda: setattr(os, "scandir", original))

    def _patch_popen(self) -> None:
        popen = subprocess.Popen
        original_init = popen.__init__
        original_communicate = popen.communicate
        recorder = self

        def init(proc: Any, args: Any, *rest: Any, **kwargs: Any) -> None:
            original_init(proc, args, *rest, **kwargs)
            if recorder.active and not recorder.paused:
                env = kwargs.get("env")
                proc._handrail_call = {
                    "argv": [os.fsdecode(a) for a in args]
                    if isinstance(args, (list, tuple))
                    else None,
                    "cwd": os.path.abspath(os.fsdecode(kwargs.get("cwd") or os.getcwd())),
                    "env": _env_diff(env),
                    "shell": bool(kwargs.get("shell")) or kwargs.get("executable") is not None,
                    "stdin": kwargs.get("stdin"),
                }

        def communicate(proc: Any, input: Any = None, timeout: float | None = None) -> Any:
            result = original_communicate(proc, input, timeout)
            call = getattr(proc, "_handrail_call", None)
            if recorder.active and not recorder.paused and call is not None:
                with recorder.pause():
                    recorder._git_done(call, input, proc.returncode, result)
                proc._handrail_call = None
            return result

        popen.__init__ = init  # type: ignore[assignment,method-assign]
        popen.communicate = communicate  # type: ignore[assignment,method-assign]

        def restore() -> None:
            popen.__init__ = original_init  # type: ignore[method-assign]
            popen.communicate = original_communicate  # type: ignore[method-assign]

        self._restore.append(restore)

    def _git_done(self, call: dict[str, Any], given: Any, code: int | None, result: Any) -> None:
        argv = call["argv"]
        if (
            argv is None
            or call["shell"]
            or os.path.basename(argv[0]) != "git"
            or given is not None
            or call["stdin"] != subprocess.DEVNULL
            or code is None
        ):
            self.decline(f"a subprocess other than a plain git call: {argv}")
            return
        out, err = result
        self.git.append(
            {
                "argv": argv,
                "cwd": call["cwd"],
                "env": call["env"],
                "result": _result_hash(code, out, err),
            }
        )

    def finish(self, code: int) -> None:
        self.completed = True
        self.code = code

    def save(self) -> str | None:
        """Write the manifest when this run may be reused; None, or why not."""
        with self.pause():
            why = self._check_saveable()
            if why is not None:
                return why
            assert self._out is not None and self._err is not None
            key = run_key(self.args, (self._out.wrapped, self._err.wrapped))
            if key != self.key:
                return "the date or the environment changed during the run"
            body = {
                "key": key,
                "root": str(self.root),
                "files": self.files,
                "dirs": self.dirs,
                "git": self.git,
                "output": self._out.parts,
                "code": self.code,
            }
            data = json.dumps(body).encode("utf-8", "surrogateescape")
            path = manifest_path(key)
            from handrail.atomic import replace

            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Not made durable: a manifest lost or torn by a crash is unreadable or absent,
                # and either means a full run; the fsyncs would cost every recording run.
                replace(path, data, mode=0o600, durable=False)
            except OSError as exc:
                return f"not written: {exc}"
            return None

    def _check_saveable(self) -> str | None:
        if not self.completed:
            return "the run did not finish"
        if self.root is None or cache_inside(str(self.root)):
            return "the cache folder is inside the workspace"
        if not self.reusable:
            return self.why
        if self.popens != len(self.git):
            return "a subprocess whose output was not read by communicate"
        if self._out is None or self._err is None:
            return "output not captured"
        # One read of the mount table for both rules: the workspace's file system, and the
        # devices every other input may lie on.
        table = mount_table()
        why = local_file_system(str(self.root), table)
        if why is not None:
            return why
        why = self._foreign_device(local_devices(table))
        if why is not None:
            return why
        if self._root_prefix.startswith(self._outside):
            return "the workspace lies in Python's library folders"
        # Imported modules from outside Python's prefix (Handrail's own source).
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                self._file(file)
        for entry in sys.path:
            # Not `_folder`: these are Python's own folders, recorded here on purpose.
            full = os.path.abspath(entry or ".")
            if full not in self.dirs:
                self.dirs[full] = folder_signature(full)
        # No second look at every input: each signature was taken before the run read it, so
        # a change since moves it (see the module docstring), and the next run runs in full.
        return None if self.reusable else self.why


def _loopback_probe(address: Any) -> bool:
    """True for a bind to a loopback address and a port the system picks."""
    return (
        isinstance(address, tuple)
        and len(address) >= 2
        and address[0] in ("127.0.0.1", "::1")
        and address[1] == 0
    )


def _library_folders() -> tuple[str, ...]:
    """Python's standard library and installed packages (not its whole prefix: a workspace
    may well lie under `/usr`, e.g. `/usr/src/app`)."""
    import sysconfig

    paths = sysconfig.get_paths()
    found = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    return tuple(os.path.join(os.path.abspath(p), "") for p in found)


def _env_diff(env: Any) -> dict[str, Any] | None:
    """A subprocess's environment as its differences from ours (no secret is stored that is
    not one of ours already; only the hash of ours is)."""
    if env is None:
        return None
    ours = os.environ
    given = {os.fsdecode(k): os.fsdecode(v) for k, v in env.items()}
    return {
        "set": {k: v for k, v in given.items() if ours.get(k) != v},
        "unset": sorted(k for k in ours if k not in given),
    }


def _env_from(diff: dict[str, Any] | None) -> dict[str, str] | None:
    if diff is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in set(diff["unset"])}
    env.update(diff["set"])
    return env


def _result_hash(code: int, out: bytes, err: bytes) -> str:
    digest = hashlib.sha256(str(code).encode() + b"\0")
    digest.update(hashlib.sha256(out or b"").digest())
    digest.update(hashlib.sha256(err or b"").digest())
    return digest.hexdigest()


_hook_added = False
_current: Recorder | None = None


def _add_hook() -> None:
    global _hook_added

    def hook(event: str, hook_args: tuple[Any, ...]) -> None:
        # Thousands of events a run (compile, exec, import...) say nothing of its inputs: they
        # are let through here, before any attribute is read.
        recorder = _current
        if recorder is not None and (event in _WATCHED or event.startswith(_NON_REUSABLE_EVENTS)):
            recorder._hook(event, hook_args)

    sys.addaudithook(hook)
    _hook_added = True


# -- replaying -----------------------------------------------------------------------------------


def replay_if_unchanged(args: Sequence[str]) -> int | None:
    """Run `handrail check ARGS` from the previous run's record: its exit code after writing
    its output, when every input it consumed is unchanged; None when this run must check."""
    if not enabled():
        return None
    manifest = load(run_key(args))
    if manifest is None:
        return None
    why = _first_change(manifest)
    if why is not None:
        if os.environ.get(DEBUG_ENV):
            sys.stderr.write(f"handrail: not reused: {why}\n")
        return None
    return replay(manifest)


def load(key: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest of an earlier run with this key, when it can be trusted; else None."""
    path = manifest_path(key)
    try:
        # As `workspace.open_regular_file` opens (never waiting on a FIFO), written out here:
        # importing `handrail.workspace` would load dataclasses on the replay's path.
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        # Only the user's own file, which no one else may write, and a regular one.
        if not stat_mod.S_ISREG(st.st_mode) or st.st_mode & 0o022:
            return None
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        manifest = json.loads(data.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None
    if not isinstance(manifest, dict) or manifest.get("key") != key:
        return None
    root = manifest.get("root")
    if not isinstance(root, str) or cache_inside(root):
        return None
    return manifest


def _first_change(manifest: dict[str, Any]) -> str | None:
    """What changed since the manifest's run (the first thing found), or None."""
    procs: list[tuple[dict[str, Any], subprocess.Popen[bytes] | None]] = []
    try:
        # git runs meanwhile: every recorded call, started at once.
        for call in manifest["git"]:
            procs.append((call, _start(call)))
        for path, sigs in manifest["files"].items():
            if file_signatures(path) != sigs:
                return f"{path} changed"
        for path, sig in manifest["dirs"].items():
            if folder_signature(path) != sig:
                return f"the folder {path} changed"
        if not _output_ok(manifest["output"]):
            return "no output recorded"
        while procs:
            call, proc = procs.pop(0)
            if proc is None or _finish(proc) != call["result"]:
                return f"git {call['argv'][1:]} answered otherwise"
        return None
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        return f"unreadable manifest ({type(exc).__name__})"
    finally:
        for _, proc in procs:
            if proc is not None and proc.returncode is None:
                proc.kill()
                proc.communicate()


def _start(call: dict[str, Any]) -> subprocess.Popen[bytes] | None:
    argv = call["argv"]
    if not isinstance(argv, list) or os.path.basename(argv[0]) != "git":
        return None
    try:
        return subprocess.Popen(
            argv,
            cwd=call["cwd"],
            env=_env_from(call["env"]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _finish(proc: subprocess.Popen[bytes]) -> str | None:
    try:
        out, err = proc.communicate(timeout=60.0)
    except subprocess.SubprocessError:
        return None
    return _result_hash(proc.returncode, out, err)


def _output_ok(output: Any) -> bool:
    return isinstance(output, list) and all(
        isinstance(part, list) and len(part) == 2 and part[0] in (1, 2) and isinstance(part[1], str)
        for part in output
    )


def replay(manifest: dict[str, Any]) -> int:
    """Write the recorded output, both streams in the order the run wrote them; the recorded
    exit code."""
    code = int(manifest["code"])
    streams = {1: sys.stdout, 2: sys.stderr}
    try:
        if os.environ.get(DEBUG_ENV):
            sys.stderr.write("handrail: reused the previous run's result\n")
            sys.stderr.flush()
        for number, text in manifest["output"]:
            stream = streams[number]
            stream.write(text)
            stream.flush()
    except BrokenPipeError:
        # As a full run (click's handling): the reader went away (`handrail check | head`),
        # exit 1, and no second error when Python flushes the streams on the way out.
        devnull = os.open(os.devnull, os.O_WRONLY)
        for stream in (sys.stdout, sys.stderr):
            with suppress(OSError, ValueError):
                os.dup2(devnull, stream.fileno())
        return 1
    return code
