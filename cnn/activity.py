"""Someone is waiting for an answer: background work (the Playground's trainer) steps aside meanwhile.

The trainer's thread already runs at the lowest CPU priority, but it shares the interpreter's lock with
the sessions that draw: while it holds the lock between its steps, a drawing session's script waits
whatever the priorities. So every answer the app computes marks the moment, and the trainer pauses
between its steps for a short while after it (cnn/playground.py).
"""

import time

_last_answer = 0.0  # time.monotonic() when an answer was last asked for; a float's write is atomic


def answering() -> None:
    """Mark that an answer is being computed for someone now."""
    global _last_answer
    _last_answer = time.monotonic()


def seconds_since_answering() -> float:
    return time.monotonic() - _last_answer
