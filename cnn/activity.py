"""One server process, many sessions: work that would keep someone waiting for an answer.

- Someone is waiting for an answer: background work (the Playground's training process) steps aside
  meanwhile. That process already runs at the lowest CPU priority, but people drawing on a 2-core server
  want both cores at once, and a training step in flight takes one: so every answer the app computes marks
  the moment, the Playground's trainer passes it on, and its process pauses between steps for a short
  while after it (cnn/playground.py).
- Full garbage collections: Streamlit runs one after every script run of every session. Each walks every
  object the process holds, with the interpreter's lock held, while the other sessions wait. Libraries and
  models loaded for good are set aside from them (set_aside_loaded_objects).
"""

import gc
import time

_last_answer = 0.0  # time.monotonic() when an answer was last asked for; a float's write is atomic


def answering(at: float | None = None) -> None:
    """Mark that an answer is being computed for someone now (or was, at the time.monotonic() moment given)."""
    global _last_answer
    _last_answer = time.monotonic() if at is None else at


def last_answer() -> float:
    """The time.monotonic() moment an answer was last asked for; the same clock in every process on the machine."""
    return _last_answer


def seconds_since_answering() -> float:
    return time.monotonic() - _last_answer


def set_aside_loaded_objects() -> None:
    """Move everything loaded so far (Streamlit, NumPy, the models) out of the
    garbage collector's sight, so that a full collection walks only what was made since.

    What is loaded for good lives as long as the process anyway: frozen objects are still freed when nothing
    refers to them, only cycles among them wait for ever. Garbage first, so none of it is kept.
    """
    gc.collect()
    gc.freeze()
