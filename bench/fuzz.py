"""Fuzzing predict(): damaged files of every accepted format must give a result or an InvalidImageError, fast.

python -m bench.fuzz [--seconds 60] [--seed 0] [--out assets/fuzz.json]

Seeds are small photos of the shipped test sample saved in every format predict() takes (cnn/decode.py's
FORMAT_EXTENSIONS: PNG, JPEG, WebP, GIF, BMP, TIFF, AVIF, HEIC). Each input is one seed with a few random
mutations of the kinds that break decoders: bytes flipped, bytes overwritten with 0x00 or 0xff, a run
deleted, duplicated or cut off, a header field (width and height live near the start) set to a large
number. The report counts outcomes by kind (a result, an InvalidImageError, anything else: a bug) and
names the slowest input. The test suite runs the same mutations, fewer of them (tests/test_fuzz.py).
"""

import argparse
import io
import shlex
import sys
import time
from collections import Counter
from collections.abc import Iterator

import numpy as np

SEED_SIDE = 96  # pixels: small seeds make many inputs a second


def seed_files() -> dict[str, bytes]:
    """One small photo of a test-sample item per accepted format: {format name: file bytes}."""
    from PIL import Image

    from cnn.data import load_test_sample
    from cnn.decode import ACCEPTED_FORMATS, register_heif_opener

    register_heif_opener()  # HEIF is saved through pillow-heif
    images, _ = load_test_sample()
    photo = Image.fromarray(255 - images[0]).resize((SEED_SIDE, SEED_SIDE), Image.Resampling.BICUBIC).convert("RGB")
    files = {}
    for image_format in ACCEPTED_FORMATS:
        buffer = io.BytesIO()
        photo.save(buffer, format=image_format)
        files[image_format] = buffer.getvalue()
    return files


def mutated(data: bytes, rng: np.random.Generator) -> bytes:
    """data with one to four random mutations of the kinds that break decoders."""
    buffer = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(6))
        position = int(rng.integers(len(buffer)))
        if kind == 0:  # flip some bits
            buffer[position] ^= 1 << int(rng.integers(8))
        elif kind == 1:  # overwrite a run with 0x00 or 0xff
            length = int(rng.integers(1, 16))
            buffer[position : position + length] = bytes([int(rng.choice([0, 255]))]) * len(buffer[position : position + length])
        elif kind == 2:  # delete a run
            del buffer[position : position + int(rng.integers(1, 64))]
        elif kind == 3:  # duplicate a run
            buffer[position:position] = buffer[position : position + int(rng.integers(1, 64))]
        elif kind == 4:  # cut the file short
            del buffer[max(position, 8) :]
        else:  # a large number where the header keeps sizes
            header = int(rng.integers(min(len(buffer), 64)))
            buffer[header : header + 4] = int(rng.integers(2**16, 2**31)).to_bytes(4, "big")
        if not buffer:
            buffer = bytearray(data[:8])
    return bytes(buffer)


def inputs(seed: int) -> Iterator[tuple[str, bytes]]:
    """An endless, seeded stream of (format name, mutated file), the formats in turn."""
    files = seed_files()
    rng = np.random.default_rng(seed)
    while True:
        for image_format, data in files.items():
            yield image_format, mutated(data, rng)


def outcome(data: bytes) -> str:
    """'result', 'InvalidImageError' or the name of any other exception predict() raised (a bug)."""
    from cnn.predict import InvalidImageError, predict

    try:
        predict(data)
    except InvalidImageError:
        return "InvalidImageError"
    except Exception as error:  # what the fuzzer looks for: anything else is reported, not raised
        return type(error).__name__
    return "result"


def run(seconds: float, seed: int = 0, limit: int | None = None) -> dict:
    """Fuzz for `seconds` (or `limit` inputs): outcomes by kind and format, and the slowest input."""
    from cnn.predict import warm_up

    warm_up()
    outcomes: Counter = Counter()
    by_format: dict[str, Counter] = {}
    slowest = (0.0, "", 0)
    started = time.perf_counter()
    for count, (image_format, data) in enumerate(inputs(seed)):
        if time.perf_counter() - started > seconds or (limit is not None and count >= limit):
            break
        began = time.perf_counter()
        kind = outcome(data)
        took = time.perf_counter() - began
        outcomes[kind] += 1
        by_format.setdefault(image_format, Counter())[kind] += 1
        slowest = max(slowest, (took, image_format, count))
    return {
        "inputs": sum(outcomes.values()),
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
        "outcomes": dict(outcomes),
        "by_format": {name: dict(counts) for name, counts in by_format.items()},
        "unexpected": sum(count for kind, count in outcomes.items() if kind not in ("result", "InvalidImageError")),
        "slowest": {"seconds": round(slowest[0], 3), "format": slowest[1], "input": slowest[2]},
    }


def main(argv: list[str] | None = None) -> None:
    from cnn.artifacts import write_json
    from cnn.config import ASSETS_DIR

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(ASSETS_DIR / "fuzz.json"))
    args = parser.parse_args(argv)
    report = run(args.seconds, args.seed)
    report["command"] = "python -m bench.fuzz " + shlex.join(sys.argv[1:] if argv is None else argv)
    write_json(args.out, report)
    print(
        f"{report['inputs']:,} inputs in {report['seconds']} s: {report['outcomes']}; slowest {report['slowest']['seconds']} s "
        f"({report['slowest']['format']}); unexpected exceptions: {report['unexpected']} -> {args.out}"
    )
    if report["unexpected"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
