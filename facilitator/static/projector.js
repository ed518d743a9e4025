/* The projector: follows the session live; QR code while waiting, then the item, bars and comment wall. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var cfg = D.config();
  var t = cfg.text;
  var $ = function (id) { return document.getElementById(id); };
  var WALL_MAX = 40;
  // On a Ja/Nej item the projector shows only the comments the facilitator pins, a few at most
  // (the item and its bars keep the screen); on an open question every comment that is not hidden.
  var PINNED_MAX = 3;

  var state = null;
  var participants = 0;
  var comments = [];
  var lastResults = null;
  var lastVoters = null;  // how many voted while results are hidden (never the split)

  function render(st) {
    if (state && st.version !== undefined && state.version !== undefined && st.version < state.version) { return; }
    var previousItem = state && state.item ? state.item.id : null;
    state = st;
    document.dispatchEvent(new CustomEvent("dialogrum:state", {detail: st}));  // the countdown (projector_timer.js)
    var status = st.session.status;
    participants = st.participants;
    showParticipants();
    var live = status === "live" && !!st.item;
    // The way in stays on screen once live: in a corner, large (the waiting screen), or hidden.
    var join = st.join_display || "corner";
    $("waiting").hidden = !(status === "waiting" || (live && join === "large"));
    $("ended").hidden = status !== "ended";
    $("stage").hidden = !live || join === "large";
    $("current").hidden = !live;
    $("join-corner").hidden = join !== "corner";
    document.body.dataset.join = live ? join : "";
    if (!live) { return; }
    var item = st.item;
    if (item.id !== previousItem) { comments = []; lastResults = null; lastVoters = null; }
    D.setText("p-section", item.section.title);
    D.setText("p-statement", item.section.statement);
    D.setText("p-title", item.title);
    D.setText("p-text", item.text);
    $("current").classList.toggle("proj-info", item.kind === "info");
    var isVote = item.kind === "consideration";
    var voting = $("p-voting");
    voting.hidden = !isVote;
    voting.dataset.open = String(!!st.voting_open);
    // Two states, two texts: voting "opens soon" before it was ever opened on the item, "is closed" after.
    voting.dataset.state = st.voting_open ? "open" : (st.voting_opened ? "closed" : "soon");
    voting.textContent = st.voting_open ? t.voting_open : (st.voting_opened ? t.voting_closed : t.voting_soon);
    if (!isVote || !st.results_visible) { lastResults = null; }
    renderResults();
    renderWall();
  }

  /* "1 phone connected", "3 phones connected": the number and its word. */
  function showParticipants() {
    $("participants").textContent = participants;
    $("participants-word").textContent = D.plural(t.connected, participants);
  }

  function renderResults() {
    var isVote = !!(state && state.item && state.item.kind === "consideration");
    var show = !!(isVote && state.results_visible && lastResults);
    $("p-bars").hidden = !show;
    if (show) { D.renderBars($("p-bars"), lastResults.counts, state.item.choices, cfg.labels, cfg.language); }
    // "N of M have voted": with the bars, or alone while the results are hidden, once voting was opened.
    var counted = show ? lastResults : (isVote && !state.results_visible && (state.voting_open || state.voting_opened)
      ? lastVoters : null);
    $("p-voters").hidden = !counted;
    if (counted) {
      $("p-voters").textContent = D.format(D.plural(t.voters, participants),
        {voters: counted.voters, participants: participants});
    }
  }

  /* The comments the room sees: every one that is not hidden on an open question (pinned first),
     only the pinned ones on a Ja/Nej item; none on an info slide. */
  function shownComments() {
    var kind = state && state.item ? state.item.kind : null;
    if (kind === "prompt") { return D.sortComments(comments, state.comment_order === "likes").slice(0, WALL_MAX); }
    if (kind === "consideration") {
      return D.sortComments(comments.filter(function (c) { return c.pinned; })).slice(0, PINNED_MAX);
    }
    return [];
  }

  function renderWall() {
    var wall = $("wall");
    wall.textContent = "";
    var shown = shownComments();
    var kind = state && state.item ? state.item.kind : null;
    wall.hidden = kind !== "prompt" && !shown.length;
    wall.classList.toggle("wall-pinned", kind === "consideration");
    if (state && state.item) { $("current").classList.toggle("has-wall", !wall.hidden); }
    shown.forEach(function (c) {
      var li = D.el("li", c.pinned ? "pinned" : "", c.text);
      li.dataset.id = c.id;
      // The thumbs-up the phones gave it (issue 11, section 3), once it has any.
      if (kind === "prompt" && c.likes) {
        var likes = D.el("span", "wall-likes");
        likes.appendChild(D.thumb());
        likes.appendChild(document.createTextNode(String(c.likes)));
        li.appendChild(likes);
      }
      wall.appendChild(li);
    });
  }

  function current(itemId) { return state && state.item && state.item.id === itemId; }

  function keep(comment) {
    if (!current(comment.item_id)) { return false; }
    comments = comments.filter(function (c) { return c.id !== comment.id; });
    if (!comment.hidden) { comments.push(comment); }
    return true;
  }
  function upsert(comment) {
    if (keep(comment)) { renderWall(); }
  }

  /* The stage: a full-screen button, and controls and cursor that fade while the mouse rests. */
  var fullscreen = $("btn-fullscreen");
  if (fullscreen && document.fullscreenEnabled) {
    fullscreen.hidden = false;
    fullscreen.addEventListener("click", function () {
      if (document.fullscreenElement) {
        document.exitFullscreen();
      } else {
        document.documentElement.requestFullscreen().catch(function () { /* refused: stay windowed */ });
      }
    });
    document.addEventListener("fullscreenchange", function () {
      fullscreen.setAttribute("aria-pressed", String(!!document.fullscreenElement));
    });
  }
  var idleTimer = null;
  function wake() {
    document.body.classList.remove("idle");
    window.clearTimeout(idleTimer);
    idleTimer = window.setTimeout(function () { document.body.classList.add("idle"); }, 3000);
  }
  ["mousemove", "mousedown", "keydown", "touchstart", "focusin"].forEach(function (name) {
    document.addEventListener(name, wake, {passive: true});
  });
  wake();

  // batch: new comments come together, a few times a second (`comments_added`), so a room that
  // writes fast redraws the wall at most a few times a second, not once per comment.
  var socket = window.io({auth: {projector_key: cfg.projector_key, batch: true}, reconnectionDelayMax: 5000});
  // The closing summary (summary.js) listens on the same socket.
  if (D.onProjectorSocket) { D.onProjectorSocket(socket); }
  socket.on("likes", function (data) {
    if (!current(data.item_id)) { return; }
    comments.forEach(function (c) { c.likes = data.likes[String(c.id)] || 0; });
    renderWall();
  });
  socket.on("connect", function () { $("offline").hidden = true; });
  socket.on("disconnect", function () { $("offline").hidden = false; });
  socket.on("connect_error", function () { $("offline").hidden = false; });
  socket.on("state", render);
  socket.on("presence", function (p) {
    participants = p.participants;
    // A phone that joined shows that the join link works after all (a forwarded port, a phone on
    // this computer): the room's screen then drops the warning and gives the room its space.
    var lanWarning = $("lan-warning");
    if (lanWarning && participants > 0) { lanWarning.hidden = true; }
    showParticipants();
    renderResults();
  });
  socket.on("results", function (r) {
    if (current(r.item_id) && state.results_visible) { lastResults = r; renderResults(); }
  });
  socket.on("voters", function (v) {
    if (current(v.item_id)) { lastVoters = v; renderResults(); }
  });
  socket.on("comments", function (data) {
    if (current(data.item_id)) {
      comments = data.comments.filter(function (c) { return !c.hidden; });
      renderWall();
    }
  });
  socket.on("comment", upsert);
  socket.on("comments_added", function (data) {
    var changed = false;
    data.comments.forEach(function (c) { changed = keep(c) || changed; });
    if (changed) { renderWall(); }
  });
  socket.on("comment_update", upsert);
  socket.on("comment_hidden", function (data) {
    comments = comments.filter(function (c) { return c.id !== data.id; });
    renderWall();
  });
}());
