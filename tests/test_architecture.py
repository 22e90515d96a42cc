"""The import rules of docs/architecture.md, checked on the source and in fresh interpreters.

- the core (`cnn`, but for its Flask adapter `cnn.server`) never imports Streamlit, Flask, Playwright,
  the app layer (`ui`, `app_pages`) or the measurement layer (`bench`);
- nothing in the product (`cnn`, `ui`, `app_pages`, `streamlit_app.py`) imports the measurement layer;
- the app's and the server's path never imports TensorFlow; Keras (on JAX) and JAX only once the Playground page is opened;
- no import cycles between the project's modules, counting imports inside functions too.
"""

import ast
import os
import subprocess
import sys

from cnn.config import PROJECT_DIR

PACKAGES = ("cnn", "ui", "bench", "app_pages")
WEB_ADAPTER = "cnn.server"


def module_name(path) -> str:
    relative = path.relative_to(PROJECT_DIR).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def project_modules() -> dict[str, set[str]]:
    """Every project module -> the top-level names and project modules it imports, anywhere in its code."""
    files = [PROJECT_DIR / "streamlit_app.py"] + [path for package in PACKAGES for path in (PROJECT_DIR / package).rglob("*.py")]
    modules = {}
    for path in files:
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        modules[module_name(path)] = imported
    return modules


MODULES = project_modules()


def imports_of(module: str) -> set[str]:
    """What a module imports, as project modules where they are ones, else their top-level package."""
    found = set()
    for name in MODULES[module]:
        found.add(name if name in MODULES else name.split(".")[0])
    return found


def test_the_core_imports_no_ui_web_or_measurement_code():
    forbidden = {"streamlit", "flask", "werkzeug", "playwright", "ui", "app_pages", "bench"}
    for module in MODULES:
        if module.startswith("cnn") and module != WEB_ADAPTER:
            imported = {name.split(".")[0] for name in imports_of(module)}
            assert not imported & forbidden, f"{module} imports {sorted(imported & forbidden)}"


def test_the_product_never_imports_the_measurement_layer():
    for module in MODULES:
        if not module.startswith("bench"):
            assert not any(name.split(".")[0] == "bench" for name in imports_of(module)), module


def test_no_import_cycles():
    graph = {module: {name for name in imports_of(module) if name in MODULES and name != module} for module in MODULES}
    state = {}  # module -> "visiting" | "done"

    def visit(module, path):
        state[module] = "visiting"
        for imported in sorted(graph[module]):
            if state.get(imported) == "visiting":
                cycle = path[path.index(imported) :] + [imported]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if imported not in state:
                visit(imported, path + [imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


# Imports every page's code by running each page headless, then the Flask app with one prediction.
SERVING_PATH = """
import sys
from streamlit.testing.v1 import AppTest
from ui.layout import PAGES
def framework_modules():
    return sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "keras", "tf_keras", "jax"))
for page in sorted(PAGES, key=lambda page: page.url_path == "Playground"):  # the Playground last: it brings Keras
    if page.url_path == "Playground":
        assert not framework_modules(), framework_modules()[:5]
    app = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
    app.switch_page(page.file)
    app.run()
    assert page.title in app.title[0].value or page.url_path == "", (page.file, app.title[0].value)
    assert not app.exception, (page.file, [error.value for error in app.exception])
from cnn.server import create_app
from cnn.data import load_test_sample
import io
from PIL import Image
buffer = io.BytesIO()
Image.fromarray(load_test_sample()[0][0]).save(buffer, format="PNG")
response = create_app().test_client().post("/predict", data={"file": (io.BytesIO(buffer.getvalue()), "item.png")})
assert response.status_code == 200, response.get_data(as_text=True)
import cnn.insights, cnn.explain
from cnn.playground import framework
keras = framework()  # what the Playground's trainer thread imports: Keras on JAX, TensorFlow hidden
assert keras.backend.backend() == "jax", keras.backend.backend()
loaded = sorted(name for name in sys.modules if name.split(".")[0] in ("tensorflow", "tf_keras"))
print(loaded[:5], flush=True)
import os
os._exit(1 if loaded else 0)  # not sys.exit: the trainer's daemon thread may still be compiling, which aborts a finalizing interpreter
"""


def test_the_app_and_the_server_never_import_tensorflow_and_keras_waits_for_the_playground():
    # As the app starts: without the test suite's KERAS_BACKEND (tests/conftest.py), the Playground picks JAX.
    environment = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    completed = subprocess.run(
        [sys.executable, "-c", SERVING_PATH], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600, env=environment
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-3000:]
