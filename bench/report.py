"""Write the measured figures into docs/performance.md and the README, from the reports alone.

    python -m bench.report

Reads assets/robustness.json (python -m bench.robustness), assets/benchmark.json (python -m bench.speed),
assets/loadtest.json (python -m bench.loadtest) and the models' metrics files, and writes the tables
with the commands that measured them: no figure is typed by hand.
"""

import re
import statistics

from cnn.artifacts import read_json
from cnn.config import BENCHMARK_PATH, PROJECT_DIR, ROBUSTNESS_PATH, metrics_path
from cnn.registry import MODELS

PERFORMANCE_PATH = PROJECT_DIR / "docs" / "performance.md"
README_PATH = PROJECT_DIR / "README.md"
LOADTEST_PATH = PROJECT_DIR / "assets" / "loadtest.json"
LOADTEST_PHOTOS_PATH = PROJECT_DIR / "assets" / "loadtest_photos.json"  # python -m bench.loadtest --photos ... --out this
FUZZ_PATH = PROJECT_DIR / "assets" / "fuzz.json"
ACCESSIBILITY_PATH = PROJECT_DIR / "assets" / "accessibility.json"
PLAYGROUND_PATH = PROJECT_DIR / "assets" / "playground.json"
README_START, README_END = "<!-- measured:start -->", "<!-- measured:end -->"


def percent(value, digits: int = 1) -> str:
    return "" if value is None else f"{100 * value:.{digits}f}%"


P99_MIN_CALLS = 100  # fewer samples than this and a "p99" is only the slowest one or two: say max instead


def tail(summary: dict) -> str:
    """The slow end of a latency summary, named for what it is: "p99 X" with enough samples, else "max X of N"."""
    if summary.get("calls", 0) >= P99_MIN_CALLS:
        return f"p99 {summary['p99']:.0f}"
    return f"max {summary.get('max', summary['p99']):.0f} of {summary.get('calls', '?')}"


def verdict(met) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def models_section() -> str:
    rows = []
    for spec in MODELS:
        metrics = read_json(metrics_path(spec.name))
        if metrics is None:
            continue
        unsure = metrics.get("unsure_on_test", {})
        rows.append([f"`{spec.name}` ({spec.label})", percent(metrics["test_accuracy"], 2), f"{metrics['parameters']:,}",
                     f"{metrics['epochs_run']} (best {metrics['best_epoch']})", percent(unsure.get("wrong_flagged")),
                     percent(unsure.get("right_flagged")), f"`{metrics['command']}`"])  # fmt: skip
    return "### Models (official test set, through the served model; `assets/*_metrics.json`)\n\n" + table(
        ["model", "test accuracy", "parameters", "epochs", "wrong flagged unsure", "right flagged unsure", "command"], rows
    )


def robustness_section(robustness: dict) -> str:
    rows = []
    for entry in robustness["sets"]:
        before = entry.get("accuracy_without_cutout", entry.get("accuracy_without_sketch_path"))
        what = "without the cut-out" if "accuracy_without_cutout" in entry else "without the sketch path" if before is not None else ""
        rows.append([entry["name"], entry["description"], entry["count"], f"`{entry['model']}`", percent(entry["accuracy"]),
                     f"{percent(before)} {what}".strip(), percent(entry["wrong_flagged"]), percent(entry["right_flagged"])])  # fmt: skip
    doodles = robustness["doodles"]
    doodle_rows = [[name, entry["count"], percent(entry["top1"]), percent(entry["top3"]), percent(entry["wrong_flagged"]),
                    percent(entry["right_flagged"])] for name, entry in [*doodles["per_category"].items(), ("overall", doodles["overall"])]]  # fmt: skip
    targets = [[target["name"], target["measured"], target["target"], verdict(target["met"])] for target in robustness["targets"]]
    return "\n\n".join([
        f"### Inputs as users send them (`{robustness['command']}`)",
        table(["set", "what", "images", "model", "top-1", "before", "wrong flagged unsure", "right flagged unsure"], rows),
        *real_doodles_section(robustness.get("real_doodles")),
        f"### The synthetic doodle benchmark (`bench/drawn_doodles.py`, in the same run; model `{doodles['model']}`)",
        "Stroke templates written by this project, several styles per item, varied by their own hand model and drawn "
        "with Pillow (the training doodles come from `cnn/doodles.py` and OpenCV), sent through `predict(png, sketch=True)`. "
        "Written by the same hands as the training generators, so it measures the project's idea of a doodle: the real "
        "doodles above are the check that describes users. A shoe or flip flop counts right when any footwear class is named.",
        table(["item", "drawings", "top-1", "top-3", "wrong flagged unsure", "right flagged unsure"], doodle_rows),
        table(["target", "measured", "goal", "verdict"], targets),
    ])  # fmt: skip


REAL_DOODLES_CREDIT = ("Drawings by members of the public from the Quick, Draw! dataset "
                       "([Quick, Draw! by Google, CC BY 4.0](https://quickdraw.withgoogle.com/data)), the shared sample")  # fmt: skip


def real_doodles_section(real: dict | None) -> list[str]:
    if not real:
        return []
    known_rows = [[name, entry["count"], percent(entry["top1"]), percent(entry["top3"]), percent(entry["wrong_flagged"]),
                   percent(entry["right_flagged"])] for name, entry in [*real["known"].items(), ("both", real["known_overall"])]]  # fmt: skip
    never_rows = [[name, entry["count"], percent(entry["flagged"]), percent(entry["flagged_unlike_training"]),
                   ", ".join(f"{label} {count}" for label, count in list(entry["answers"].items())[:3])]
                  for name, entry in real["out_of_scope"].items()]  # fmt: skip
    return [
        f"### Real doodles (`python -m bench.real_doodles`, in the same run; model `{real['model']}`)",
        f"{REAL_DOODLES_CREDIT}, sent through `predict(png, sketch=True)` as the Draw page sends a canvas. The drawing model "
        "trained on a fixed half of each category, the socks, hats and bow ties as none of the ten (chosen by a hash of the "
        "file name, `cnn/quickdraw.py`); these figures are the other half only.",
        table(["item", "drawings", "top-1", "top-3", "wrong flagged unsure", "right flagged unsure"], known_rows),
        'Things that are none of the ten: flagged "not sure" (all reasons) and as unlike everything it learnt from, and its most frequent answers.',
        table(["item", "drawings", "flagged", "flagged as unlike the training data", "answers"], never_rows),
    ]


def speed_section(benchmark: dict) -> str:
    machine = benchmark["machine"]
    rows = [[target["name"], target["measured"], target["target"], verdict(target["met"])] for target in benchmark["targets"]]
    parts = [
        f"### Speed, pages and memory (`{benchmark['command'].strip()}`, {benchmark['date'][:10]})",
        f"{machine['cpu_model']}, {machine['cores']} cores, load {machine['load_average_1min_at_start']} at the start"
        + (", **a training process was running**" if machine["training_processes_at_start"] else "")
        + ".",
        table(["measure", "measured", "target", "verdict"], rows),
    ]
    app = benchmark.get("app")
    if app:
        visits = app["streamlit"]["page_cold_visit_seconds"]
        parts.append("Cold first visit of each page, in seconds: " + ", ".join(f"{page} {seconds:.2f}" for page, seconds in visits.items())
                     + f". Resident memory after every page and {app['browser']['strokes']} drawings: {app['streamlit']['rss_mb']:.0f} MB "
                     f"({app['streamlit']['rss_after_sessions_mb']:.0f} MB after the concurrent sessions); the Flask server: "
                     f"{app['flask']['rss_mb']:.0f} MB.")  # fmt: skip
        latency_rows = []
        for part, label in (("browser", "one session"), ("sessions", f"{app['sessions']['sessions']} sessions at once")):
            for measure, what in (("prediction", "pen lifted to the prediction"), ("everything", "pen lifted to every view"),
                                  ("browser", "of the prediction's time, the browser's own work")):  # fmt: skip
                summary = app[part][f"{measure}_ms"]
                latency_rows.append([label, what, f"{summary['p50']:.0f}", tail(summary)])
        parts.append(table(["who draws", "measure", "p50 ms", "slowest ms"], latency_rows))
        sessions = app["sessions"]
        if "rounds" in sessions:
            parts.append(f"{sessions['sessions']} fresh sessions drew at once {sessions['rounds']} times "
                         f"({sessions['sessions'] * sessions['rounds']} strokes in the percentiles); each round's prediction p50: "
                         + ", ".join(f"{p50:.0f}" for p50 in sessions["round_prediction_p50_ms"]) + " ms. The browsers run on the "
                         "server's 2 cores: their drawing and redrawing compete with it.")  # fmt: skip
    photos = benchmark.get("photos")
    if photos:
        parts.append("`predict()` on a product photo, p50 and slowest, ms: " + "; ".join(
            f"{what} {photos[key]['p50']:.2f}, {tail(photos[key])}" for key, what in
            (("plain_photo_ms", "plain background"), ("busy_photo_ms", "busy background, with the GrabCut cut-out"), ("boxed_photo_ms", "inside a box"))
        ) + ".")  # fmt: skip
    models = benchmark.get("models", {})
    if models:
        parts.append(
            "`predict()` on one 28x28 test image, p50: "
            + ", ".join(f"{name} {summary['p50']:.2f} ms" for name, summary in models.items())
            + "."
        )
    return "\n\n".join(parts)


def loadtest_section(loadtest: dict) -> str:
    latency, memory = loadtest["latency_ms"], loadtest.get("server_rss_mb")
    uploads = loadtest["endpoint"].split("(", 1)[-1].rstrip(")")
    memory_text = (f" Server memory (RSS) at the start, after each quarter of the run: {', '.join(str(mb) for mb in memory['by_quarter'])} MB."
                   if memory and "by_quarter" in memory else "")  # fmt: skip
    return (f"### The Flask server under load (`{loadtest['command']}`)\n\n{uploads}: {loadtest['requests']} requests, "
            f"{loadtest['errors']} errors, {loadtest['throughput_rps']} requests/s, p50 {latency['p50']} ms, p99 {latency['p99']} ms."
            + memory_text)  # fmt: skip


def fuzz_section(fuzz: dict) -> str:
    outcomes = ", ".join(f"{kind} {count:,}" for kind, count in fuzz["outcomes"].items())
    return (f"### Damaged files (`{fuzz['command']}`)\n\n{fuzz['inputs']:,} mutated files of every accepted format through "
            f"`predict()`: {outcomes}; {fuzz['unexpected']} other exceptions; the slowest took {fuzz['slowest']['seconds']} s "
            f"({fuzz['slowest']['format']}).")  # fmt: skip


def accessibility_section(audit: dict) -> str:
    rows = [[page, *[", ".join(f"{impact} {count}" for impact, count in viewports[name]["by_impact"].items()) or "none"
                     for name in ("desktop", "phone")]] for page, viewports in audit["pages"].items()]  # fmt: skip
    return "\n\n".join([f"### Accessibility (`{audit['command']}`, axe-core {audit['axe_core']}, WCAG 2.1 A/AA and best practices)",
                         table(["page", "desktop findings", "phone findings"], rows),
                         f"Serious or critical findings in all: {audit['serious_or_critical']}."])  # fmt: skip


def playground_section(report: dict) -> str:
    rows = [[name, f"{figures['images_per_second']:,}", f"{figures['seconds']}", percent(figures["validation_accuracy"]),
             percent(figures["test_accuracy"]), "" if figures["validation_85_seconds"] is None else f"{figures['validation_85_seconds']}",
             f"{figures['first_curve_point_seconds']}", figures["message"][:90] or figures["state"]]
            for name, figures in report["presets"].items()]  # fmt: skip
    default, sessions = report["default_preset"], report["sessions_while_training"]
    without = sessions["without_a_run"]
    ended = sessions.get("runs_that_ended_during_the_strokes") or []
    return "\n\n".join([
        f"### The Playground (`{report['command']}`, {report['framework']}, {report['training_images']})",
        "Each preset trained once by the page's trainer, seconds from queueing it:",
        table(["preset", "images/s", "seconds", "validation", "test", "to 85% validation (s)", "first curve point (s)", "ended"], rows),
        "In the browser, the default preset (Tiny CNN, 10,000 images), seconds from pressing Train:",
        table(["server", "first \"Validation accuracy\" (first curve point) on screen", "85% or more on screen", "results on screen"],
              [[label, on_screen(default[key]["first_validation_on_screen_seconds"]), on_screen(default[key]["validation_85_on_screen_seconds"]),
                on_screen(default[key]["finished_on_screen_seconds"])]
               for key, label in (("warm_server", "warm (every visitor after the first)"),
                                  ("new_server", "new (the first visitor, Train pressed 5 s after the page opened, while Keras loads)"))]),
        f"Memory, the server and its training process together: {memory_words(default['memory_idle_mb'])} before any page, "
        f"{memory_words(default['memory_page_open_mb'])} with the page open, {memory_words(default['memory_peak_during_run_mb'])} at the peak of the first run.",
        f"{sessions['sessions']} sessions drawing at once, {sessions['rounds']} rounds on the same server: pen lifted to the prediction "
        f"{sessions['prediction_ms']['p50']:.0f} ms p50 ({tail(sessions['prediction_ms'])}; per round {sessions['round_prediction_p50_ms']}) "
        f"with a run training, against {without['prediction_ms']['p50']:.0f} ms p50 ({tail(without['prediction_ms'])}; per round "
        f"{without['round_prediction_p50_ms']}) with none; the browsers' own work {sessions['browser_ms']['p50']:.0f} and "
        f"{without['browser_ms']['p50']:.0f} ms of it. Round by round, on a machine whose figure without a run swings that much, "
        f"the run added a median of {median_round_difference(sessions):.0f} ms. The run was {'still training after every round' if sessions['run_still_training_after_the_strokes'] else 'over in some rounds: ' + '; '.join(' '.join(texts) for texts in ended)}; "
        f"memory {memory_words(sessions['memory_mb'])}.",
    ])  # fmt: skip


def median_round_difference(sessions: dict) -> float:
    """The median over rounds of (p50 with a run - p50 without one): each round's pair drawn minutes apart on one server."""
    pairs = zip(sessions["round_prediction_p50_ms"], sessions["without_a_run"]["round_prediction_p50_ms"])
    return statistics.median(with_run - without_run for with_run, without_run in pairs)


def memory_words(sample: dict) -> str:
    """bench.apps.server_and_trainer_rss_mb's figures in words."""
    return f"{sample['total_mb']:.0f} MB (server {sample['server_mb']:.0f} + training process {sample['training_process_mb']:.0f})"


def on_screen(seconds: float | None) -> str:
    return "not read" if seconds is None else f"{seconds} s"


def summary(robustness: dict | None, benchmark: dict | None) -> str:
    """The README's headline figures, each with the report it comes from."""
    lines = [models_section()]
    if robustness:
        sets = {entry["name"]: entry for entry in robustness["sets"]}
        rows = [[entry["description"], percent(entry["accuracy"]),
                 percent(entry.get("accuracy_without_cutout", entry.get("accuracy_without_sketch_path")))] for entry in sets.values()]  # fmt: skip
        doodles = robustness["doodles"]["overall"]
        rows.append(["synthetic doodle benchmark: stroke templates written by this project",
                     percent(doodles["top1"]), ""])  # fmt: skip
        lines += [f"### Inputs as users send them (`{robustness['command']}`)",
                  table(["input", "top-1", "before the cut-out / without the sketch path"], rows),
                  f"On the synthetic doodles, {percent(doodles['wrong_flagged'], 0)} of the wrong answers and {percent(doodles['right_flagged'], 0)} "
                  "of the right ones are flagged \"not sure\"."]  # fmt: skip
        real = robustness.get("real_doodles")
        if real:
            known, never = real["known_overall"], real["out_of_scope_overall"]
            lines.append(f"**Real doodles** ({REAL_DOODLES_CREDIT}; held-out half): trousers and T-shirts top-1 {percent(known['top1'])}, "
                         f"top-3 {percent(known['top3'])}, {percent(known['right_flagged'], 0)} of the right answers flagged \"not sure\"; "
                         f"of {never['count']:,} socks, hats and bow ties (none of the ten), {percent(never['flagged'], 0)} flagged "
                         "instead of named. Per item: [`docs/performance.md`](docs/performance.md).")  # fmt: skip
    if benchmark and benchmark.get("app"):
        app = benchmark["app"]
        visits = app["streamlit"]["page_cold_visit_seconds"]
        lines += [f"### The app (`{benchmark['command'].strip()}`)",
                  f"Cold first visit of every page {min(visits.values()):.1f}-{max(visits.values()):.1f} s; "
                  f"{app['streamlit']['rss_mb']:.0f} MB resident after every page; pen lifted to the prediction "
                  f"{app['browser']['prediction_ms']['p50']:.0f} ms p50 and to every view {app['browser']['everything_ms']['p50']:.0f} ms; "
                  f"with {app['sessions']['sessions']} sessions drawing at once {app['sessions']['prediction_ms']['p50']:.0f} ms p50 "
                  f"({tail(app['sessions']['prediction_ms'])}), {app['sessions']['browser_ms']['p50']:.0f} ms of it the browsers' own work. "
                  "Targets and verdicts: [`docs/performance.md`](docs/performance.md)."]  # fmt: skip
    playground = read_json(PLAYGROUND_PATH)
    if playground:
        default, tiny = playground["default_preset"], playground["presets"]["Tiny CNN"]
        sessions = playground["sessions_while_training"]
        warm, new = default["warm_server"], default["new_server"]
        lines += [f"### The Playground (`{playground['command']}`)",
                  f"The default Tiny CNN trains at {tiny['images_per_second']:,} images/s ({playground['framework']}); in the browser the first "
                  f"validation accuracy shows {on_screen(warm['first_validation_on_screen_seconds'])} after Train, 85% after "
                  f"{on_screen(warm['validation_85_on_screen_seconds'])} (on a new server, pressed while Keras loads: "
                  f"{on_screen(new['first_validation_on_screen_seconds'])} and {on_screen(new['validation_85_on_screen_seconds'])}); the server and its training process "
                  f"peak at {default['memory_peak_during_run_mb']['total_mb']:.0f} MB together during the run; {sessions['sessions']} sessions drawing while a run trains: "
                  f"{sessions['prediction_ms']['p50']:.0f} ms p50 from pen-up to answer ({sessions['without_a_run']['prediction_ms']['p50']:.0f} ms with no run, same bench)."]  # fmt: skip
    return "\n\n".join(lines)


def main() -> None:
    robustness, benchmark, loadtest = read_json(ROBUSTNESS_PATH), read_json(BENCHMARK_PATH), read_json(LOADTEST_PATH)
    sections = [models_section()]
    if robustness:
        sections.append(robustness_section(robustness))
    if benchmark:
        sections.append(speed_section(benchmark))
    if loadtest:
        sections.append(loadtest_section(loadtest))
    for path, section in ((LOADTEST_PHOTOS_PATH, loadtest_section), (FUZZ_PATH, fuzz_section), (ACCESSIBILITY_PATH, accessibility_section),
                          (PLAYGROUND_PATH, playground_section)):  # fmt: skip
        report = read_json(path)
        if report:
            sections.append(section(report))
    body = "\n\n".join(sections)
    PERFORMANCE_PATH.write_text(
        "# Performance: every measured figure\n\nWritten by `python -m bench.report` from the reports in `assets/`; each "
        "section names the command that measured it. Timings drift between runs on this shared 2-core machine; the "
        "reports keep the exact runs.\n\n" + body + "\n"
    )
    readme = README_PATH.read_text()
    if README_START in readme:
        measured = README_START + "\n" + summary(robustness, benchmark) + "\n" + README_END
        readme = re.sub(re.escape(README_START) + ".*?" + re.escape(README_END), lambda _: measured, readme, flags=re.S)
        README_PATH.write_text(readme)
    print(f"-> {PERFORMANCE_PATH}" + (f", {README_PATH}" if README_START in readme else ""))


if __name__ == "__main__":
    main()
