/* Approve first on the phone (issue 11, point 4): a comment the facilitator must approve is listed
   as "waiting for approval" under the form, then marked approved or hidden when the server says
   so (`comment` reaches every phone once approved; `comment_hidden` when hidden). phone.js tells
   it of each sent comment (`dialogrum:comment-sent`); it takes phone.js's socket then. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var list = document.getElementById("my-pending");
  var mine = {};  // comment id -> its list entry's state line
  var socket = null;

  function mark(id, words) {
    if (mine[id]) { mine[id].textContent = words; delete mine[id]; }
  }

  function listen(s) {
    socket = s;
    socket.on("comment", function (c) { if (c.approved !== false) { mark(c.id, list.dataset.approved); } });
    socket.on("comment_update", function (c) {
      if (c.approved !== false && !c.hidden) { mark(c.id, list.dataset.approved); }
    });
    socket.on("comment_hidden", function (c) { mark(c.id, list.dataset.hidden); });
  }

  document.addEventListener("dialogrum:comment-sent", function (event) {
    var ack = event.detail.ack;
    if (!ack.pending) { return; }
    if (!socket) { listen(D.phone.socket); }
    D.setText("comment-note", list.dataset.sent);
    var li = D.el("li", null, event.detail.text);
    var line = D.el("span", "pending-state", list.dataset.waiting);
    li.appendChild(line);
    mine[ack.id] = line;
    list.insertBefore(li, list.firstChild);
    list.hidden = false;
  });
}());
