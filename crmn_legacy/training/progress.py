"""Progress and logs: ProgressLine (stderr, with ETA), EpochTable (stdout), JsonlLog (one JSON line per epoch).

* :class:`ProgressLine` -- during an epoch, ``epoch 3  [ 120/450]  loss 1.234
  acc 0.456  8.1 step/s  ETA 0:00:41`` on stderr.  Mode ``"bar"`` rewrites one
  line with carriage returns, ``"lines"`` prints one line per step (for logs and
  for tests that watch a run), ``"none"`` prints nothing, ``"auto"`` is
  ``"bar"`` when stderr is a terminal, else ``"none"``.
* :class:`EpochTable` -- one fixed-width row per finished epoch on stdout.
* :class:`JsonlLog` -- ``log.jsonl``: one JSON object per epoch, appended and
  flushed; :meth:`JsonlLog.rewrite` replaces it atomically on resume so the
  log always matches the checkpoint's history.
"""

import json
import os
import sys
import time

from ..utils import atomic_write_text

__all__ = ["format_duration", "ProgressLine", "EpochTable", "JsonlLog"]


def format_duration(seconds):
    """format_duration(seconds) -> "H:MM:SS" """
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class ProgressLine:
    """ProgressLine(mode="auto", stream=None, min_interval=0.2)

    ``start(label, total)`` at the start (or resumed middle) of an epoch,
    ``update(done, loss, acc)`` after each step, ``finish()`` at its end.
    The ETA is (total - done) x the mean seconds per step since ``start``.
    """

    def __init__(self, mode="auto", stream=None, min_interval=0.2):
        self.stream = sys.stderr if stream is None else stream
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            mode = "bar" if isatty is not None and isatty() else "none"
        if mode not in ("bar", "lines", "none"):
            raise ValueError(f"progress mode must be auto, bar, lines or none, got {mode!r}")
        self.mode = mode
        self.min_interval = min_interval
        self._label, self._total, self._first, self._t0, self._last = "", 0, 0, 0.0, 0.0
        self._width = 0

    def start(self, label, total, done=0):
        """start(label, total, done=0) -> None"""
        self._label, self._total, self._first = label, int(total), int(done)
        self._t0 = self._last = time.perf_counter()

    def text(self, done, loss, acc, now=None):
        """text(done, loss, acc, now=None) -> str: the progress line."""
        now = time.perf_counter() if now is None else now
        steps = done - self._first
        rate = steps / (now - self._t0) if steps > 0 and now > self._t0 else 0.0
        eta = format_duration((self._total - done) / rate) if rate > 0 else "?"
        w = len(str(self._total))
        return (f"{self._label}  [{done:>{w}}/{self._total}]  loss {loss:.4f}  acc {acc:.4f}  "
                f"{rate:.2f} step/s  ETA {eta}")

    def update(self, done, loss, acc, step=None):
        """update(done, loss, acc, step=None) -> None"""
        if self.mode == "none":
            return
        now = time.perf_counter()
        if self.mode == "lines":
            extra = "" if step is None else f"  step {step}"
            self.stream.write(self.text(done, loss, acc, now) + extra + "\n")
            self.stream.flush()
            return
        if now - self._last < self.min_interval and done < self._total:
            return
        self._last = now
        line = self.text(done, loss, acc, now)
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self.stream.write("\r" + line + " " * pad)
        self.stream.flush()

    def finish(self):
        """finish() -> None: clear the carriage-return line."""
        if self.mode == "bar" and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0


class EpochTable:
    """EpochTable(stream=None)

    Fixed-width table of finished epochs on stdout::

        phase   epoch        lr  train_loss  train_acc  val_loss  val_acc   time_s  note
        select      1   0.10000      2.1234     0.2345    1.9876   0.3012     12.3  best
    """

    HEADER = (f"{'phase':<7} {'epoch':>5} {'lr':>9} {'train_loss':>10} {'train_acc':>9} "
              f"{'val_loss':>9} {'val_acc':>8} {'time_s':>8}  note")

    def __init__(self, stream=None):
        self.stream = sys.stdout if stream is None else stream
        self._printed_header = False

    @staticmethod
    def _num(v, width, fmt):
        return f"{'-':>{width}}" if v is None else f"{v:>{width}{fmt}}"

    def row(self, rec):
        """row(rec) -> str: one epoch record (a :class:`JsonlLog` dict) as a table row."""
        return (f"{rec['phase']:<7} {rec['epoch']:>5} {rec['lr']:>9.5f} "
                f"{self._num(rec.get('train_loss'), 10, '.4f')} {self._num(rec.get('train_acc'), 9, '.4f')} "
                f"{self._num(rec.get('val_loss'), 9, '.4f')} {self._num(rec.get('val_acc'), 8, '.4f')} "
                f"{self._num(rec.get('epoch_time'), 8, '.1f')}  {rec.get('note', '')}").rstrip()

    def print(self, rec):
        """print(rec) -> None: the header once, then the row."""
        if not self._printed_header:
            self.stream.write(self.HEADER + "\n")
            self._printed_header = True
        self.stream.write(self.row(rec) + "\n")
        self.stream.flush()

    def message(self, text):
        """message(text) -> None: a free line on the same stream."""
        self.stream.write(text + "\n")
        self.stream.flush()


class JsonlLog:
    """JsonlLog(path)

    ``append(record)`` writes one JSON line and flushes; ``rewrite(records)``
    atomically replaces the file with exactly ``records``.
    """

    def __init__(self, path):
        self.path = os.fspath(path)

    def append(self, record):
        """append(record) -> None"""
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()

    def rewrite(self, records):
        """rewrite(records) -> None"""
        atomic_write_text(self.path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))

    def read(self):
        """read() -> list of dicts (empty when the file does not exist)."""
        if not os.path.exists(self.path):
            return []
        with open(self.path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
