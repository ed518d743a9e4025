/* The phone's "others' ideas" (issue 11, section 3): on an open question, the comments the room
   sees, each with a thumbs-up toggle (not on one's own). The server checks every rule; this only
   shows what it says. Loaded before phone.js, which hands over its socket (D.onPhoneSocket). */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var box = document.getElementById("ideas");
  if (!box) { return; }
  var list = document.getElementById("ideas-list");
  var errors = D.config().errors;
  var notSaved = D.config().text.not_saved;
  var itemId = null;
  var comments = [];
  var byLikes = false;
  var mine = {};  // ids of this phone's own comments, told by phone.js when its ack comes
  var pending = {};  // ids of comments whose thumbs-up is on its way to the server

  /* phone.js: this comment is the phone's own (it may arrive before or after the room's copy). */
  D.markMine = function (id) {
    mine[id] = true;
    var known = find(id);
    if (known) { known.mine = true; render(); }
  };

  /* "Synes godt om: Flere pauser i …": the first words name the button. */
  function label(text) {
    var words = text.split(/\s+/).slice(0, 6).join(" ");
    return D.format(box.dataset.like, {text: words + (words.length < text.length ? " …" : "")});
  }

  function render() {
    // The list is drawn again when counts change: keep the keyboard focus on the same idea's button.
    var active = document.activeElement;
    var focusId = active && list.contains(active) && active.closest("li") ? active.closest("li").dataset.id : null;
    list.textContent = "";
    box.hidden = !itemId || !comments.length;
    D.sortComments(comments, byLikes).forEach(function (c) {
      var li = D.el("li", "idea");
      li.dataset.id = c.id;
      li.appendChild(D.el("p", "idea-text", c.text));
      if (c.mine) {
        var own = D.el("span", "hint idea-own", box.dataset.own + " · ");
        own.appendChild(D.thumb());
        own.appendChild(D.el("span", "like-count", String(c.likes || 0)));
        li.appendChild(own);
      } else {
        var button = D.el("button", "like");
        button.type = "button";
        button.setAttribute("aria-pressed", String(!!c.liked_by_me));
        button.setAttribute("aria-label", label(c.text));
        button.appendChild(D.thumb());
        button.appendChild(D.el("span", "like-count", String(c.likes || 0)));
        button.addEventListener("click", function () { toggle(c); });
        li.appendChild(button);
      }
      list.appendChild(li);
    });
    var again = focusId && list.querySelector('li[data-id="' + focusId + '"] button.like');
    if (again) { again.focus(); }
  }

  function find(id) { return comments.filter(function (c) { return c.id === id; })[0]; }

  D.onPhoneSocket = function (socket) {
    function load() {
      socket.timeout(10000).emit("comments", {}, function (err, ack) {
        if (err || !ack || !ack.ok || ack.item_id !== itemId) { return; }
        comments = ack.comments;
        comments.forEach(function (c) { if (mine[c.id]) { c.mine = true; } });
        render();
      });
    }

    toggle = function (c) {
      // A second tap while the first is on its way is ignored (not disabled: that would drop the focus).
      if (pending[c.id]) { return; }
      pending[c.id] = true;
      var liked = !c.liked_by_me;
      socket.timeout(10000).emit("like", {comment_id: c.id, liked: liked}, function (err, ack) {
        delete pending[c.id];
        if (err || !ack || !ack.ok) {
          D.setText("ideas-note", err ? notSaved : (errors[ack && ack.error] || notSaved));
          return;
        }
        D.setText("ideas-note", "");
        c.liked_by_me = ack.liked;
        c.likes = ack.likes;
        render();
      });
    };

    // Back after a lost connection: what was said meanwhile is not replayed, so ask again.
    socket.on("connect", function () { if (itemId) { load(); } });
    socket.on("state", function (st) {
      var now = st.session.status === "live" && st.item && st.item.kind === "prompt" ? st.item.id : null;
      byLikes = st.comment_order === "likes";
      if (now !== itemId) {
        itemId = now;
        comments = [];
        D.setText("ideas-note", "");
        if (now) { load(); }
      }
      render();
    });
    socket.on("comment", function (c) {
      if (c.item_id !== itemId || c.hidden || find(c.id)) { return; }
      // The phone's own new comment comes back too: it has no thumbs-up of its own.
      comments.push(Object.assign({likes: 0, liked_by_me: false, mine: !!mine[c.id]}, c));
      render();
    });
    socket.on("comment_update", function (c) {
      var known = find(c.id);
      if (known) { known.pinned = c.pinned; render(); } else if (c.item_id === itemId && !c.hidden) { load(); }
    });
    socket.on("comment_hidden", function (data) {
      comments = comments.filter(function (c) { return c.id !== data.id; });
      render();
    });
    socket.on("likes", function (data) {
      if (data.item_id !== itemId) { return; }
      comments.forEach(function (c) { c.likes = data.likes[String(c.id)] || 0; });
      render();
    });
  };
  var toggle = function () {};
}());
