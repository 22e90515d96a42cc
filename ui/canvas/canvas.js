// A white-on-black drawing canvas that reports the drawing the moment the pen lifts.
// Streamlit calls the default export on mount and again whenever the Python side sends new
// data (a new pen width); the canvas and its strokes live in `canvases` between those calls.

const BACKGROUND = "#000000"; // white on black, like the images the network learnt from
const PEN = "#FFFFFF";
const canvases = new WeakMap(); // parentElement -> the mounted canvas

export default function sketchCanvas({ data, parentElement, setStateValue }) {
  let sketch = canvases.get(parentElement);
  if (!sketch) {
    sketch = mount(parentElement.querySelector(".sketch-root"), data.size);
    canvases.set(parentElement, sketch);
  }
  sketch.penWidth = data.penWidth;
  sketch.report = (strokes) =>
    setStateValue("drawing", strokes.length ? { png: sketch.canvas.toDataURL("image/png"), strokes: strokes.length } : null);
  return () => {
    sketch.dispose();
    canvases.delete(parentElement);
  };
}

function mount(root, size) {
  const canvas = document.createElement("canvas");
  canvas.className = "sketch-canvas";
  canvas.width = canvas.height = size; // the PNG sent is size x size, whatever the screen's pixel ratio
  canvas.tabIndex = 0;
  canvas.setAttribute("role", "img");
  canvas.setAttribute(
    "aria-label",
    "Drawing canvas: draw one clothing item with the mouse, a pen or a finger. It cannot be drawn on with the keyboard: " +
      "the Upload page classifies an image file and the Explore page a test image, both without a pointer.",
  );
  const toolbar = document.createElement("div");
  toolbar.className = "sketch-toolbar";
  const undo = button("Undo", "Undo the last stroke (Ctrl+Z)");
  const clear = button("Clear", "Erase the whole drawing");
  toolbar.append(undo, clear);
  root.append(canvas, toolbar);

  const context = canvas.getContext("2d");
  const strokes = []; // [{width, points: [[x, y], ...], pointerId}], in canvas pixels
  let current = null;
  const sketch = { canvas, penWidth: 16, report: () => {} };

  function paint() {
    context.fillStyle = BACKGROUND;
    context.fillRect(0, 0, size, size);
    strokes.forEach(drawStroke);
  }

  function changed() { // a stroke begun, undone or cleared: repaint, and Undo and Clear only when there are strokes
    paint();
    undo.disabled = clear.disabled = strokes.length === 0;
  }

  function drawStroke({ width, points }) {
    context.strokeStyle = context.fillStyle = PEN;
    context.lineWidth = width;
    context.lineCap = context.lineJoin = "round";
    if (points.length === 1) { // a click: a dot
      context.beginPath();
      context.arc(points[0][0], points[0][1], width / 2, 0, 2 * Math.PI);
      context.fill();
      return;
    }
    context.beginPath();
    context.moveTo(...points[0]);
    points.slice(1).forEach((point) => context.lineTo(...point));
    context.stroke();
  }

  function position(event, box = canvas.getBoundingClientRect()) { // shown smaller on a narrow screen
    return [((event.clientX - box.left) * size) / box.width, ((event.clientY - box.top) * size) / box.height];
  }

  function start(event) {
    if (event.button !== 0 || current) return; // one stroke at a time: a second finger does not draw
    canvas.setPointerCapture(event.pointerId);
    current = { width: sketch.penWidth, points: [position(event)], pointerId: event.pointerId };
    strokes.push(current);
    changed();
    event.preventDefault();
  }

  function move(event) {
    if (!current || event.pointerId !== current.pointerId) return;
    // Coalesced events: every point the pointer passed through since the last frame, not only the last one.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    const box = canvas.getBoundingClientRect(); // once per move, not once per coalesced point
    (events.length ? events : [event]).forEach((moved) => current.points.push(position(moved, box)));
    // The whole drawing again, which is cheap, not only the new segment: the picture sent when the pen lifts is
    // then exactly what the same strokes give after an undo. A repaint on pen-up instead delayed the send.
    paint();
  }

  function end(event) {
    if (!current || event.pointerId !== current.pointerId) return;
    current = null;
    sketch.report(strokes); // no debounce: the prediction starts as the pen lifts
  }

  function undoLast() {
    if (!strokes.length) return;
    strokes.pop();
    changed();
    sketch.report(strokes);
  }

  function clearAll() {
    strokes.length = 0;
    changed();
    sketch.report(strokes);
  }

  function keyDown(event) {
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z") {
      event.preventDefault();
      undoLast();
    }
  }

  canvas.addEventListener("pointerdown", start);
  canvas.addEventListener("pointermove", move);
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
  canvas.addEventListener("keydown", keyDown);
  undo.addEventListener("click", undoLast);
  clear.addEventListener("click", clearAll);
  sketch.dispose = () => root.replaceChildren();
  changed();
  return sketch;
}

function button(label, title) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.title = title;
  return element;
}
