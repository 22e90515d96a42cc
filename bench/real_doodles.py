"""The real-doodle benchmark: drawings by members of the public, not by this project.

python -m bench.real_doodles [--model sketch]

Reads the shared Quick, Draw! sample (Quick, Draw! by Google, CC BY 4.0; see cnn/quickdraw.py),
sends each drawing through predict(png, sketch=True) exactly as the Draw page sends a canvas, and
scores only the held-out part: the drawing model trains on a fixed half of the trousers and T-shirts.
For the two known categories: top-1, top-3 and how the unsure rule flags wrong and right answers.
For socks, hats and bow ties, none of the ten (the model trained on their other half as such, outlier
exposure): the share flagged, and why ("unlike_training" or "low_confidence"). No one on the project drew or chose these drawings, so
unlike the synthetic template benchmark (bench/drawn_doodles.py) it does not measure the generators
against themselves.
"""

import argparse
import shlex
import sys
from collections import Counter

import numpy as np

from cnn.quickdraw import CREDIT, canvas_png, held_out, read_manifest, read_strokes


def share(values) -> float | None:
    values = np.asarray(values, dtype=bool)
    return round(float(values.mean()), 4) if len(values) else None


def run(model_name: str | None = None) -> dict:
    """The report: per known category top-1, top-3 and flags; per out-of-scope category the flag rates."""
    from cnn.predict import predict_batch

    doodles = held_out(read_manifest())
    results = predict_batch([canvas_png(read_strokes(doodle)) for doodle in doodles], top_k=3, model_name=model_name, sketch=True)
    report = {"credit": CREDIT, "model": next((r["model"] for r in results if "model" in r), None),
              "held_out": "the half of every category (trousers, T-shirts, socks, hats, bow ties) not in the drawing model's training data",
              "known": {}, "out_of_scope": {}}  # fmt: skip
    known_rows = []
    for category in sorted({doodle.category for doodle in doodles}):
        rows = [(doodle, result) for doodle, result in zip(doodles, results) if doodle.category == category and "error" not in result]
        if rows[0][0].class_id is None:
            report["out_of_scope"][category] = {
                "count": len(rows),
                "flagged": share([result["unsure"] for _, result in rows]),
                "flagged_unlike_training": share([result.get("unsure_reason") == "unlike_training" for _, result in rows]),
                "answers": dict(Counter(result["prediction"] for _, result in rows).most_common()),
            }
        else:
            report["known"][category] = known_entry(rows)
            known_rows += rows
    report["known_overall"] = known_entry(known_rows)
    report["teaching"] = teaching(model_name)
    out_of_scope = [entry for entry in report["out_of_scope"].values()]
    report["out_of_scope_overall"] = {
        "count": sum(entry["count"] for entry in out_of_scope),
        "flagged": round(
            sum(entry["flagged"] * entry["count"] for entry in out_of_scope) / max(sum(entry["count"] for entry in out_of_scope), 1), 4
        ),
    }
    return report


def teaching(model_name: str | None = None, seed: int = 0) -> dict:
    """What one taught drawing does (cnn/teach.py), on the held-out drawings of known classes: the share of
    re-placed copies of a drawing (moved, resized, turned, as cnn.quickdraw places them) close enough to it to
    take its taught label, and the share of other people's drawings, of its class and of the other class,
    that would be captured too."""
    from cnn.frame import preprocess_many
    from cnn.predict import resolve_model_name, results_and_embeddings
    from cnn.quickdraw import jittered_canvas
    from cnn.teach import TAUGHT_SIMILARITY

    model_name = resolve_model_name(model_name, sketch=True)
    known = [doodle for doodle in held_out(read_manifest()) if doodle.class_id is not None]
    inks = [read_strokes(doodle) for doodle in known]
    originals = preprocess_many([canvas_png(ink) for ink in inks], sketch=True)
    moved = preprocess_many([jittered_canvas(ink, np.random.default_rng([seed, index])) for index, ink in enumerate(inks)], sketch=True)
    _, original_embeddings = results_and_embeddings(np.stack(originals), 1, model_name)
    _, moved_embeddings = results_and_embeddings(np.stack(moved), 1, model_name)
    if original_embeddings is None:
        raise ValueError(f"The {model_name} model was exported without embeddings: re-export it.")
    unit = original_embeddings / np.linalg.norm(original_embeddings, axis=1, keepdims=True)
    unit_moved = moved_embeddings / np.linalg.norm(moved_embeddings, axis=1, keepdims=True)
    own = (unit * unit_moved).sum(axis=1)  # (N,) each drawing and its re-placed copy
    pairs = unit @ unit.T  # (N, N) every drawing against every other
    labels = np.array([doodle.class_id for doodle in known])
    same, different = labels[:, None] == labels[None, :], labels[:, None] != labels[None, :]
    np.fill_diagonal(same, False)
    return {
        "model": model_name,
        "similarity": TAUGHT_SIMILARITY,
        "drawings": len(known),
        "re_placed_copy_follows": share(own >= TAUGHT_SIMILARITY),
        "same_class_captured": share(pairs[same] >= TAUGHT_SIMILARITY),
        "other_class_captured": share(pairs[different] >= TAUGHT_SIMILARITY),
    }


def known_entry(rows) -> dict:
    right = np.array([result["class_id"] == doodle.class_id for doodle, result in rows])
    unsure = np.array([result["unsure"] for _, result in rows])
    return {
        "count": len(rows),
        "top1": share(right),
        "top3": share([doodle.class_id in [entry["class_id"] for entry in result["top_k"]] for doodle, result in rows]),
        "wrong_flagged": share(unsure[~right]),
        "right_flagged": share(unsure[right]),
        "confidently_wrong": share(~right & ~unsure),
        "answers": dict(Counter(result["prediction"] for _, result in rows).most_common()),
    }


def percent(value) -> str:
    return "-" if value is None else f"{value:.1%}"


def print_report(report: dict) -> None:
    print(f"Real doodles ({report['credit']}), held-out part, model {report['model']}")
    print(f"{'category':<10} {'n':>4} {'top-1':>7} {'top-3':>7} {'wrong flagged':>14} {'right flagged':>14}")
    for name, entry in [*report["known"].items(), ("both", report["known_overall"])]:
        print(f"{name:<10} {entry['count']:>4} {percent(entry['top1']):>7} {percent(entry['top3']):>7} "
              f"{percent(entry['wrong_flagged']):>14} {percent(entry['right_flagged']):>14}   {entry['answers']}")  # fmt: skip
    print(f"\n{'none of ten':<10} {'n':>4} {'flagged':>8} {'as unlike':>10}")
    for name, entry in report["out_of_scope"].items():
        print(
            f"{name:<10} {entry['count']:>4} {percent(entry['flagged']):>8} {percent(entry['flagged_unlike_training']):>10}   {entry['answers']}"
        )
    print(f"{'all':<10} {report['out_of_scope_overall']['count']:>4} {percent(report['out_of_scope_overall']['flagged']):>8}")
    print_teaching(report["teaching"])


def print_teaching(taught: dict) -> None:
    print(f"\nTeach one drawing (similarity >= {taught['similarity']}, model {taught['model']}): its re-placed copy follows "
          f"{percent(taught['re_placed_copy_follows'])}; captured: other drawings of its class {percent(taught['same_class_captured'])}, "
          f"of the other class {percent(taught['other_class_captured'])}")  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="default: what the Draw page runs")
    args = parser.parse_args(argv)
    report = run(args.model)
    report["command"] = "python -m bench.real_doodles " + shlex.join(sys.argv[1:] if argv is None else argv)
    print_report(report)


if __name__ == "__main__":
    main()
