/* The console's notes, countdown and approval queue (issue 11, points 2 and 4).

   It follows every state console.js renders through the `dialogrum:state` event, and shares
   console.js's socket and control (`Dialogrum.console`). It is loaded before console.js so that
   it listens before the first state can arrive; the socket is taken with that first state. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var T = window.DialogrumTimer;
  var $ = function (id) { return document.getElementById(id); };
  var t = JSON.parse($("console-extras").textContent);
  var socket = null;
  function control(action) { D.console.control(action); }

  var state = null;
  var itemId = null;
  var queue = [];  // this item's comments that wait for approval, oldest first

  // -- notes: rendered (escaped) in the page for every item; only the current item's are shown --
  function showNotes(index, live) {
    var any = false;
    Array.prototype.forEach.call(document.querySelectorAll(".item-notes"), function (box) {
      var here = live && Number(box.dataset.index) === index;
      box.hidden = !here;
      any = any || (here && box.dataset.empty !== "true");
    });
    $("notes-box").hidden = !any;
  }

  // -- the countdown --------------------------------------------------------------------------
  var buttons = {run: $("btn-timer-run"), add: $("btn-timer-add"), reset: $("btn-timer-reset"),
                 show: $("btn-timer-show")};
  var countdown = new T.Countdown(function (left, timer) {
    if (!timer) { return; }
    var up = left <= 0;
    $("timer-display").textContent = T.format(left);
    $("timer-box").dataset.state = up ? "up" : (timer.running ? "running" : "paused");
    var words = up ? t.time_up : (timer.running ? t.running : t.paused);
    if ($("timer-status").textContent !== words) { $("timer-status").textContent = words; }
    buttons.run.disabled = up && !timer.running;
  });

  function drawTimer(st) {
    var timer = st.timer;
    var live = st.session.status === "live" && !!st.item;
    $("timer-box").hidden = !live || !timer;
    if (!live || !timer) { countdown.update(null); return; }  // ended: stop ticking
    var running = timer.running;
    buttons.run.textContent = running ? t.pause : t.start;
    buttons.run.setAttribute("aria-pressed", String(running));
    buttons.show.setAttribute("aria-pressed", String(!!timer.visible));
    countdown.update(timer);
  }

  buttons.run.addEventListener("click", function () {
    if (state && state.timer) { control(state.timer.running ? "timer_pause" : "timer_start"); }
  });
  buttons.add.addEventListener("click", function () { control("timer_add_minute"); });
  buttons.reset.addEventListener("click", function () { control("timer_reset"); });
  buttons.show.addEventListener("click", function () {
    if (state && state.timer) { control(state.timer.visible ? "timer_hide" : "timer_show"); }
  });

  // -- approve first ------------------------------------------------------------------------------
  var approval = $("btn-approval");
  approval.addEventListener("click", function () {
    if (state) { control(state.approve_comments ? "approval_off" : "approval_on"); }
  });

  function waiting(c) { return c.approved === false && !c.hidden; }

  function keep(comment) {
    if (comment.item_id !== itemId) { return; }
    queue = queue.filter(function (c) { return c.id !== comment.id; });
    if (waiting(comment)) { queue.push(comment); }
    queue.sort(function (a, b) { return a.id - b.id; });
    renderQueue();
  }

  function act(comment, change, position) {
    change.comment_id = comment.id;
    socket.timeout(10000).emit("moderate", change, function (err, ack) {
      if (err || !ack || !ack.ok) { $("queue-note").textContent = t.not_done; return; }
      keep(ack.comment);
      $("queue-note").textContent = change.approved ? t.approved : t.hidden;
      // Keyboard users go on with the next comment that waits (or the heading when none is left).
      var next = document.querySelectorAll("#queue-list button.q-approve");
      if (next.length) {
        next[Math.min(position, next.length - 1)].focus();
      } else {
        $("queue-heading").focus();
      }
    });
  }

  function renderQueue() {
    var list = $("queue-list");
    list.textContent = "";
    $("queue-count").textContent = queue.length;
    queue.forEach(function (c, position) {
      var li = D.el("li", "queued");
      li.dataset.id = c.id;
      var text = D.el("p", "mod-text", c.text);
      text.id = "queued-" + c.id;
      li.appendChild(text);
      var row = D.el("div", "mod-actions");
      var approve = D.el("button", "primary q-approve", t.approve);
      var hide = D.el("button", "q-hide", t.hide);
      [approve, hide].forEach(function (b) {
        b.type = "button";
        b.lang = document.documentElement.lang;
        b.setAttribute("aria-describedby", text.id);
        row.appendChild(b);
      });
      approve.addEventListener("click", function () { act(c, {approved: true}, position); });
      hide.addEventListener("click", function () { act(c, {hidden: true}, position); });
      li.appendChild(row);
      list.appendChild(li);
    });
    if (!queue.length) { list.appendChild(D.el("li", "hint", t.queue_empty)); }
    var box = $("queue-box");
    box.hidden = !state || !state.item || state.item.kind === "info" || (!state.approve_comments && !queue.length);
  }

  document.addEventListener("dialogrum:state", function (event) {
    var st = event.detail;
    if (!socket) { listen(D.console.socket); }
    state = st;
    var live = st.session.status === "live" && !!st.item;
    var id = live ? st.item.id : null;
    if (id !== itemId) { itemId = id; queue = []; }
    showNotes(live ? st.position.index : -1, live);
    drawTimer(st);
    approval.setAttribute("aria-pressed", String(!!st.approve_comments));
    approval.disabled = st.session.status === "ended";
    $("approval-state").textContent = st.approve_comments ? t.approval_on : t.approval_off;
    renderQueue();
  });

  function listen(s) {
    socket = s;
    D.console.pendingLabel = t.pending_label;
    socket.on("comments", function (data) {
      if (data.item_id !== itemId) { return; }
      queue = data.comments.filter(waiting).sort(function (a, b) { return a.id - b.id; });
      renderQueue();
    });
    socket.on("comment", keep);
    socket.on("comment_update", keep);
  }
}());
