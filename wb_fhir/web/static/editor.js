// The map editor: holds the draft (plain data in the map file's shape), keeps it (this browser
// first, then the app), asks the app to check and draw it, and saves it. No rules of the map
// live here: the app checks with the same code as `wb-fhir validate`. Every text from the map
// reaches the page through textContent, never as markup.

const editor = document.getElementById("editor");
const recordId = editor.dataset.record;
const codes = JSON.parse(editor.dataset.codes);
const serverDraft = JSON.parse(editor.dataset.draft);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const LOCAL_KEY = `wbf-draft-${recordId}`;
const FORMS_KEY = `wbf-forms-${recordId}`;
const $ = (id) => document.getElementById(id);

let draft = serverDraft.data;
let rev = serverDraft.rev;
let undoStack = [];
let redoStack = [];
let lastCoalesce = { key: null, at: 0 };
let geometry = null;
let syncing = false;
let syncAgain = false;
let syncedRev = rev;
let tiePick = null;
let deleted = false;  // the map was deleted on this computer: see forgetDeleted

// --- small helpers ------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

function hidden(text) {
  return el("span", { class: "visually-hidden", text });
}

function names(list) {
  return Object.fromEntries(list.map(([value, name]) => [value, name]));
}

const KIND = names(codes.kinds);
const CATEGORY = names(codes.categories);
const IMPACT = Object.fromEntries(codes.impacts.map(([v, n, g]) => [v, `${n} (${g})`]));
const STATUS = names(codes.statuses);
const TIE = names(codes.tie_types);
const GOAL_STATUS = names(codes.goal_statuses);
const SIGNPOST_STATUS = names(codes.signpost_statuses);
const FREQUENCY = names(codes.frequencies);

function rings() {
  return Array.isArray(draft.rings) && draft.rings.length ? draft.rings : codes.default_rings;
}

function ringName(n) {
  return rings()[n - 1] || `Ring ${n}`;
}

function connections() {
  return Array.isArray(draft.connections) ? draft.connections : [];
}

function labelOf(id) {
  const c = connections().find((x) => x.id === id);
  if (c) return c.label;
  const g = (draft.goals || []).find((x) => x.id === id);
  return g ? g.description : id;
}

function slug(text, taken) {
  let base = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/g, "");
  if (!base) base = "item";
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

function takenIds() {
  return new Set([...connections().map((c) => c.id), ...(draft.goals || []).map((g) => g.id)]);
}

function lines(text) {
  return text.split("\n").map((s) => s.trim()).filter(Boolean);
}

function announce(text) {
  const region = $("announce");
  region.textContent = "";
  window.setTimeout(() => { region.textContent = text; }, 30);
}

// --- changing the draft: undo, redo, keeping ----------------------------------------

function commit(change, message, coalesceKey = null) {
  const now = Date.now();
  const coalesce = coalesceKey && lastCoalesce.key === coalesceKey && now - lastCoalesce.at < 1500;
  if (!coalesce) {
    undoStack.push(JSON.stringify(draft));
    if (undoStack.length > 200) undoStack.shift();
  }
  lastCoalesce = { key: coalesceKey, at: now };
  redoStack = [];
  const next = JSON.parse(JSON.stringify(draft));
  change(next);
  draft = next;
  changed(message);
}

function changed(message) {
  rev += 1;
  editor.dataset.rev = String(rev);
  keepLocally();
  render();
  schedulePreview();
  scheduleSync();
  if (message) announce(message);
}

function undo() {
  if (!undoStack.length) return;
  redoStack.push(JSON.stringify(draft));
  draft = JSON.parse(undoStack.pop());
  lastCoalesce = { key: null, at: 0 };
  changed("Undone.");
}

function redo() {
  if (!redoStack.length) return;
  undoStack.push(JSON.stringify(draft));
  draft = JSON.parse(redoStack.pop());
  lastCoalesce = { key: null, at: 0 };
  changed("Redone.");
}

function keepLocally() {
  if (deleted) return;
  try {
    localStorage.setItem(LOCAL_KEY, JSON.stringify({ data: draft, rev }));
  } catch (e) {
    setStatus("This browser could not keep a copy; changes are sent to the app only.");
  }
}

function setStatus(text) {
  if (deleted) return;  // the page that held the status is gone
  $("autosave").textContent = text;
}

let syncTimer = null;
function scheduleSync(delay = 400) {
  if (deleted) return;
  window.clearTimeout(syncTimer);
  setStatus("Keeping your changes...");
  syncTimer = window.setTimeout(sync, delay);
}

async function send(method, url, body) {
  return fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
}

// The map was deleted on this computer (from another page, or another browser): this page
// keeps nothing of it, in the page or in this browser's storage, and says so.
function forgetDeleted() {
  deleted = true;
  window.clearTimeout(syncTimer);
  window.clearTimeout(previewTimer);
  try { localStorage.removeItem(LOCAL_KEY); localStorage.removeItem(FORMS_KEY); } catch (e) { /* nothing kept */ }
  const main = $("main");
  main.replaceChildren(
    el("h1", { text: "This map was deleted" }),
    el("p", { role: "alert", text: "The maps of this person were deleted on this computer, so this page keeps nothing of them." }),
    el("p", {}, el("a", { href: "/", text: "Back to all people" })));
  main.focus();
}

async function sync() {
  if (syncing) { syncAgain = true; return; }
  syncing = true;
  const sending = rev;
  try {
    const response = await send("PUT", `/api/maps/${recordId}/draft`, { data: draft, rev: sending });
    if (response.status === 404) { forgetDeleted(); return; }
    if (!response.ok) throw new Error(String(response.status));
    syncedRev = sending;
    if (syncedRev === rev) setStatus("All changes are kept.");
  } catch (e) {
    if (deleted) return;
    setStatus("Not connected: your changes are kept in this browser and sent when the connection is back.");
    window.clearTimeout(syncTimer);
    syncTimer = window.setTimeout(sync, 5000);
  } finally {
    syncing = false;
    if (syncAgain) { syncAgain = false; scheduleSync(50); }
  }
}

window.addEventListener("online", () => scheduleSync(50));

// --- the live map ---------------------------------------------------------------------

let previewTimer = null;
let previewSeq = 0;
function schedulePreview() {
  if (deleted) return;
  window.clearTimeout(previewTimer);
  previewTimer = window.setTimeout(drawMap, 200);
}

async function drawMap() {
  const seq = ++previewSeq;
  const drawing = rev;
  let answer;
  try {
    const response = await send("POST", "/api/preview", { data: draft, rev: drawing });
    if (!response.ok) return;
    answer = await response.json();
  } catch (e) {
    if (!deleted) $("map-note").textContent = "The map is drawn again when the connection is back.";
    return;
  }
  // A drawing asked for before the map was found deleted comes back to a page without the map.
  if (deleted || seq !== previewSeq) return;
  if (answer.svg) {
    $("map").innerHTML = answer.svg;
    geometry = answer.geometry;
    $("map").dataset.geometry = JSON.stringify(geometry);
  }
  $("map").dataset.drawn = String(drawing);
  $("map-note").textContent = answer.ok
    ? ""
    : `The map leaves out ${answer.problems.length === 1 ? "one part that has a problem" : `${answer.problems.length} parts that have problems`}; they are listed when you save.`;
}

function svgPoint(clientX, clientY) {
  const svg = $("map").querySelector("svg");
  if (!svg || !geometry) return null;
  const matrix = svg.getScreenCTM();
  if (!matrix) return null;
  const point = new DOMPoint(clientX, clientY).matrixTransform(matrix.inverse());
  return { x: point.x, y: point.y };
}

function ringAt(clientX, clientY) {
  const p = svgPoint(clientX, clientY);
  if (!p) return null;
  const d = Math.hypot(p.x - geometry.cx, p.y - geometry.cy);
  const bands = geometry.bands;
  if (!bands.length) return null;
  if (d < bands[0].inner) return { ring: 1, lost: false };
  for (const band of bands) {
    if (d >= band.inner && d <= band.outer) {
      return band.lost ? { ring: rings().length, lost: true } : { ring: band.ring, lost: false };
    }
  }
  return null;
}

function nodeAt(clientX, clientY) {
  const p = svgPoint(clientX, clientY);
  if (!p) return null;
  let best = null;
  let bestD = 22;
  for (const node of geometry.nodes) {
    const d = Math.hypot(p.x - node.x, p.y - node.y);
    if (d < bestD) { best = node; bestD = d; }
  }
  return best;
}

function ghost(text) {
  const g = el("div", { class: "ghost", "aria-hidden": "true", text });
  document.body.append(g);
  return g;
}

// Dragging with a mouse, a pen or a finger: pointer events, one code path for all three.
function draggable(target, { start, drop, click }) {
  let state = null;
  target.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    const what = start(e);
    if (!what) return;
    state = { what, x: e.clientX, y: e.clientY, dragging: false, ghost: null, id: e.pointerId };
    target.setPointerCapture(e.pointerId);
  });
  target.addEventListener("pointermove", (e) => {
    if (!state || e.pointerId !== state.id) return;
    if (!state.dragging && Math.hypot(e.clientX - state.x, e.clientY - state.y) > 6) {
      state.dragging = true;
      state.ghost = ghost(state.what.label);
    }
    if (state.dragging) {
      state.ghost.style.left = `${e.clientX + 8}px`;
      state.ghost.style.top = `${e.clientY + 8}px`;
      e.preventDefault();
    }
  });
  const finish = (e, cancelled) => {
    if (!state || e.pointerId !== state.id) return;
    const s = state;
    state = null;
    if (s.ghost) s.ghost.remove();
    if (cancelled) return;
    if (s.dragging) {
      target.dataset.dragged = "yes";
      drop(s.what, e.clientX, e.clientY);
    } else if (click) {
      click(s.what, e);
    }
  };
  target.addEventListener("pointerup", (e) => finish(e, false));
  target.addEventListener("pointercancel", (e) => finish(e, true));
}

for (const token of document.querySelectorAll(".token")) {
  draggable(token, {
    start: () => ({ kind: token.dataset.kind, label: token.textContent.trim() }),
    drop: (what, x, y) => {
      const at = ringAt(x, y);
      if (!at) { announce("Drop it on a ring of the map."); return; }
      openConnectionForm({ kind: what.kind, ring: at.ring, status: at.lost ? "lost" : "current" });
    },
  });
  token.addEventListener("click", (e) => {
    if (token.dataset.dragged === "yes") { delete token.dataset.dragged; return; }
    openConnectionForm({ kind: token.dataset.kind });
  });
}

draggable($("map"), {
  start: (e) => {
    const node = nodeAt(e.clientX, e.clientY);
    return node ? { id: node.id, label: labelOf(node.id) } : null;
  },
  drop: (what, x, y) => {
    const at = ringAt(x, y);
    if (!at) return;
    moveTo(what.id, at.ring, at.lost);
  },
  click: (what) => {
    if (tiePick !== null) pickForTie(what.id);
    else editConnection(what.id);
  },
});

// --- map details ------------------------------------------------------------------------

function getPath(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

function setPath(obj, path, value) {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== "object") o[k] = {};
    o = o[k];
  }
  const last = keys[keys.length - 1];
  if (value === "" || value === undefined || value === null) delete o[last];
  else o[last] = value;
}

for (const input of document.querySelectorAll("[data-bind]")) {
  input.addEventListener("input", () => {
    let value = input.value;
    if (input.dataset.bind === "subject.nhs_number") value = value.replace(/\s+/g, "");
    commit((d) => setPath(d, input.dataset.bind, value), null, input.dataset.bind);
  });
}

$("m-home").addEventListener("input", () => {
  const value = Number($("m-home").value);
  commit((d) => { d.time_at_home = value; }, null, "time_at_home");
});
$("m-home-clear").addEventListener("click", () => commit((d) => { delete d.time_at_home; }, "Time at home: not asked yet."));

$("p-add").addEventListener("click", () => {
  const name = $("p-name").value.trim();
  if (!name) { $("p-name").focus(); announce("Write the practitioner's name first."); return; }
  const role = $("p-role").value.trim();
  commit((d) => {
    d.practitioners = [...(d.practitioners || []), role ? { display: name, role } : { display: name }];
  }, `${name} added as a practitioner.`);
  $("p-name").value = "";
  $("p-role").value = "";
  keepForms();
});

$("ring-add").addEventListener("click", () => {
  if (rings().length >= 6) { announce("A map has at most six rings."); return; }
  commit((d) => { d.rings = [...rings(), `Ring ${rings().length + 1}`]; }, "Ring added.");
});
$("ring-remove").addEventListener("click", () => {
  if (rings().length <= 1) return;
  commit((d) => { d.rings = rings().slice(0, -1); }, "Outer ring removed.");
});

function renderDetails() {
  for (const input of document.querySelectorAll("[data-bind]")) {
    if (document.activeElement === input) continue;
    const value = getPath(draft, input.dataset.bind);
    input.value = value === undefined ? "" : String(value);
  }
  const home = draft.time_at_home;
  if (document.activeElement !== $("m-home")) $("m-home").value = home === undefined ? 50 : home;
  $("m-home-value").textContent = home === undefined ? "not asked yet" : `${home} %`;
  $("m-home").setAttribute("aria-valuetext", home === undefined ? "not asked yet" : `${home} percent`);

  const list = $("practitioner-list");
  list.replaceChildren(
    ...(draft.practitioners || []).map((p, i) =>
      el("li", { dataset: { path: `practitioners[${i}]` } },
        el("span", { text: p.role ? `${p.display} (${p.role})` : p.display }), " ",
        el("button", {
          type: "button", dataset: { focusKey: `pract:${i}:remove` },
          onclick: () => commit((d) => { d.practitioners.splice(i, 1); if (!d.practitioners.length) delete d.practitioners; }, `${p.display} removed.`),
        }, "Remove", hidden(` ${p.display}`)),
        problemSlot()))
  );

  const ringBox = $("ring-names");
  const active = document.activeElement && document.activeElement.id;
  ringBox.replaceChildren(
    ...rings().map((name, i) => {
      const input = el("input", { id: `ring-name-${i + 1}`, value: name, autocomplete: "off", "data-path": `rings[${i}]` });
      input.addEventListener("input", () => {
        commit((d) => { const r = [...rings()]; r[i] = input.value; d.rings = r; }, null, `ring-${i}`);
      });
      return el("div", { class: "field" }, el("label", { for: `ring-name-${i + 1}`, text: `Ring ${i + 1}` }), input);
    })
  );
  if (active && active.startsWith("ring-name-") && $(active)) {
    const input = $(active);
    input.focus();
    input.setSelectionRange(input.value.length, input.value.length);
  }
  $("ring-remove").disabled = rings().length <= 1;
  $("ring-add").disabled = rings().length >= 6;
}

function problemSlot() {
  return el("p", { class: "field-problem", hidden: true });
}

// --- connections ----------------------------------------------------------------------

const cform = $("connection-form");

function formKind() {
  return cform.elements.kind.value;
}

function fitFormToKind() {
  const kind = formKind();
  const select = $("c-category");
  let firstVisible = null;
  for (const option of select.options) {
    const fits = option.dataset.kinds.split(" ").includes(kind);
    option.hidden = !fits;
    option.disabled = !fits;
    if (fits && firstVisible === null) firstVisible = option;
  }
  if (select.selectedOptions[0] && select.selectedOptions[0].disabled) select.value = firstVisible.value;
  for (const box of cform.querySelectorAll("[data-for-kind]")) box.hidden = box.dataset.forKind !== kind;
  for (const box of cform.querySelectorAll("[data-for-category]")) {
    box.hidden = !(kind === "person" && select.value === box.dataset.forCategory);
  }
}

function renderRingChoices() {
  const box = $("c-rings");
  const current = cform.elements.ring ? Number(new FormData(cform).get("ring")) : 1;
  box.replaceChildren(
    ...rings().map((name, i) =>
      el("label", {},
        el("input", { type: "radio", name: "ring", value: String(i + 1), checked: (current || 1) === i + 1 }),
        ` ${i + 1}: ${name}`))
  );
}

function openConnectionForm({ kind, ring, status } = {}) {
  resetConnectionForm();
  if (kind) cform.querySelector(`input[name=kind][value="${kind}"]`).checked = true;
  if (ring) {
    const radio = cform.querySelector(`input[name=ring][value="${ring}"]`);
    if (radio) radio.checked = true;
  }
  if (status) cform.querySelector(`input[name=status][value="${status}"]`).checked = true;
  fitFormToKind();
  keepForms();
  $("c-label").focus();
  if (ring) announce(`New ${KIND[kind].toLowerCase()} on ring ${ring}, ${ringName(ring)}: write its name.`);
}

function resetConnectionForm() {
  cform.reset();
  cform.elements.editing.value = "";
  $("c-submit").textContent = "Add to the map";
  $("connection-form-heading").textContent = "Add a connection";
  $("c-cancel").hidden = true;
  renderRingChoices();
  fitFormToKind();
}

function editConnection(id) {
  const c = connections().find((x) => x.id === id);
  if (!c) return;
  resetConnectionForm();
  cform.elements.editing.value = id;
  cform.querySelector(`input[name=kind][value="${c.kind}"]`).checked = true;
  fitFormToKind();
  $("c-label").value = c.label;
  $("c-category").value = c.category;
  const ring = cform.querySelector(`input[name=ring][value="${c.ring}"]`);
  if (ring) ring.checked = true;
  const impact = cform.querySelector(`input[name=impact][value="${c.impact}"]`);
  if (impact) impact.checked = true;
  $("c-frequency").value = c.frequency || "";
  cform.querySelector(`input[name=status][value="${c.status || "current"}"]`).checked = true;
  $("c-knows").value = c.knows_about_mental_health === true ? "yes" : c.knows_about_mental_health === false ? "no" : (c.knows_about_mental_health || "");
  for (const box of cform.querySelectorAll("input[name=roles]")) box.checked = (c.roles || []).includes(box.value);
  $("c-notes").value = c.notes || "";
  fitFormToKind();
  $("c-submit").textContent = "Save the changes";
  $("connection-form-heading").textContent = `Change ${c.label}`;
  $("c-cancel").hidden = false;
  keepForms();
  $("c-label").focus();
}

function connectionFromForm(previous) {
  const form = new FormData(cform);
  const kind = form.get("kind");
  const category = form.get("category");
  const c = {
    id: previous ? previous.id : slug(form.get("label").trim(), takenIds()),
    kind,
    label: form.get("label").trim(),
    category,
    ring: Number(form.get("ring") || 1),
    impact: form.get("impact"),
  };
  if (form.get("frequency")) c.frequency = form.get("frequency");
  if (form.get("status") && form.get("status") !== "current") c.status = form.get("status");
  if (kind === "person" && form.get("knows")) c.knows_about_mental_health = form.get("knows");
  const roles = form.getAll("roles");
  if (kind === "person" && category === "practitioner" && roles.length) c.roles = roles;
  if (previous && previous.fhir_id) c.fhir_id = previous.fhir_id;
  if (previous && previous.confirmed === false) c.confirmed = false;
  if (form.get("notes").trim()) c.notes = form.get("notes").trim();
  return c;
}

cform.addEventListener("change", (e) => {
  if (e.target.name === "kind" || e.target.name === "category") fitFormToKind();
});

cform.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!$("c-label").value.trim()) {
    showFieldProblem("c-label", "Write a name or a short description.");
    $("c-label").focus();
    return;
  }
  showFieldProblem("c-label", null);
  const editing = cform.elements.editing.value;
  if (editing) {
    const previous = connections().find((x) => x.id === editing);
    const c = connectionFromForm(previous);
    commit((d) => { d.connections = d.connections.map((x) => (x.id === editing ? c : x)); }, `${c.label} changed.`);
  } else {
    const c = connectionFromForm(null);
    commit((d) => { d.connections = [...(d.connections || []), c]; },
      `${c.label} added on ring ${c.ring}, ${ringName(c.ring)}.`);
  }
  resetConnectionForm();
  keepForms();
  $("c-label").focus();
});

$("c-cancel").addEventListener("click", () => {
  const editing = cform.elements.editing.value;
  resetConnectionForm();
  keepForms();
  focusKey(`conn:${editing}:edit`) || $("c-label").focus();
});

function moveTo(id, ring, lost) {
  const c = connections().find((x) => x.id === id);
  if (!c) return;
  commit((d) => {
    const x = d.connections.find((y) => y.id === id);
    x.ring = ring;
    if (lost) x.status = "lost";
    else if (x.status === "lost") delete x.status;
  }, lost ? `${c.label} is now among the lost connections.` : `${c.label} moved to ring ${ring}, ${ringName(ring)}.`);
}

function confirmConnection(id) {
  const c = connections().find((x) => x.id === id);
  if (!c) return;
  commit((d) => { delete d.connections.find((y) => y.id === id).confirmed; }, `${c.label} confirmed with the person.`);
}

function removeConnection(id) {
  const c = connections().find((x) => x.id === id);
  commit((d) => {
    d.connections = d.connections.filter((x) => x.id !== id);
    if (!d.connections.length) delete d.connections;
    if (d.ties) { d.ties = d.ties.filter((t) => t.from !== id && t.to !== id); if (!d.ties.length) delete d.ties; }
    for (const g of d.goals || []) {
      if (g.about) { g.about = g.about.filter((x) => x !== id); if (!g.about.length) delete g.about; }
      if (g.supporters) { g.supporters = g.supporters.filter((x) => x !== id); if (!g.supporters.length) delete g.supporters; }
    }
    if (d.signposts) { d.signposts = d.signposts.filter((s) => s.reason !== id); if (!d.signposts.length) delete d.signposts; }
  }, `${c.label} removed, with its ties.`);
}

function describeConnection(c) {
  const parts = [
    `${KIND[c.kind] || c.kind}, ${(CATEGORY[c.category] || c.category).toLowerCase()}`,
    `ring ${c.ring} (${ringName(c.ring)})`,
    `impact ${(IMPACT[c.impact] || c.impact).toLowerCase()}`,
  ];
  if (c.frequency) parts.push((FREQUENCY[c.frequency] || c.frequency).toLowerCase());
  if (c.status && c.status !== "current") parts.push((STATUS[c.status] || c.status).toLowerCase());
  if (c.confirmed === false) parts.push("from the care record, not yet confirmed with the person");
  return parts.join("; ");
}

function renderConnections() {
  const list = $("connection-list");
  const all = connections();
  $("connections-empty").hidden = all.length > 0;
  list.replaceChildren(
    ...all.map((c, i) =>
      el("li", { dataset: { path: `connections[${i}]` } },
        el("span", { class: "item-title", text: c.label }), " ",
        el("span", { class: "item-meta", text: describeConnection(c) }),
        el("span", { class: "item-actions" },
          ...(c.confirmed === false ? [el("button", {
            type: "button", dataset: { focusKey: `conn:${c.id}:confirm` }, onclick: () => confirmConnection(c.id),
          }, "Confirm", hidden(` ${c.label}`))] : []),
          el("button", { type: "button", dataset: { focusKey: `conn:${c.id}:edit` }, onclick: () => editConnection(c.id) },
            "Change", hidden(` ${c.label}`)),
          el("button", {
            type: "button", disabled: c.ring <= 1, dataset: { focusKey: `conn:${c.id}:closer` },
            onclick: () => moveTo(c.id, c.ring - 1, false),
          }, "Closer", hidden(`: move ${c.label} one ring in`)),
          el("button", {
            type: "button", disabled: c.ring >= rings().length, dataset: { focusKey: `conn:${c.id}:further` },
            onclick: () => moveTo(c.id, c.ring + 1, false),
          }, "Further", hidden(`: move ${c.label} one ring out`)),
          el("button", { type: "button", dataset: { focusKey: `conn:${c.id}:remove` }, onclick: () => removeConnection(c.id) },
            "Remove", hidden(` ${c.label}`))),
        problemSlot()))
  );
}

// --- ties -------------------------------------------------------------------------------

function fillConnectionSelect(select, placeholder) {
  const value = select.value;
  select.replaceChildren(
    el("option", { value: "", text: placeholder }),
    ...connections().map((c) => el("option", { value: c.id, text: c.label }))
  );
  select.value = connections().some((c) => c.id === value) ? value : "";
}

function pickForTie(id) {
  if (tiePick === "first" || tiePick === null) {
    $("t-from").value = id;
    fitTieTypes();
    tiePick = "second";
    $("map-note").textContent = `Tie from ${labelOf(id)}: now press the second connection.`;
  } else {
    $("t-to").value = id;
    fitTieTypes();
    tiePick = null;
    $("tie-mode").setAttribute("aria-pressed", "false");
    $("map-note").textContent = `Tie from ${labelOf($("t-from").value)} to ${labelOf(id)}: pick the kind of tie, then "Add the tie".`;
    keepForms();
    $("t-type").focus();
  }
}

// Only the kinds of tie that may join the two connections' kinds are offered (the library's
// TIE_RULES, sent with the codes); the kind last chosen comes back whenever it fits again.
let tieWanted = null;

function kindOf(id) {
  const c = connections().find((x) => x.id === id);
  return c ? c.kind : null;
}

function tiesFitting(from, to) {
  return codes.tie_types.filter(([type]) => {
    const [froms, tos] = codes.tie_rules[type];
    return (!from || froms.includes(from)) && (!to || tos.includes(to));
  });
}

function aKind(kind) {
  const name = (KIND[kind] || kind).toLowerCase();
  return /^[aeiou]/.test(name) ? `an ${name}` : `a ${name}`;
}

function fitTieTypes() {
  const from = kindOf($("t-from").value);
  const to = kindOf($("t-to").value);
  const fits = tiesFitting(from, to);
  const select = $("t-type");
  const keep = [tieWanted, select.value].find((v) => fits.some(([type]) => type === v));
  select.replaceChildren(...(fits.length
    ? fits.map(([type, name]) => el("option", { value: type, text: name }))
    : [el("option", { value: "", text: "No tie fits", disabled: true })]));
  select.value = keep || (fits.length ? fits[0][0] : "");
  let hint = "";
  if (!fits.length) {
    hint = to
      ? `No kind of tie goes from ${aKind(from)} to ${aKind(to)}.`
      : `No kind of tie starts from ${aKind(from)}.`;
    hint += tiesFitting(to, from).length && to ? " Try them the other way round." : " Pick other connections.";
  }
  $("t-fits").textContent = hint;
}

$("t-type").addEventListener("change", () => { tieWanted = $("t-type").value; });
$("t-from").addEventListener("change", fitTieTypes);
$("t-to").addEventListener("change", fitTieTypes);

$("tie-mode").addEventListener("click", () => {
  const on = $("tie-mode").getAttribute("aria-pressed") !== "true";
  $("tie-mode").setAttribute("aria-pressed", String(on));
  tiePick = on ? "first" : null;
  $("map-note").textContent = on ? "Press the first connection of the tie on the map." : "";
});

$("tie-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const from = $("t-from").value;
  const to = $("t-to").value;
  const type = $("t-type").value;
  if (!from || !to) { announce("Pick both connections of the tie."); (from ? $("t-to") : $("t-from")).focus(); return; }
  if (!type) { announce($("t-fits").textContent); $("t-to").focus(); return; }
  commit((d) => { d.ties = [...(d.ties || []), { from, to, type }]; },
    `Tie added: ${labelOf(from)} ${TIE[type].toLowerCase()} ${labelOf(to)}.`);
  $("t-from").value = "";
  $("t-to").value = "";
  fitTieTypes();
  keepForms();
  $("t-from").focus();
});

function renderTies() {
  fillConnectionSelect($("t-from"), "Pick a connection");
  fillConnectionSelect($("t-to"), "Pick a connection");
  fitTieTypes();
  $("tie-list").replaceChildren(
    ...(draft.ties || []).map((t, i) => {
      const words = `${labelOf(t.from)} ${(TIE[t.type] || t.type).toLowerCase()} ${labelOf(t.to)}`;
      return el("li", { dataset: { path: `ties[${i}]` } },
        el("span", { text: words }), " ",
        el("button", {
          type: "button", dataset: { focusKey: `tie:${i}:remove` },
          onclick: () => commit((d) => { d.ties.splice(i, 1); if (!d.ties.length) delete d.ties; }, `Tie removed: ${words}.`),
        }, "Remove", hidden(` the tie ${words}`)),
        problemSlot());
    })
  );
}

// --- goals ------------------------------------------------------------------------------

const gform = $("goal-form");

function checkboxes(box, name, items, checked) {
  box.replaceChildren(
    ...(items.length
      ? items.map((c) => el("label", {}, el("input", { type: "checkbox", name, value: c.id, checked: checked.includes(c.id) }), ` ${c.label}`))
      : [el("span", { class: "hint", text: "Add connections to the map first." })])
  );
}

function renderGoalChoices(about = null, supporters = null) {
  const keepAbout = about || new FormData(gform).getAll("about");
  const keepSupporters = supporters || new FormData(gform).getAll("supporters");
  checkboxes($("g-about"), "about", connections(), keepAbout);
  checkboxes($("g-supporters"), "supporters", connections().filter((c) => c.kind === "person"), keepSupporters);
}

let milestoneCount = 0;
function addMilestoneRow(m = {}) {
  milestoneCount += 1;
  const n = milestoneCount;
  const row = el("li", { dataset: { id: m.id || "", doneOn: m.done_on || "" } },
    el("span", { class: "field" }, el("label", { for: `g-ms-desc-${n}`, text: "Milestone" }),
      el("input", { id: `g-ms-desc-${n}`, class: "ms-desc", value: m.description || "", autocomplete: "off" })),
    el("span", { class: "field" }, el("label", { for: `g-ms-due-${n}`, text: "Due" }),
      el("input", { id: `g-ms-due-${n}`, class: "ms-due", type: "date", value: m.due || "" })),
    el("label", { class: "check" }, el("input", { id: `g-ms-done-${n}`, class: "ms-done", type: "checkbox", checked: !!m.done }), " Done"),
    el("button", { type: "button", onclick: () => { row.remove(); keepForms(); $("g-milestone-add").focus(); } }, "Remove", hidden(" this milestone")));
  $("g-milestones").append(row);
  return row;
}

$("g-milestone-add").addEventListener("click", () => {
  const row = addMilestoneRow();
  keepForms();
  row.querySelector(".ms-desc").focus();
});

function resetGoalForm() {
  gform.reset();
  gform.elements.editing.value = "";
  $("g-milestones").replaceChildren();
  $("g-submit").textContent = "Add the goal";
  $("goal-form-heading").textContent = "Add a goal";
  $("g-cancel").hidden = true;
  renderGoalChoices([], []);
}

function editGoal(id) {
  const g = (draft.goals || []).find((x) => x.id === id);
  if (!g) return;
  resetGoalForm();
  gform.elements.editing.value = id;
  $("g-description").value = g.description;
  $("g-status").value = g.status || "proposed";
  renderGoalChoices(g.about || [], g.supporters || []);
  $("g-resources").value = (g.resources || []).join("\n");
  $("g-barriers").value = (g.barriers || []).join("\n");
  $("g-target").value = g.target || "";
  $("g-notes").value = (g.notes || []).join("\n");
  for (const m of g.milestones || []) addMilestoneRow(m);
  $("g-submit").textContent = "Save the goal";
  $("goal-form-heading").textContent = `Change the goal: ${g.description}`;
  $("g-cancel").hidden = false;
  keepForms();
  $("g-description").focus();
}

function goalFromForm(previous) {
  const form = new FormData(gform);
  const description = form.get("description").trim();
  const g = { id: previous ? previous.id : slug(description, takenIds()), description, status: form.get("status") };
  const about = form.getAll("about");
  if (about.length) g.about = about;
  const supporters = form.getAll("supporters");
  if (supporters.length) g.supporters = supporters;
  if (lines(form.get("resources")).length) g.resources = lines(form.get("resources"));
  if (lines(form.get("barriers")).length) g.barriers = lines(form.get("barriers"));
  const milestones = [];
  for (const row of $("g-milestones").children) {
    const desc = row.querySelector(".ms-desc").value.trim();
    if (!desc) continue;
    const m = {};
    if (row.dataset.id) m.id = row.dataset.id;
    m.description = desc;
    const due = row.querySelector(".ms-due").value;
    if (due) m.due = due;
    m.done = row.querySelector(".ms-done").checked;
    if (m.done && row.dataset.doneOn) m.done_on = row.dataset.doneOn;
    milestones.push(m);
  }
  if (milestones.length) g.milestones = milestones;
  if (lines(form.get("notes")).length) g.notes = lines(form.get("notes"));
  if (form.get("target")) g.target = form.get("target");
  return g;
}

gform.addEventListener("submit", (e) => {
  e.preventDefault();
  if (!$("g-description").value.trim()) { announce("Write the goal first."); $("g-description").focus(); return; }
  const editing = gform.elements.editing.value;
  if (editing) {
    const g = goalFromForm((draft.goals || []).find((x) => x.id === editing));
    commit((d) => { d.goals = d.goals.map((x) => (x.id === editing ? g : x)); }, `Goal changed: ${g.description}.`);
  } else {
    const g = goalFromForm(null);
    commit((d) => { d.goals = [...(d.goals || []), g]; }, `Goal added: ${g.description}.`);
  }
  resetGoalForm();
  keepForms();
  $("g-description").focus();
});

$("g-cancel").addEventListener("click", () => { resetGoalForm(); keepForms(); $("g-description").focus(); });

function renderGoals() {
  renderGoalChoices();
  $("goal-list").replaceChildren(
    ...(draft.goals || []).map((g, i) => {
      const ms = g.milestones || [];
      const done = ms.filter((m) => m.done).length;
      return el("li", { dataset: { path: `goals[${i}]` } },
        el("span", { class: "item-title", text: g.description }), " ",
        el("span", { class: "item-meta", text: `${GOAL_STATUS[g.status || "proposed"]}; milestones: ${ms.length ? `${done} of ${ms.length} done` : "none yet"}` }),
        el("span", { class: "item-actions" },
          el("button", { type: "button", dataset: { focusKey: `goal:${g.id}:edit` }, onclick: () => editGoal(g.id) }, "Change", hidden(` the goal ${g.description}`)),
          el("button", {
            type: "button", dataset: { focusKey: `goal:${g.id}:remove` },
            onclick: () => commit((d) => {
              d.goals = d.goals.filter((x) => x.id !== g.id);
              if (!d.goals.length) delete d.goals;
              if (d.signposts) { d.signposts = d.signposts.filter((s) => s.reason !== g.id); if (!d.signposts.length) delete d.signposts; }
            }, `Goal removed: ${g.description}.`),
          }, "Remove", hidden(` the goal ${g.description}`))),
        problemSlot());
    })
  );
}

// --- sign-posts -----------------------------------------------------------------------

const sform = $("signpost-form");
const hasDirectory = editor.dataset.directory === "yes";
const assetNames = JSON.parse(editor.dataset.assetNames); // of the draft's sign-posts; more as they are found

function renderSignposts() {
  const reason = $("s-reason");
  const value = reason.value;
  const goals = draft.goals || [];
  reason.replaceChildren(
    el("option", { value: "", text: "Pick a connection or goal" }),
    el("optgroup", { label: "Goals" }, ...goals.map((g) => el("option", { value: g.id, text: g.description }))),
    el("optgroup", { label: "Connections" }, ...connections().map((c) => el("option", { value: c.id, text: c.label })))
  );
  reason.value = [...goals, ...connections()].some((x) => x.id === value) ? value : "";
  $("signpost-list").replaceChildren(
    ...(draft.signposts || []).map((s, i) => {
      const words = `${assetNames[s.asset] || s.asset}, for ${labelOf(s.reason)}: ${(SIGNPOST_STATUS[s.status || "suggested"] || s.status).toLowerCase()}`;
      return el("li", { dataset: { path: `signposts[${i}]` } },
        el("span", { text: words }), " ",
        el("button", {
          type: "button", dataset: { focusKey: `sp:${i}:remove` },
          onclick: () => commit((d) => { d.signposts.splice(i, 1); if (!d.signposts.length) delete d.signposts; }, "Sign-post removed."),
        }, "Remove", hidden(` the sign-post to ${assetNames[s.asset] || s.asset}`)),
        problemSlot());
    })
  );
}

async function searchAssets() {
  const q = $("s-search").value;
  let found = [];
  try {
    const response = await fetch(`/api/assets?q=${encodeURIComponent(q)}`, { credentials: "same-origin" });
    found = (await response.json()).assets;
  } catch (e) {
    if (deleted) return;
    $("s-results-status").textContent = "The directory could not be searched: not connected.";
    return;
  }
  if (deleted) return;
  $("s-results").replaceChildren(
    ...found.map((a) => {
      assetNames[a.id] = a.name;
      return el("li", {},
        el("button", {
          type: "button",
          onclick: () => {
            $("s-asset").value = a.id;
            $("s-chosen").textContent = a.name;
            keepForms();
            $("s-reason").focus();
          },
        }, "Choose", hidden(` ${a.name}`)), " ",
        el("span", { class: "item-title", text: a.name }), " ",
        el("span", { class: "item-meta", text: [a.category, ...a.details].join("; ") }));
    })
  );
  $("s-results-status").textContent = found.length ? `${found.length} found.` : "Nothing found: try other words.";
}

if (hasDirectory) {
  $("s-search-go").addEventListener("click", searchAssets);
  $("s-search").addEventListener("keydown", (e) => { if (e.key === "Enter") { e.preventDefault(); searchAssets(); } });
}

sform.addEventListener("submit", (e) => {
  e.preventDefault();
  const asset = $("s-asset").value.trim();
  const reason = $("s-reason").value;
  if (!asset) { showFieldProblem("s-form", "Choose a community asset first."); (hasDirectory ? $("s-search") : $("s-asset")).focus(); return; }
  if (!reason) { showFieldProblem("s-form", "Pick the connection or goal it is for."); $("s-reason").focus(); return; }
  showFieldProblem("s-form", null);
  const s = { asset, reason, status: $("s-status").value };
  if ($("s-note").value.trim()) s.note = $("s-note").value.trim();
  commit((d) => { d.signposts = [...(d.signposts || []), s]; }, `Sign-post added: ${assetNames[asset] || asset}.`);
  sform.reset();
  if (hasDirectory) $("s-chosen").textContent = "none yet";
  $("s-asset").value = "";
  keepForms();
});

// --- forms in the middle of an edit survive a reload ---------------------------------------

const KEPT_FORMS = ["connection-form", "tie-form", "goal-form", "signpost-form"];

function fieldKey(input) {
  if (input.type === "radio" || input.type === "checkbox") return `${input.form ? input.form.id : ""}|${input.name}|${input.value}|${input.id}`;
  return input.id || (input.form ? `${input.form.id}|${input.name}` : null);
}

function keepForms() {
  const fields = {};
  const inputs = [...KEPT_FORMS.flatMap((id) => [...$(id).elements]), $("p-name"), $("p-role")];
  for (const input of inputs) {
    if (!("value" in input) || input.type === "submit" || input.type === "button") continue;
    const key = fieldKey(input);
    if (!key) continue;
    fields[key] = input.type === "radio" || input.type === "checkbox" ? input.checked : input.value;
  }
  const milestones = [...$("g-milestones").children].map((row) => ({
    id: row.dataset.id, done_on: row.dataset.doneOn,
    description: row.querySelector(".ms-desc").value, due: row.querySelector(".ms-due").value, done: row.querySelector(".ms-done").checked,
  }));
  const state = {
    fields, milestones,
    headings: { c: $("connection-form-heading").textContent, g: $("goal-form-heading").textContent },
    chosen: hasDirectory ? $("s-chosen").textContent : null,
  };
  try { localStorage.setItem(FORMS_KEY, JSON.stringify(state)); } catch (e) { /* the draft itself is still kept */ }
}

function restoreForms() {
  let state;
  try { state = JSON.parse(localStorage.getItem(FORMS_KEY) || "null"); } catch (e) { state = null; }
  if (!state) return;
  $("g-milestones").replaceChildren();
  for (const m of state.milestones || []) addMilestoneRow({ ...m, done_on: m.done_on });
  const apply = () => {
    const inputs = [...KEPT_FORMS.flatMap((id) => [...$(id).elements]), $("p-name"), $("p-role")];
    for (const input of inputs) {
      const key = fieldKey(input);
      if (!key || !(key in state.fields) || input.classList.contains("ms-desc") || input.classList.contains("ms-due") || input.classList.contains("ms-done")) continue;
      if (input.type === "radio" || input.type === "checkbox") input.checked = state.fields[key];
      else input.value = state.fields[key];
    }
  };
  apply();
  fitFormToKind();
  fitTieTypes();
  apply();
  tieWanted = $("t-type").value || null;
  if (cform.elements.editing.value) {
    $("c-submit").textContent = "Save the changes";
    $("c-cancel").hidden = false;
    $("connection-form-heading").textContent = state.headings.c;
  }
  if (gform.elements.editing.value) {
    $("g-submit").textContent = "Save the goal";
    $("g-cancel").hidden = false;
    $("goal-form-heading").textContent = state.headings.g;
  }
  if (hasDirectory && state.chosen) $("s-chosen").textContent = state.chosen;
}

for (const id of KEPT_FORMS) {
  $(id).addEventListener("input", keepForms);
  $(id).addEventListener("change", keepForms);
}
$("p-name").addEventListener("input", keepForms);
$("p-role").addEventListener("input", keepForms);

// --- saving ------------------------------------------------------------------------------

function showFieldProblem(id, message) {
  const slot = $(`${id}-problem`);
  const input = $(id);
  if (!slot) return;
  slot.hidden = !message;
  slot.textContent = message || "";
  if (input) {
    if (message) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", slot.id); }
    else { input.removeAttribute("aria-invalid"); input.removeAttribute("aria-describedby"); }
  }
}

function clearProblems() {
  for (const slot of document.querySelectorAll(".field-problem")) { slot.hidden = true; slot.textContent = ""; }
  for (const input of document.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  $("problem-box").hidden = true;
}

function placeOf(path) {
  let best = null;
  for (const node of document.querySelectorAll("[data-path]")) {
    const p = node.dataset.path;
    if ((path === p || path.startsWith(`${p}.`) || path.startsWith(`${p}[`)) && (!best || p.length > best.dataset.path.length)) best = node;
  }
  return best;
}

function showProblems(problems) {
  clearProblems();
  const list = $("problem-list");
  list.replaceChildren();
  problems.forEach((p, i) => {
    const target = placeOf(p.path);
    let slot = null;
    if (target) {
      slot = target.matches("input, textarea, select")
        ? $(`${target.id}-problem`)
        : target.querySelector(":scope > .field-problem, :scope > p.field-problem");
      if (slot) {
        slot.hidden = false;
        slot.id = slot.id || `problem-slot-${i}`;
        slot.textContent = (slot.textContent ? `${slot.textContent} ` : "") + `${p.place}: ${p.message}`;
      }
      if (target.matches("input, textarea, select")) {
        target.setAttribute("aria-invalid", "true");
        if (slot) target.setAttribute("aria-describedby", slot.id);
      }
    }
    const link = target && (target.id || (target.querySelector("button") && target.querySelector("button")));
    const item = el("li", {}, el("strong", { text: p.place }), `: ${p.message}`);
    if (link) {
      item.append(" ", el("button", {
        type: "button", class: "link",
        onclick: () => { (target.matches("input, textarea, select") ? target : target.querySelector("button")).focus(); },
      }, "Go to it", hidden(`: ${p.place}`)));
    }
    list.append(item);
  });
  $("problem-box").hidden = false;
  $("problem-box").focus();
}

$("save").addEventListener("click", async () => {
  $("save").disabled = true;
  const result = $("save-result");
  try {
    const response = await send("POST", `/api/maps/${recordId}/save`, { data: draft, rev });
    if (response.status === 404) { forgetDeleted(); return; }
    const answer = await response.json();
    if (response.status === 422) {
      result.hidden = true;
      showProblems(answer.problems);
      return;
    }
    if (!response.ok) throw new Error(String(response.status));
    clearProblems();
    syncedRev = rev;
    setStatus("All changes are kept.");
    result.replaceChildren(
      el("p", { text: `Version ${answer.version} saved. ${answer.message}` }),
      ...(answer.detail ? [el("pre", { class: "detail", text: answer.detail })] : []),
      el("p", {}, el("a", { href: `/people/${answer.person}`, text: "See all maps of this person" }))
    );
    result.className = `save-result ${answer.sent}`;
    result.setAttribute("role", answer.sent === "conflict" || answer.sent === "refused" ? "alert" : "status");
    result.hidden = false;
    result.focus();
  } catch (e) {
    result.replaceChildren(el("p", { text: "Not saved: the app could not be reached. Your changes are kept in this browser; try again when connected." }));
    result.className = "save-result queued";
    result.hidden = false;
    result.focus();
  } finally {
    $("save").disabled = false;
  }
});

// --- the whole page ------------------------------------------------------------------------

function focusKey(key) {
  const target = key && document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
  if (target && !target.disabled) { target.focus(); return true; }
  return false;
}

function render() {
  const active = document.activeElement;
  const key = active && active.dataset ? active.dataset.focusKey : null;
  renderDetails();
  renderRingChoices();
  renderConnections();
  renderTies();
  renderGoals();
  renderSignposts();
  $("undo").disabled = !undoStack.length;
  $("redo").disabled = !redoStack.length;
  if (key && (!document.body.contains(active) || active.disabled)) {
    const [kind, id] = key.split(":");
    // a button that went away or is now disabled: its neighbour, else the section heading
    const found = [key, `${kind}:${id}:closer`, `${kind}:${id}:further`, `${kind}:${id}:edit`].some(focusKey);
    const fallback = { conn: "connections-heading", tie: "ties-heading", goal: "goals-heading", sp: "signposts-heading", pract: "details" }[kind];
    if (!found && fallback) {
      const heading = $(fallback);
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }
}

$("undo").addEventListener("click", undo);
$("redo").addEventListener("click", redo);
document.addEventListener("keydown", (e) => {
  const typing = e.target.matches("input:not([type=radio]):not([type=checkbox]):not([type=range]), textarea");
  if (!(e.ctrlKey || e.metaKey) || typing) return;
  if (e.key === "z" && !e.shiftKey) { e.preventDefault(); undo(); }
  else if (e.key === "y" || (e.key === "Z" && e.shiftKey)) { e.preventDefault(); redo(); }
});

function start() {
  let local = null;
  try { local = JSON.parse(localStorage.getItem(LOCAL_KEY) || "null"); } catch (e) { local = null; }
  if (local && local.data && Number(local.rev) > rev) {
    draft = local.data;
    rev = Number(local.rev);
    scheduleSync(50);
  }
  editor.dataset.rev = String(rev);
  render();
  resetConnectionForm();
  resetGoalForm();
  restoreForms();
  drawMap();
  editor.dataset.ready = "yes";
}

start();
