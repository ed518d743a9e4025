/* The phone: join at once, keep the token (local storage and a cookie), vote, comment, see results. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var cfg = D.config();
  var t = cfg.text;
  var errors = cfg.errors;
  var storeKey = "dialogrum:" + cfg.code;
  var cookieName = "dlg_" + cfg.code;
  var current = null;
  var myVote = null;
  var myComments = 0;
  var ended = false;
  // Counts the states rendered: a state is the server's word on this phone's vote (me.vote), so an
  // answer that arrives after a newer state must not paint over it (issue 15, point 13a).
  var renders = 0;

  var $ = function (id) { return document.getElementById(id); };
  var status = $("status");
  var card = $("item");
  var voteBox = $("vote");
  var buttons = Array.prototype.slice.call(voteBox.querySelectorAll("button[data-choice]"));
  var form = $("comment");
  var textarea = $("comment-text");
  var counter = $("comment-count");
  var results = $("results");
  var bars = $("results-bars");

  function readToken() {
    try {
      var stored = window.localStorage.getItem(storeKey);
      if (stored) { return stored; }
    } catch (_e) { /* private mode: the cookie still works */ }
    var match = document.cookie.match(new RegExp("(?:^|; )" + cookieName + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : undefined;
  }

  function saveToken(token) {
    try { window.localStorage.setItem(storeKey, token); } catch (_e) { /* the cookie is enough */ }
    document.cookie = cookieName + "=" + encodeURIComponent(token) + "; path=/; max-age=2592000; samesite=lax" +
      (window.location.protocol === "https:" ? "; secure" : "");
  }

  function setStatus(state, text) {
    status.dataset.state = state;
    if (status.textContent !== text) { status.textContent = text; }
  }

  function showVote(choice) {
    myVote = choice;
    buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.choice === choice)); });
  }

  function render(state) {
    current = state;
    renders += 1;
    var item = state.item;
    if (state.session.status === "ended") {
      ended = true;
      setStatus("ended", t.ended);
      card.hidden = true;
      return;
    }
    if (state.session.status === "waiting" || !item) {
      setStatus("waiting", t.waiting);
      card.hidden = true;
      return;
    }
    card.hidden = false;
    D.setText("item-section", item.section.title);
    D.setText("item-statement", item.section.statement);
    D.setText("item-title", item.title);
    D.setText("item-text", item.text);
    var me = state.me || {vote: null, comments: 0};
    myComments = me.comments || 0;
    var labels = state.labels || {};
    var isVote = item.kind === "consideration";
    card.classList.toggle("item-info", item.kind === "info");
    voteBox.hidden = !isVote;
    buttons.forEach(function (b) {
      var choice = b.dataset.choice;
      b.hidden = item.choices.indexOf(choice) < 0;
      if (labels[choice]) { b.textContent = labels[choice]; }
      b.lang = state.language || "";
      b.disabled = !state.voting_open;
    });
    showVote(me.vote || null);
    if (isVote) {
      // Before voting was ever opened on the item it "opens soon"; after it was closed it "is closed".
      if (state.voting_open) {
        setStatus("voting-open", t.voting_open);
      } else if (state.voting_opened) {
        setStatus("voting-closed", t.voting_closed);
      } else {
        setStatus("voting-soon", t.voting_soon);
      }
    } else if (item.kind === "prompt") {
      setStatus("prompt", t.prompt);
    } else {
      setStatus("info", t.info);
    }
    D.setText("vote-note", isVote && me.vote ? (state.voting_open ? t.vote_kept : t.vote_final) : "");
    form.hidden = item.kind === "info";
    // On a consideration a comment reaches the screen only when the facilitator puts it there.
    D.setText("comment-hint", isVote ? t.comment_vote : "");
    D.setText("comment-note", myComments ? D.format(D.plural(t.comments_sent, myComments), {n: myComments}) : "");
    results.hidden = !(isVote && state.results_visible);
    if (results.hidden) { bars.textContent = ""; }
  }

  function renderResults(data) {
    if (!current || !current.item || data.item_id !== current.item.id || !current.results_visible) { return; }
    D.renderBars(bars, data.counts, current.item.choices, current.labels || {}, current.language);
    results.hidden = false;
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      if (!current || !current.item || !current.voting_open) { return; }
      // Offline, a tap is refused where it happens: a vote kept back and sent after a reconnect
      // would land after the state that showed the old one (issue 15, point 13a).
      if (!socket.connected) { D.setText("vote-note", t.offline_not_sent); return; }
      var before = myVote;
      var seen = renders;
      var choice = button.dataset.choice;
      showVote(choice);
      D.setText("vote-note", t.saving);
      socket.timeout(10000).emit("vote", {item_id: current.item.id, choice: choice}, function (err, ack) {
        if (err) {
          // No answer: the vote may or may not be stored. Show only what the server says: a newer
          // state already did; else reconnect, and the state that follows carries the stored vote.
          if (renders === seen) { showVote(before); }
          D.setText("vote-note", t.not_saved);
          if (socket.connected) { socket.disconnect().connect(); }
        } else if (!ack || !ack.ok) {
          showVote(before);
          D.setText("vote-note", errors[ack && ack.error] || t.not_saved);
        } else {
          D.setText("vote-note", t.vote_saved);
        }
      });
    });
  });

  function updateCounter() {
    counter.textContent = D.format(t.counter, {n: textarea.value.length, max: 1000});
  }
  textarea.addEventListener("input", updateCounter);

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current || !current.item) { return; }
    var text = textarea.value.trim();
    if (!text) { D.setText("comment-note", errors.empty); textarea.focus(); return; }
    // Offline: refused at once, the text stays (sent later it could arrive twice after a retry).
    if (!socket.connected) { D.setText("comment-note", t.offline_not_sent); return; }
    var sendButton = form.querySelector("button[type=submit]");
    sendButton.disabled = true;
    D.setText("comment-note", t.sending);
    socket.timeout(10000).emit("comment", {item_id: current.item.id, text: text}, function (err, ack) {
      sendButton.disabled = false;
      if (err || !ack || !ack.ok) {
        D.setText("comment-note", err ? t.not_saved : (errors[ack && ack.error] || t.not_saved));
        return;
      }
      myComments += 1;
      if (D.markMine) { D.markMine(ack.id); }
      textarea.value = "";
      updateCounter();
      D.setText("comment-note", t.sent + " " + D.format(D.plural(t.comments_sent, myComments), {n: myComments}));
      // phone_pending.js lists it as waiting for approval when `ack.pending` (issue 11, point 4).
      document.dispatchEvent(new CustomEvent("dialogrum:comment-sent", {detail: {ack: ack, text: text}}));
    });
  });

  // Websocket first, long-polling if it fails: docs/deploy.md#benchmark.
  var socket = window.io({
    auth: function (cb) { cb({code: cfg.code, token: readToken()}); },
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    reconnectionDelayMax: 5000
  });
  D.phone = {socket: socket};  // phone_pending.js follows the comments that wait for approval
  // Others' ideas and their thumbs-up (participant/static/ideas.js) listen on the same socket.
  if (D.onPhoneSocket) { D.onPhoneSocket(socket); }
  socket.on("welcome", function (data) { saveToken(data.token); });
  socket.on("state", render);
  socket.on("results", renderResults);
  socket.on("connect_error", function (err) {
    var code = err && err.message;
    if (code === "timeout") { socket.io.opts.transports = ["polling", "websocket"]; }  // a proxy holds it
    if (code === "unknown_session" || code === "session_ended") {
      ended = true;
      setStatus("ended", code === "session_ended" ? t.ended : errors.unknown_session);
      card.hidden = true;
      return;
    }
    // A refusal the server explained (too many joins at once, a busy server) says so; either way
    // the phone tries again by itself.
    setStatus("offline", code === "rate_limited" || code === "unavailable" ? errors[code] : t.reconnecting);
    if (!socket.active) {
      // The server refused this attempt (e.g. too many joins at once): try again shortly.
      window.setTimeout(function () { socket.connect(); }, 3000);
    }
  });
  socket.on("disconnect", function (reason) {
    if (ended) { return; }
    setStatus("offline", t.reconnecting);
    if (reason === "io server disconnect") { socket.connect(); }
  });
  updateCounter();
}());
