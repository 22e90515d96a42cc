"""One server process, many sessions: work that would hold the interpreter's lock while someone waits.

- Someone is waiting for an answer: background work (the Playground's trainer) steps aside meanwhile.
  The trainer's thread already runs at the lowest CPU priority, but it shares the interpreter's lock with
  the sessions that draw: while it holds the lock between its steps, a drawing session's script waits
  whatever the priorities. So every answer the app computes marks the moment, and the trainer pauses
  between its steps for a short while after it (cnn/playground.py).
- Full garbage collections: Streamlit runs one after every script run of every session, and once Keras
  is loaded, Keras's clear_session (which Streamlit calls after every script run too) runs another. Each
  walks every object the process holds, with the lock held, while the other sessions wait. Libraries and
  models loaded for good are set aside from them (set_aside_loaded_objects).
"""

import gc
import time

_last_answer = 0.0  # time.monotonic() when an answer was last asked for; a float's write is atomic


def answering() -> None:
    """Mark that an answer is being computed for someone now."""
    global _last_answer
    _last_answer = time.monotonic()


def seconds_since_answering() -> float:
    return time.monotonic() - _last_answer


def set_aside_loaded_objects() -> None:
    """Move everything loaded so far (Streamlit, NumPy, the models, the Playground's framework) out of the
    garbage collector's sight, so that a full collection walks only what was made since.

    What is loaded for good lives as long as the process anyway: frozen objects are still freed when nothing
    refers to them, only cycles among them wait for ever. Garbage first, so none of it is kept.
    """
    gc.collect()
    gc.freeze()
