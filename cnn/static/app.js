// The upload page: posts to /predict and /sample with fetch and draws the JSON answers.
"use strict";

const element = (id) => document.getElementById(id);
const form = element("upload-form");
const fileInput = element("file-input");
const dropZone = element("drop-zone");
const classifyButton = element("classify-button");
const sampleButton = element("sample-button");
let chosenFile = null;
// The request in flight: a newer one aborts it, so an older answer never overwrites a newer one.
let inFlight = null;

const percent = (probability) => `${(100 * probability).toFixed(1)}%`;

function showError(message) {
  const box = element("error");
  box.textContent = message;
  box.hidden = !message;
}

function setBusy(busy) {
  classifyButton.disabled = busy || !chosenFile;
  sampleButton.disabled = busy;
  fileInput.disabled = busy;
  element("top-k").disabled = busy;
  document.body.classList.toggle("busy", busy);
  document.body.setAttribute("aria-busy", String(busy));
}

function drawBars(list, rows) {
  list.replaceChildren(
    ...rows.map(({ label, value, text, highlight }) => {
      const item = document.createElement("li");
      item.className = highlight ? "highlight" : "";
      const name = document.createElement("span");
      name.className = "bar-label";
      name.textContent = label;
      const track = document.createElement("span");
      track.className = "bar-track";
      const fill = document.createElement("span");
      fill.className = "bar-fill";
      fill.style.width = `${Math.max(0, Math.min(1, value)) * 100}%`;
      track.append(fill);
      const number = document.createElement("span");
      number.className = "bar-value";
      number.textContent = text;
      item.append(name, track, number);
      return item;
    }),
  );
}

function showResult(result) {
  element("result-empty").hidden = true;
  element("result").hidden = false;
  // The answer as predict() words it: the label, "Not sure: maybe A, B or C?", or none of the ten.
  element("label").textContent = result.headline;
  element("confidence").textContent = result.unsure
    ? `only ${percent(result.confidence)} for its best guess`
    : `${percent(result.confidence)} confident`;
  element("model-input").src = result.model_input;
  const truth = element("truth");
  truth.hidden = result.true_label === undefined;
  if (!truth.hidden) {
    truth.textContent = result.correct
      ? `Correct: test image #${result.index} is a ${result.true_label}`
      : `Wrong: test image #${result.index} is a ${result.true_label}`;
    truth.className = `truth ${result.correct ? "right" : "wrong"}`;
  }
  drawBars(
    element("bars"),
    result.top_k.map((entry, rank) => ({
      label: entry.label,
      value: entry.probability,
      text: percent(entry.probability),
      highlight: rank === 0,
    })),
  );
}

async function requestJson(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new Error("The server cannot be reached.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.error || `The server answered ${response.status}.`);
  }
  return body;
}

async function run(url, options, previewSource) {
  if (inFlight) inFlight.abort();
  const request = new AbortController();
  inFlight = request;
  showError("");
  setBusy(true);
  try {
    const result = await requestJson(url, { ...options, signal: request.signal });
    if (previewSource) showPreview(...previewSource(result));
    showResult(result);
  } catch (error) {
    if (error.name === "AbortError") return; // A newer request took its place: it draws the answer.
    clearResult(); // Never leave an earlier answer next to an error about a new image.
    showError(error.message);
  } finally {
    if (inFlight === request) {
      inFlight = null;
      setBusy(false);
    }
  }
}

function clearResult() {
  element("result").hidden = true;
  element("result-empty").hidden = false;
  const preview = element("preview");
  preview.hidden = true;
  preview.removeAttribute("src");
  element("drop-hint").hidden = false;
  dropZone.classList.remove("has-image");
}

function showPreview(source, crisp) {
  const preview = element("preview");
  preview.classList.toggle("crisp", crisp);
  if (preview.dataset.objectUrl) URL.revokeObjectURL(preview.dataset.objectUrl);
  preview.dataset.objectUrl = source.startsWith("blob:") ? source : "";
  preview.src = source;
  preview.hidden = false;
  element("drop-hint").hidden = true;
  dropZone.classList.add("has-image");
}

function topK() {
  return element("top-k").value;
}

function classifyFile() {
  if (!chosenFile) return;
  const body = new FormData();
  body.append("file", chosenFile);
  const file = chosenFile;
  run(`${form.action}?top_k=${topK()}&include_input=1`, { method: "POST", body }, () => [URL.createObjectURL(file), false]);
}

function chooseFile(file) {
  chosenFile = file || null;
  classifyButton.disabled = !chosenFile;
  classifyFile();
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  classifyFile();
});
fileInput.addEventListener("change", () => chooseFile(fileInput.files[0]));
element("top-k").addEventListener("change", classifyFile);
sampleButton.addEventListener("click", () => {
  chosenFile = null;
  fileInput.value = "";
  run(`/sample?top_k=${topK()}`, { method: "GET" }, (result) => [result.image, true]);
});

["dragenter", "dragover"].forEach((type) =>
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    dropZone.classList.add("dragging");
  }),
);
["dragleave", "drop"].forEach((type) =>
  dropZone.addEventListener(type, () => dropZone.classList.remove("dragging")),
);
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  chooseFile(event.dataTransfer.files[0]);
});

async function loadModelCard() {
  const empty = element("model-empty");
  let card;
  try {
    card = await requestJson("/model");
  } catch (error) {
    empty.textContent = error.message;
    return;
  }
  const minutes = card.training_seconds / 60;
  const stats = [
    ["Test accuracy", percent(card.test_accuracy)],
    ["Macro F1", card.macro_f1.toFixed(3)],
    ["Parameters", card.parameters.toLocaleString("en")],
    ["Epochs", `${card.epochs_run} (best ${card.best_epoch})`],
    ["Training time", minutes >= 1 ? `${minutes.toFixed(0)} min` : `${card.training_seconds.toFixed(0)} s`],
    ["Test images", card.test_size.toLocaleString("en")],
  ];
  element("model-stats").replaceChildren(
    ...stats.map(([name, value]) => {
      const block = document.createElement("div");
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = value;
      block.append(term, detail);
      return block;
    }),
  );
  element("model-notes").textContent =
    `Model “${card.model}”: ${card.optimizer}; ${card.loss_function}; augmentation: ${card.augmentation}.`;
  drawBars(
    element("class-bars"),
    Object.entries(card.per_class).map(([label, scores]) => ({
      label,
      value: scores.f1,
      text: scores.f1.toFixed(2),
    })),
  );
  empty.hidden = true;
  element("model").hidden = false;
}

loadModelCard();
