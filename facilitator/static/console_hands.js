/* Counted hands on the console (issue 11, section 1): for people without a phone, the facilitator
   types the raised hands per choice of the current consideration and saves them with `set_hands`.
   The ack comes after the commit; the item's `results` (phones and hands summed, `hands` beside)
   then update the bars, and this box shows the split. Changeable until the session ends. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  if (!D || !D.console) { return; }
  var socket = D.console.socket;
  var cfg = JSON.parse(document.getElementById("config").textContent);
  var t = JSON.parse(document.getElementById("hands-texts").textContent);
  var box = document.getElementById("hands-box");
  var fields = document.getElementById("hands-fields");
  var note = document.getElementById("hands-note");
  var error = document.getElementById("hands-error");
  var split = document.getElementById("hands-split");
  var item = null;   // the consideration on screen
  var dirty = false; // typed since the last save: a `results` must not overwrite it

  var fill = D.format;  // the catalogue's %(name)s placeholders

  function build(current) {
    while (fields.firstChild) { fields.removeChild(fields.firstChild); }
    current.choices.forEach(function (choice) {
      var wrap = document.createElement("div");
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.type = "number";
      input.min = "0";
      input.step = "1";
      input.inputMode = "numeric";
      input.id = "hands-" + choice;
      input.name = choice;
      input.addEventListener("input", function () { dirty = true; note.textContent = ""; });
      label.htmlFor = input.id;
      label.textContent = fill(t.label, {choice: cfg.labels[choice] || choice});
      wrap.appendChild(label);
      wrap.appendChild(input);
      fields.appendChild(wrap);
    });
  }

  function showSplit(r) {
    var hands = r.hands || {};
    var phones = [], counted = [];
    item.choices.forEach(function (c) {
      var h = hands[c] || 0;
      phones.push((cfg.labels[c] || c) + " " + ((r.counts[c] || 0) - h));
      counted.push((cfg.labels[c] || c) + " " + h);
    });
    split.textContent = fill(t.split, {phones: phones.join(" · "), hands: counted.join(" · ")});
  }

  socket.on("state", function (state) {
    var current = state.item && state.item.kind === "consideration" && state.item.choices.length ? state.item : null;
    box.hidden = !current || state.session.status === "ended";
    if (!current || (item && item.id === current.id)) { item = current; return; }
    item = current;
    dirty = false;
    note.textContent = error.textContent = split.textContent = "";
    build(current);
  });

  socket.on("results", function (r) {
    if (!item || r.item_id !== item.id) { return; }
    showSplit(r);
    if (dirty) { return; }
    item.choices.forEach(function (c) {
      var input = document.getElementById("hands-" + c);
      if (input && document.activeElement !== input) { input.value = r.hands && r.hands[c] ? r.hands[c] : ""; }
    });
  });

  document.getElementById("hands-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!item) { return; }
    var counts = {};
    item.choices.forEach(function (c) {
      var input = document.getElementById("hands-" + c);
      input.removeAttribute("aria-invalid");
      var raw = input.value.trim();
      // A blank is "not counted"; anything else goes to the server, which says what is wrong.
      if (raw !== "") { counts[c] = /^\d+$/.test(raw) ? parseInt(raw, 10) : raw; }
    });
    note.textContent = error.textContent = "";
    var sent = item.id;
    socket.timeout(10000).emit("set_hands", {item_id: sent, counts: counts}, function (err, ack) {
      if (err || !ack) { error.textContent = t.failed; return; }
      if (ack.ok) { dirty = false; note.textContent = t.saved; return; }
      var messages = [];
      (ack.errors || []).forEach(function (e) {
        var choice = e.place.split(".")[1];
        var input = choice && document.getElementById("hands-" + choice);
        if (input) { input.setAttribute("aria-invalid", "true"); }
        var text = fill(t[e.kind] || t.failed, e);
        var label = input ? document.querySelector("label[for='" + input.id + "']").textContent + ": " : "";
        if (messages.indexOf(label + text) < 0) { messages.push(label + text); }
      });
      error.textContent = messages.length ? messages.join(" ") : (t[ack.error] || t.failed);
    });
  });
}());
