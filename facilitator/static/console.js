/* The facilitator's console: controls, live counts, comments with moderation, the conclusion. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var cfg = D.config();
  var t = cfg.text;
  var errors = cfg.errors;
  var $ = function (id) { return document.getElementById(id); };

  var state = null;
  var participants = 0;
  var counts = null;
  var comments = [];
  var conclusions = cfg.conclusions || {};
  var endArmed = null;

  var buttons = {
    start: $("btn-start"), prev: $("btn-prev"), next: $("btn-next"), voting: $("btn-voting"),
    results: $("btn-results"), end: $("btn-end"), help: $("btn-help"),
    joinLarge: $("btn-join-large"), joinHide: $("btn-join-hide")
  };
  var endLabel = buttons.end.textContent;
  var gotoButtons = Array.prototype.slice.call(document.querySelectorAll("button.goto"));
  var help = $("help");
  var conclusionField = $("conclusion");

  function say(text) { $("announce").textContent = text; }
  function showError(text) { D.setText("control-error", text || ""); }
  function errorText(code) { return errors[code] || errors.server_error; }

  var socket = window.io({auth: {session_id: cfg.session_id}, reconnectionDelayMax: 5000});
  // The timer, notes and approval queue (console_extras.js) share this socket and its control.
  D.console = {socket: socket, control: function (action, index) { control(action, index); }};
  // Top ideas, the closing summary and the minutes (console_summary.js) share the socket and control.
  if (D.onConsoleSocket) { D.onConsoleSocket(socket, function (action, index) { control(action, index); }); }

  function control(action, index) {
    showError("");
    var payload = {action: action};
    if (index !== undefined) { payload.index = index; }
    socket.timeout(10000).emit("control", payload, function (err, ack) {
      if (err) { showError(t.reconnecting); return; }
      if (ack && ack.ok === false) { showError(errorText(ack.error)); return; }
      render(ack);
    });
  }

  function live() { return state && state.session.status === "live"; }
  function isVote() { return live() && state.item && state.item.kind === "consideration"; }

  function toggleVoting() {
    if (isVote()) { control(state.voting_open ? "close_voting" : "open_voting"); }
  }
  function toggleResults() {
    if (isVote()) { control(state.results_visible ? "hide_results" : "show_results"); }
  }
  /* The projector's QR code, address and code: "large" or "hidden" toggles back to the corner. */
  function toggleJoin(target) {
    if (!state || state.session.status === "ended") { return; }
    if ((state.join_display || "corner") === target) { control("show_join"); return; }
    control(target === "large" ? "show_join_large" : "hide_join");
  }

  function step(action) {
    if (!state) { return; }
    if (state.session.status === "waiting" && action === "next") { control("start"); return; }
    if (live()) { control(action); }
  }

  function render(st) {
    if (!st || !st.session) { return; }
    if (state && st.version !== undefined && state.version !== undefined && st.version < state.version) { return; }
    var previousItem = state && state.item ? state.item.id : null;
    var wasEnded = !!(state && state.session.status === "ended");
    state = st;
    document.dispatchEvent(new CustomEvent("dialogrum:state", {detail: st}));
    var item = st.item;
    var status = st.session.status;
    // Ended: the way forward (report, downloads, roll-up, run again) replaces the room's controls,
    // the join code and the last item.
    var ended = status === "ended";
    $("after").hidden = !ended;
    $("current-box").hidden = ended;
    $("join-box").hidden = ended;
    $("outline").hidden = ended;
    if (ended && !wasEnded && previousItem !== null) { $("after-heading").focus(); }
    $("status-text").textContent = {waiting: cfg.status.waiting, live: cfg.status.live, ended: cfg.status.ended}[status];
    participants = st.participants;
    $("participants").textContent = participants;
    var index = st.position.index;
    var count = st.position.count;

    buttons.start.hidden = status !== "waiting";
    buttons.prev.disabled = !live() || index === 0;
    buttons.next.disabled = !live() || index >= count - 1;
    buttons.voting.disabled = !isVote();
    buttons.results.disabled = !isVote();
    buttons.voting.textContent = st.voting_open ? t.close_voting : t.open_voting;
    buttons.voting.setAttribute("aria-pressed", String(!!st.voting_open));
    buttons.results.textContent = st.results_visible ? t.hide_results : t.show_results;
    buttons.results.setAttribute("aria-pressed", String(!!st.results_visible));
    buttons.end.disabled = status === "ended";
    var join = st.join_display || "corner";
    buttons.joinLarge.setAttribute("aria-pressed", String(join === "large"));
    buttons.joinHide.setAttribute("aria-pressed", String(join === "hidden"));
    buttons.joinLarge.disabled = buttons.joinHide.disabled = status === "ended";
    gotoButtons.forEach(function (b) {
      var here = live() && Number(b.dataset.index) === index;
      b.disabled = !live();
      if (here) { b.setAttribute("aria-current", "step"); } else { b.removeAttribute("aria-current"); }
    });

    if (!item) {
      D.setText("cur-position", status === "ended" ? t.ended : t.waiting);
      ["cur-section", "cur-statement", "cur-title", "cur-text", "cur-flags"].forEach(function (id) { D.setText(id, ""); });
      $("counts").hidden = true;
      $("comments-box").hidden = true;
      $("conclusion-box").hidden = true;
      return;
    }
    D.setText("cur-position", status === "ended" ? t.ended : D.format(t.position, {n: index + 1, count: count}));
    D.setText("cur-section", item.section.title);
    D.setText("cur-statement", item.section.statement);
    D.setText("cur-title", item.title);
    D.setText("cur-text", item.text);
    $("current-card").classList.toggle("item-info", item.kind === "info");
    var flags = $("cur-flags");
    flags.textContent = "";
    if (item.kind === "consideration") {
      var voting = D.el("span", null, st.voting_open ? t.voting_open : (st.voting_opened ? t.voting_closed : t.voting_soon));
      voting.id = "cur-voting";
      voting.dataset.state = st.voting_open ? "open" : (st.voting_opened ? "closed" : "soon");
      flags.appendChild(voting);
      flags.appendChild(D.el("span", null, st.results_visible ? t.results_shown : t.results_hidden));
    }
    flags.hidden = !flags.firstChild;

    if (item.id !== previousItem) {
      counts = null;
      comments = [];
      conclusionField.value = conclusions[item.id] || "";
      D.setText("conclusion-note", "");
      if (previousItem !== null) {
        say(D.format(t.moved, {n: index + 1}));
        keepInView(document.querySelector("button.goto[aria-current]"));
      }
    }
    $("counts").hidden = item.kind !== "consideration";
    D.setText("counts-visibility", st.results_visible ? "" : t.hidden_from_room);
    renderCounts();
    $("comments-box").hidden = item.kind === "info";
    // One model, said where it applies: an open question's comments are all on the projector
    // unless hidden; a Ja/Nej item's comments stay here unless pinned to the projector.
    D.setText("comments-hint", item.kind === "prompt" ? t.comments_prompt : t.comments_vote);
    renderComments();
    $("conclusion-box").hidden = false;
    conclusionField.disabled = false;
  }

  /* Scroll the outline (only the outline, never the page) so the current item is visible. */
  function keepInView(button) {
    var box = document.querySelector(".outline");
    if (!button || !box) { return; }
    var top = button.offsetTop;  // the outline is the offset parent (position: relative)
    if (top < box.scrollTop || top + button.offsetHeight > box.scrollTop + box.clientHeight) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 3);
    }
  }

  function renderCounts() {
    if (!state || !state.item || state.item.kind !== "consideration") { return; }
    var c = counts || {counts: {yes: 0, no: 0, unsure: 0}, voters: 0, participants: state.participants};
    D.renderBars($("count-bars"), c.counts, state.item.choices, cfg.labels, cfg.language);
    // The phone count comes from `presence` (newer than the one a `results` carries).
    // "N of M phones have voted": counted hands (console_hands.js shows them) are no phones.
    var hands = c.hands ? (c.hands.yes || 0) + (c.hands.no || 0) + (c.hands.unsure || 0) : 0;
    $("counts-voters").textContent = D.format(D.plural(t.voters, participants),
      {voters: c.voters - hands, participants: participants});
  }

  function moderate(comment, change) {
    change.comment_id = comment.id;
    socket.timeout(10000).emit("moderate", change, function (err, ack) {
      if (err) { showError(t.reconnecting); return; }
      if (!ack.ok) { showError(errorText(ack.error)); return; }
      upsert(ack.comment);
    });
  }

  function renderComments() {
    var list = $("mod-list");
    list.textContent = "";
    D.sortComments(comments, !!(state && state.comment_order === "likes"));
    $("comment-count").textContent = comments.length;
    if (!comments.length) { list.appendChild(D.el("li", "hint", t.no_comments)); }
    var onVote = !!(state && state.item && state.item.kind === "consideration");
    var pinnedSeen = 0;  // on a consideration the projector shows the first three pinned (PINNED_MAX there)
    comments.forEach(function (c) {
      var li = D.el("li", (c.hidden ? "hidden-comment" : "") + (c.pinned ? " pinned" : ""));
      li.dataset.id = c.id;
      li.appendChild(D.el("p", "mod-text", c.text));
      var row = D.el("div", "mod-actions");
      var when = new Date(c.created_at);
      var meta = D.el("span", "hint", isNaN(when) ? "" : when.toLocaleTimeString(document.documentElement.lang,
        {hour: "2-digit", minute: "2-digit"}));
      if (c.hidden) { meta.textContent += " · " + t.hidden_label; }
      if (c.approved === false && !c.hidden) { meta.textContent += " · " + D.console.pendingLabel; }
      if (c.pinned && onVote) {
        if (!c.hidden) {
          pinnedSeen += 1;
          meta.textContent += " · " + (pinnedSeen > 3 ? t.queued_label : t.shown_label);
        }
      } else if (c.pinned) {
        meta.textContent += " · " + t.pinned_label;
      }
      if (c.likes) {  // last: the texts above are set with textContent, which would drop the icon
        meta.appendChild(document.createTextNode(" · "));
        meta.appendChild(D.thumb());
        meta.appendChild(document.createTextNode(String(c.likes)));
      }
      meta.lang = document.documentElement.lang;
      var hide = D.el("button", "mod-hide", c.hidden ? t.unhide : t.hide);
      hide.type = "button";
      hide.lang = document.documentElement.lang;
      hide.addEventListener("click", function () { moderate(c, {hidden: !c.hidden}); });
      var pin = D.el("button", "mod-pin", onVote ? (c.pinned ? t.unshow : t.show) : (c.pinned ? t.unpin : t.pin));
      pin.type = "button";
      pin.lang = document.documentElement.lang;
      pin.setAttribute("aria-pressed", String(!!c.pinned));
      pin.addEventListener("click", function () { moderate(c, {pinned: !c.pinned}); });
      row.appendChild(meta);
      row.appendChild(hide);
      row.appendChild(pin);
      li.appendChild(row);
      list.appendChild(li);
    });
  }

  function upsert(comment) {
    if (!state || !state.item || comment.item_id !== state.item.id) { return; }
    var found = false;
    comments = comments.map(function (c) {
      if (c.id === comment.id) { found = true; return comment; }
      return c;
    });
    if (!found) { comments.push(comment); }
    renderComments();
  }

  // "Connected" only once this connection's state has arrived: before that the buttons and keys
  // have nothing to act on, and a facilitator pressing one would see nothing happen.
  var awaitingState = true;
  socket.on("connect", function () { awaitingState = true; });
  socket.on("disconnect", function () { awaitingState = true; $("connection").textContent = t.reconnecting; });
  socket.on("connect_error", function (err) {
    var code = err && err.message;
    if (code && errors[code]) {
      $("connection").textContent = D.format(t.refused, {reason: errorText(code)});
    } else {
      $("connection").textContent = t.reconnecting;
    }
  });
  socket.on("join_warning", function (w) {
    // One network address made far more participants than are connected (shared/joining.py).
    var box = $("join-warning");
    box.textContent = D.format(t.join_warning, {n: w.from_one_address, participants: w.participants});
    box.hidden = false;
  });
  socket.on("state", function (st) {
    render(st);
    if (awaitingState && state) { awaitingState = false; $("connection").textContent = t.connected; }
  });
  socket.on("presence", function (p) {
    participants = p.participants;
    $("participants").textContent = participants;
    renderCounts();
  });
  socket.on("results", function (r) {
    if (state && state.item && r.item_id === state.item.id) { counts = r; renderCounts(); }
  });
  socket.on("comments", function (data) {
    if (state && state.item && data.item_id === state.item.id) { comments = data.comments.slice(); renderComments(); }
  });
  socket.on("comment", upsert);
  socket.on("comment_update", upsert);
  socket.on("likes", function (data) {
    if (!state || !state.item || data.item_id !== state.item.id) { return; }
    comments.forEach(function (c) { c.likes = data.likes[String(c.id)] || 0; });
    renderComments();
  });
  socket.on("conclusion", function (c) {
    conclusions[c.item_id] = c.text;
    if (state && state.item && state.item.id === c.item_id && document.activeElement !== conclusionField) {
      conclusionField.value = c.text;
    }
  });

  $("conclusion-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (!state || !state.item) { return; }
    D.setText("conclusion-note", t.saving);
    socket.timeout(10000).emit("conclude", {item_id: state.item.id, text: conclusionField.value}, function (err, ack) {
      if (err) { D.setText("conclusion-note", t.reconnecting); return; }
      if (!ack.ok) { D.setText("conclusion-note", errorText(ack.error)); return; }
      conclusions[ack.conclusion.item_id] = ack.conclusion.text;
      D.setText("conclusion-note", t.saved);
    });
  });

  buttons.start.addEventListener("click", function () { control("start"); });
  buttons.prev.addEventListener("click", function () { step("prev"); });
  buttons.next.addEventListener("click", function () { step("next"); });
  buttons.voting.addEventListener("click", toggleVoting);
  buttons.joinLarge.addEventListener("click", function () { toggleJoin("large"); });
  buttons.joinHide.addEventListener("click", function () { toggleJoin("hidden"); });
  buttons.results.addEventListener("click", toggleResults);
  buttons.end.addEventListener("click", function () {
    // Two steps instead of a confirm() box: ending cannot be undone.
    if (endArmed) {
      window.clearTimeout(endArmed);
      endArmed = null;
      buttons.end.textContent = endLabel;
      control("end");
      return;
    }
    buttons.end.textContent = t.confirm_end;
    endArmed = window.setTimeout(function () { endArmed = null; buttons.end.textContent = endLabel; }, 6000);
  });
  gotoButtons.forEach(function (b) {
    b.addEventListener("click", function () {
      var index = Number(b.dataset.index);
      if (live() && index !== state.position.index) { control("goto", index); }
    });
  });

  function showHelp() { if (!help.open) { help.showModal(); } }
  buttons.help.addEventListener("click", showHelp);

  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || D.typing(e.target) || help.open) { return; }
    switch (e.key) {
      case "ArrowRight": step("next"); break;
      case "ArrowLeft": step("prev"); break;
      case " ": case "Spacebar": toggleVoting(); break;
      case "r": case "R": toggleResults(); break;
      case "q": case "Q": toggleJoin("large"); break;
      case "?": showHelp(); break;
      default: return;
    }
    e.preventDefault();
  });
  // Space is the voting shortcut even when a button has focus: stop it from also pressing that button.
  document.addEventListener("keyup", function (e) {
    if ((e.key === " " || e.key === "Spacebar") && !D.typing(e.target) && !help.open) { e.preventDefault(); }
  });
}());
