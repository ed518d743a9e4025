// The guide editor (facilitator/editor.py): a form over the guide document, with validation as
// you type, a preview of the chosen item, moving by keyboard, and a draft in localStorage so that
// nothing typed is lost on a refusal, a lapsed sign-in or a reload. The server's rules decide;
// this script only shows their answers next to the fields they name.
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("config").textContent);
  const T = config.text;
  const form = document.getElementById("editor");
  const sectionsRoot = document.getElementById("sections");
  const statusEl = document.getElementById("save-status");
  const alertEl = document.getElementById("save-alert");
  const announceEl = document.getElementById("announce");
  const summary = document.getElementById("error-summary");
  const fmt = (s, vals) => s.replace(/%\((\w+)\)s/g, (m, k) => (k in vals ? String(vals[k]) : m));

  let guideId = config.guide_id;
  let version = config.version;
  let saveUrl = config.save_url;
  let draftKey = "dialogrum.guide-draft." + (guideId || "new");
  let doc = fromDocument(config.document);
  let errors = [];
  let showAll = false;
  const touched = new Set();
  let selected = { s: 0, i: 0 };
  let removed = null;
  let validateSeq = 0;
  let validateTimer = null;
  let draftTimer = null;

  // -- the document and the form's state -------------------------------------------------------

  function fromDocument(d) {
    const copy = JSON.parse(JSON.stringify(d));
    copy.sections.forEach((sec) => {
      sec.tags = Array.isArray(sec.tags) ? sec.tags.join(", ") : (sec.tags || "");
      sec.duration = sec.duration == null ? "" : String(sec.duration);
      (sec.items || []).forEach((it) => { it.duration = it.duration == null ? "" : String(it.duration); });
    });
    return copy;
  }

  // Minutes are whole numbers or nothing; anything else goes to the server as typed, which names it.
  const minutes = (v) => (v === "" ? null : (/^\s*\d+\s*$/.test(v) ? Number(v) : v));

  function toDocument() {
    return {
      title: doc.title, language: doc.language, description: doc.description,
      sections: doc.sections.map((sec) => ({
        title: sec.title, statement: sec.statement, tags: sec.tags, notes: sec.notes,
        duration: minutes(sec.duration),
        items: sec.items.map((it) => {
          const out = { kind: it.kind, title: it.title, text: it.text, allow_unsure: it.kind === "consideration" && !!it.allow_unsure,
                        notes: it.notes, duration: minutes(it.duration) };
          if (it.id) out.id = it.id;
          return out;
        }),
      })),
    };
  }

  const newItem = () => ({ kind: "consideration", title: "", text: "", allow_unsure: false, notes: "", duration: "" });
  const newSection = () => ({ title: "", statement: "", tags: "", notes: "", duration: "", items: [newItem()] });
  const tokens = (place) => place.match(/[^.[\]]+/g);
  const fieldId = (place) => "f_" + tokens(place).join("_");
  const itemNo = (s, i) => (s + 1) + "." + (i + 1);

  function setValue(place, value) {
    const path = tokens(place);
    let target = doc;
    path.slice(0, -1).forEach((key) => { target = target[key]; });
    target[path[path.length - 1]] = value;
    if (path[path.length - 1] === "kind" && value !== "consideration") target.allow_unsure = false;
  }

  // -- building the form ------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => node.appendChild(c));
    return node;
  }

  function field(place, label, value, type, extra) {
    const id = fieldId(place);
    let input;
    if (type === "textarea") input = el("textarea", Object.assign({ id, rows: 3, "data-place": place }, extra || {}));
    else if (type === "select") {
      input = el("select", { id, "data-place": place });
      extra.options.forEach(([v, text, lang]) => input.appendChild(el("option", { value: v, text, lang, selected: v === value })));
    } else input = el("input", Object.assign({ id, type: type || "text", "data-place": place }, extra || {}));
    if (type !== "select") input.value = value == null ? "" : value;
    input.setAttribute("lang", extra && extra.lang ? extra.lang : doc.language);
    if (type === "select" || type === "number") input.removeAttribute("lang");
    return el("div", { class: "ed-field" }, [el("label", { for: id, text: label }), input]);
  }

  function button(action, text, label, data, cls) {
    return el("button", Object.assign({ type: "button", class: "small " + (cls || ""), "data-action": action,
                                        "aria-label": label, text }, data));
  }

  function sectionNode(sec, s) {
    const n = s + 1;
    const base = "sections[" + s + "]";
    const legend = el("legend", { id: fieldId(base), tabindex: "-1", text: fmt(T.section, { n }) });
    const tools = el("div", { class: "ed-tools" }, [
      button("section-up", "↑", fmt(T.move_section_up, { n }), { "data-s": s, disabled: s === 0 }),
      button("section-down", "↓", fmt(T.move_section_down, { n }), { "data-s": s, disabled: s === doc.sections.length - 1 }),
      button("section-remove", T.remove, fmt(T.remove_section, { n }), { "data-s": s }, "danger"),
    ]);
    const list = el("ol", { class: "ed-items" });
    sec.items.forEach((it, i) => list.appendChild(itemNode(it, s, i)));
    return el("fieldset", { class: "card ed-section" }, [
      legend, tools,
      field(base + ".title", T.section_title, sec.title),
      field(base + ".statement", T.statement, sec.statement, "textarea", { rows: 2 }),
      field(base + ".tags", T.tags, sec.tags),
      el("details", { class: "ed-more" }, [
        el("summary", { text: T.notes + " · " + T.minutes }),
        field(base + ".notes", T.notes, sec.notes, "textarea", { rows: 2 }),
        field(base + ".duration", T.minutes, sec.duration, "number", { min: 1, max: 240, inputmode: "numeric" }),
      ]),
      list,
      el("div", { class: "ed-tools" }, [
        button("item-add-end", "+ " + T.add_item, fmt(T.add_item_to, { n }), { "data-s": s }),
        button("section-add", "+ " + T.add_section, fmt(T.add_section_after, { n }), { "data-s": s }),
      ]),
    ]);
  }

  function itemNode(it, s, i) {
    const n = itemNo(s, i);
    const base = "sections[" + s + "].items[" + i + "]";
    const last = s === doc.sections.length - 1 && i === doc.sections[s].items.length - 1;
    const kinds = Object.entries(config.kinds).map(([k, name]) => [k, name]);
    const targets = doc.sections.map((sec, t) => [String(t), fmt(T.section, { n: t + 1 }) + (sec.title ? ": " + sec.title : ""), doc.language]);
    const moveSelect = el("select", { id: "move-" + s + "-" + i, class: "ed-move-to", "aria-label": fmt(T.move_item_to, { n }) });
    targets.forEach(([v, text]) => moveSelect.appendChild(el("option", { value: v, text, selected: Number(v) === s })));
    const children = [
      el("legend", { id: fieldId(base), tabindex: "-1", text: fmt(T.item, { n }) + " · " + config.kinds[it.kind] }),
      field(base + ".kind", T.kind, it.kind, "select", { options: kinds }),
      field(base + ".title", T.item_title, it.title),
      field(base + ".text", T.item_text, it.text, "textarea", { rows: 3 }),
    ];
    if (it.kind === "consideration") {
      const id = fieldId(base + ".allow_unsure");
      const box = el("input", { type: "checkbox", id, "data-place": base + ".allow_unsure", checked: !!it.allow_unsure });
      children.push(el("div", { class: "ed-check" }, [box, el("label", { for: id, text: T.allow_unsure })]));
    }
    children.push(el("details", { class: "ed-more" }, [
      el("summary", { text: T.notes + " · " + T.minutes }),
      field(base + ".notes", T.notes, it.notes, "textarea", { rows: 2 }),
      field(base + ".duration", T.minutes, it.duration, "number", { min: 1, max: 240, inputmode: "numeric" }),
    ]));
    children.push(el("div", { class: "ed-tools" }, [
      button("item-up", "↑", fmt(T.move_item_up, { n }), { "data-s": s, "data-i": i, disabled: s === 0 && i === 0 }),
      button("item-down", "↓", fmt(T.move_item_down, { n }), { "data-s": s, "data-i": i, disabled: last }),
      moveSelect,
      button("item-move", T.move, fmt(T.move_item, { n }), { "data-s": s, "data-i": i }),
      button("item-remove", T.remove, fmt(T.remove_item, { n }), { "data-s": s, "data-i": i }, "danger"),
      button("item-add", "+ " + T.add_item, fmt(T.add_item_after, { n }), { "data-s": s, "data-i": i }),
    ]));
    return el("li", {}, [el("fieldset", { class: "ed-item", "data-s": s, "data-i": i }, children)]);
  }

  function render(focusId) {
    // The open "notes" boxes stay open across a re-render.
    const open = new Set([...form.querySelectorAll("details[open] [data-place]")].map((x) => x.dataset.place));
    sectionsRoot.replaceChildren(...doc.sections.map(sectionNode));
    // With every section removed, the way back is a button of its own (and the undo).
    if (!doc.sections.length) sectionsRoot.appendChild(button("section-add", "+ " + T.add_section, T.add_section, { "data-s": -1 }));
    form.querySelectorAll("details [data-place]").forEach((x) => { if (open.has(x.dataset.place)) x.closest("details").open = true; });
    showErrors();
    renderPreview();
    if (focusId) {
      const target = document.getElementById(focusId);
      if (target) { const d = target.closest("details"); if (d) d.open = true; target.focus(); }
    }
  }

  // -- errors next to the fields and in the summary --------------------------------------------

  function targetFor(place) {
    let p = place;
    for (;;) {
      const found = document.getElementById(fieldId(p));
      if (found) return found;
      const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
      if (cut <= 0) return null;
      p = p.slice(0, cut);
    }
  }

  function describe(target) {
    const parts = [];
    const item = target.closest(".ed-item");
    const sec = target.closest(".ed-section");
    if (sec) parts.push(sec.querySelector("legend").textContent);
    if (item && item !== target) parts.push(item.querySelector("legend").textContent.split(" · ")[0]);
    if (target.tagName === "LEGEND") parts.push(target.textContent);
    else if (target.labels && target.labels[0]) parts.push(target.labels[0].textContent);
    return parts.join(" › ");
  }

  function showErrors() {
    form.querySelectorAll(".field-error").forEach((x) => x.remove());
    form.querySelectorAll("[aria-invalid]").forEach((x) => {
      x.removeAttribute("aria-invalid");
      x.setAttribute("aria-describedby", (x.getAttribute("aria-describedby") || "").replace(/\S+-err\b/g, "").trim());
      if (!x.getAttribute("aria-describedby")) x.removeAttribute("aria-describedby");
    });
    const list = summary.querySelector("ul");
    list.replaceChildren();
    errors.forEach(({ place, message }, k) => {
      if (!showAll && !touched.has(place)) return;
      const target = targetFor(place);
      if (target) {
        const note = el("p", { class: "field-error error", id: target.id + "-err" + k, text: message });
        if (target.tagName === "LEGEND") target.after(note);
        else {
          const d = target.closest("details");
          if (d) d.open = true;
          target.after(note);
          target.setAttribute("aria-invalid", "true");
          target.setAttribute("aria-describedby", ((target.getAttribute("aria-describedby") || "") + " " + note.id).trim());
        }
      }
      const text = (target ? describe(target) + ": " : "") + message;
      list.appendChild(el("li", {}, [target ? el("a", { href: "#" + target.id, text }) : el("span", { text })]));
    });
    summary.hidden = list.children.length === 0;
  }

  summary.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    if (!link) return;
    event.preventDefault();
    const target = document.getElementById(link.getAttribute("href").slice(1));
    if (target) { const d = target.closest("details"); if (d) d.open = true; target.focus(); }
  });

  async function validateNow() {
    const seq = ++validateSeq;
    try {
      const res = await post(config.validate_url, { document: toDocument() });
      if (seq !== validateSeq) return;  // an older answer, overtaken by newer typing
      if (res.status === 401) { showAlert(T.signed_out, true); return; }
      const body = await res.json();
      errors = body.errors || [];
      showErrors();
    } catch (e) { /* validation while typing is a help; saving says what went wrong */ }
  }

  // -- the draft: nothing typed is lost ---------------------------------------------------------

  function saveDraft() {
    try {
      localStorage.setItem(draftKey, JSON.stringify({ document: toDocument(), version, time: new Date().toISOString() }));
    } catch (e) { /* a full or disabled storage: the form still holds the text */ }
  }

  function changed() {
    statusEl.textContent = T.unsaved;
    clearTimeout(draftTimer);
    draftTimer = setTimeout(saveDraft, 250);
    clearTimeout(validateTimer);
    validateTimer = setTimeout(validateNow, 400);
  }

  function restoreDraft() {
    let draft = null;
    try { draft = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) { draft = null; }
    if (!draft || !draft.document || JSON.stringify(draft.document) === JSON.stringify(toDocument())) return;
    doc = fromDocument(draft.document);
    version = draft.version === undefined ? version : draft.version;
    const notice = document.getElementById("restored");
    const when = new Date(draft.time);
    notice.querySelector("span").textContent = fmt(T.restored, { time: isNaN(when) ? "?" : when.toLocaleString(document.documentElement.lang) });
    notice.hidden = false;
    document.getElementById("discard").addEventListener("click", () => { localStorage.removeItem(draftKey); location.reload(); });
  }

  // -- saving -----------------------------------------------------------------------------------

  function post(url, body) {
    return fetch(url, { method: "POST", credentials: "same-origin", redirect: "manual",
                        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": config.csrf },
                        body: JSON.stringify(body) });
  }

  function showAlert(message, signIn, download) {
    alertEl.replaceChildren(el("p", { text: message }));
    if (signIn) alertEl.appendChild(el("a", { href: config.login_url + "?next=" + encodeURIComponent(location.pathname), target: "_blank", text: T.sign_in }));
    if (download) {
      const b = el("button", { type: "button", class: "small", text: T.download });
      b.addEventListener("click", downloadMine);
      alertEl.appendChild(b);
    }
    alertEl.hidden = false;
  }

  function downloadMine() {
    const blob = new Blob([JSON.stringify(toDocument(), null, 2)], { type: "application/json" });
    const a = el("a", { href: URL.createObjectURL(blob), download: (doc.title || "guide").replace(/[^\w-]+/g, "_") + ".json" });
    document.body.appendChild(a);
    a.click();
    a.remove();
  }

  // Ids the server gave new items are kept, so the next save keeps them too (and the roll-up lines
  // the items up across versions).
  function takeIds(saved) {
    saved.sections.forEach((sec, s) => sec.items.forEach((it, i) => {
      const mine = doc.sections[s] && doc.sections[s].items[i];
      if (mine && !mine.id && mine.text.trim() === (it.text || "")) mine.id = it.id;
    }));
  }

  async function save() {
    showAll = true;
    clearTimeout(validateTimer);
    alertEl.hidden = true;
    statusEl.textContent = T.saving;
    let res, body = null;
    saveDraft();
    try { res = await post(saveUrl, { version, document: toDocument() }); } catch (e) { statusEl.textContent = ""; showAlert(T.network); return; }
    try { body = await res.json(); } catch (e) { body = null; }
    if (res.ok && body) {
      version = body.version;
      takeIds(body.document);
      errors = [];
      showErrors();
      localStorage.removeItem(draftKey);
      if (body.id) {
        guideId = body.id;
        saveUrl = body.url;
        draftKey = "dialogrum.guide-draft." + guideId;
        history.replaceState(null, "", body.url);
        document.getElementById("detail-link").href = body.detail_url;
      }
      document.getElementById("session-link").href = config.sessions_url + "?guide=" + encodeURIComponent(guideId);
      document.getElementById("after-save").hidden = false;
      statusEl.textContent = body.id ? T.created : fmt(T.saved, { version });
    } else if (res.status === 422 && body && body.errors) {
      errors = body.errors;
      showErrors();
      statusEl.textContent = T.invalid;
      summary.focus();
    } else if (res.status === 409) {
      statusEl.textContent = "";
      showAlert((body && body.message) || T.conflict, false, true);
    } else if (res.status === 403 && body) {
      statusEl.textContent = "";
      showAlert(body.message || T.forbidden);
    } else if (res.status === 401 || res.type === "opaqueredirect" || !body) {
      // A lapsed sign-in: its CSRF token went with it (400 page) or login_required redirected.
      statusEl.textContent = "";
      showAlert(T.signed_out, true);
    } else {
      statusEl.textContent = "";
      showAlert(body.message || T.network);
    }
  }

  // -- moving, adding, removing -----------------------------------------------------------------

  function announce(text) { announceEl.textContent = text; }

  function moveItem(s, i, toS, toI) {
    const [it] = doc.sections[s].items.splice(i, 1);
    doc.sections[toS].items.splice(toI, 0, it);
    selected = { s: toS, i: toI };
    announce(fmt(T.moved_item, { n: itemNo(toS, toI) }));
  }

  function focusButton(action, s, i) {
    const sel = "[data-action='" + action + "'][data-s='" + s + "']" + (i === undefined ? "" : "[data-i='" + i + "']");
    const b = form.querySelector(sel);
    if (b && !b.disabled) b.focus();
    else document.getElementById(fieldId("sections[" + s + "]" + (i === undefined ? "" : ".items[" + i + "]"))).focus();
  }

  const actions = {
    "item-up"(s, i) {
      if (i > 0) moveItem(s, i, s, i - 1);
      else if (s > 0) moveItem(s, i, s - 1, doc.sections[s - 1].items.length);
      render(); focusButton("item-up", selected.s, selected.i);
    },
    "item-down"(s, i) {
      if (i < doc.sections[s].items.length - 1) moveItem(s, i, s, i + 1);
      else if (s < doc.sections.length - 1) moveItem(s, i, s + 1, 0);
      render(); focusButton("item-down", selected.s, selected.i);
    },
    "item-move"(s, i) {
      const to = Number(document.getElementById("move-" + s + "-" + i).value);
      if (to === s) return;
      moveItem(s, i, to, doc.sections[to].items.length);
      render("move-" + selected.s + "-" + selected.i);
    },
    "item-remove"(s, i) {
      removed = { s, i, item: doc.sections[s].items.splice(i, 1)[0] };
      render();
      offerUndo(fmt(T.removed_item, { n: itemNo(s, i) }));
    },
    "item-add"(s, i) {
      doc.sections[s].items.splice(i + 1, 0, newItem());
      selected = { s, i: i + 1 };
      render(fieldId("sections[" + s + "].items[" + (i + 1) + "].kind"));
    },
    "item-add-end"(s) {
      doc.sections[s].items.push(newItem());
      selected = { s, i: doc.sections[s].items.length - 1 };
      render(fieldId("sections[" + s + "].items[" + selected.i + "].kind"));
    },
    "section-up"(s) {
      doc.sections.splice(s - 1, 0, doc.sections.splice(s, 1)[0]);
      announce(fmt(T.moved_section, { n: s }));
      render(); focusButton("section-up", s - 1);
    },
    "section-down"(s) {
      doc.sections.splice(s + 1, 0, doc.sections.splice(s, 1)[0]);
      announce(fmt(T.moved_section, { n: s + 2 }));
      render(); focusButton("section-down", s + 1);
    },
    "section-remove"(s) {
      removed = { s, section: doc.sections.splice(s, 1)[0] };
      selected = { s: 0, i: 0 };
      render();
      offerUndo(fmt(T.removed_section, { n: s + 1 }));
    },
    "section-add"(s) {
      doc.sections.splice(s + 1, 0, newSection());
      selected = { s: s + 1, i: 0 };
      render(fieldId("sections[" + (s + 1) + "].title"));
    },
  };

  function offerUndo(message) {
    const bar = document.getElementById("undo");
    bar.querySelector("span").textContent = message;
    bar.hidden = false;
    bar.querySelector("button").focus();
  }

  document.querySelector("#undo button").addEventListener("click", () => {
    if (!removed) return;
    let focus;
    if (removed.section) { doc.sections.splice(removed.s, 0, removed.section); focus = fieldId("sections[" + removed.s + "]"); }
    else { doc.sections[removed.s].items.splice(removed.i, 0, removed.item); focus = fieldId("sections[" + removed.s + "].items[" + removed.i + "]"); }
    removed = null;
    document.getElementById("undo").hidden = true;
    render(focus);
    changed();
  });

  form.addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b) return;
    actions[b.dataset.action](Number(b.dataset.s), b.dataset.i === undefined ? undefined : Number(b.dataset.i));
    changed();
  });

  form.addEventListener("input", (event) => {
    const place = event.target.dataset.place;
    if (!place) return;
    const t = event.target;
    setValue(place, t.type === "checkbox" ? t.checked : t.value);
    touched.add(place);
    if (place === "language") { render("f_language"); }
    else if (place.endsWith(".kind")) {
      const [s, i] = tokens(place).filter((x) => /^\d+$/.test(x)).map(Number);
      selected = { s, i };
      render(t.id);
    } else renderPreview();
    changed();
  });

  form.addEventListener("focusin", (event) => {
    const item = event.target.closest(".ed-item");
    if (!item) return;
    const next = { s: Number(item.dataset.s), i: Number(item.dataset.i) };
    if (next.s !== selected.s || next.i !== selected.i) { selected = next; renderPreview(); }
  });

  form.addEventListener("submit", (event) => { event.preventDefault(); save(); });

  // -- the preview: the chosen item as the projector and a phone show it ------------------------

  function renderPreview() {
    const sec = doc.sections[selected.s];
    const it = sec && sec.items[selected.i];
    const pane = document.getElementById("preview-panes");
    document.getElementById("preview-which").textContent = it ? fmt(T.item, { n: itemNo(selected.s, selected.i) }) + " · " + config.kinds[it.kind] : T.preview_empty;
    pane.hidden = !it;
    if (!it) return;
    pane.querySelectorAll("[lang]").forEach((x) => x.setAttribute("lang", doc.language));
    const put = (id, text) => { const x = document.getElementById(id); x.textContent = text || ""; x.hidden = !text; };
    ["pv", "ph"].forEach((p) => {
      put(p + "-section", sec.title);
      put(p + "-statement", sec.statement);
      put(p + "-title", it.title);
      put(p + "-text", it.text);
    });
    const labels = config.vote_labels[doc.language] || config.vote_labels.en;
    const choices = it.kind === "consideration" ? ["yes", "no"].concat(it.allow_unsure ? ["unsure"] : []) : [];
    const vote = document.getElementById("ph-vote");
    vote.replaceChildren(...choices.map((c) => el("span", { class: "choice choice-" + c, text: labels[c] })));
    vote.hidden = !choices.length;
    document.getElementById("ph-comment").hidden = it.kind !== "prompt";
  }

  document.getElementById("f_title").value = doc.title;
  document.getElementById("f_description").value = doc.description;
  restoreDraft();
  document.getElementById("f_title").value = doc.title;
  document.getElementById("f_language").value = doc.language;
  document.getElementById("f_description").value = doc.description;
  render();
})();
