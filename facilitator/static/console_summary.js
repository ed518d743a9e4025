/* The console's top ideas, closing summary and minutes (issue 11, sections 3 and 5): a toggle that
   orders an open question's comments by thumbs-up on the console and the projector, "show the
   summary" at the end of a section and of the guide, and "copy the conclusions" as plain text for
   the minutes, with a visible text field when the clipboard cannot be used (plain http on a LAN is
   no secure context). Loaded before console.js, which hands over its socket and control. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var $ = function (id) { return document.getElementById(id); };
  var order = $("btn-order");
  if (!order) { return; }
  var cfg = D.config();
  var items = JSON.parse($("minutes-items").textContent);
  var conclusions = Object.assign({}, cfg.conclusions || {});
  var state = null;
  var copy = $("btn-copy");

  /* Numbered conclusions under their section's title, in guide order. */
  function minutes() {
    var lines = [];
    var section = null;
    var n = 0;
    items.forEach(function (it) {
      var text = (conclusions[it.id] || "").trim();
      if (!text) { return; }
      if (it.section !== section) {
        if (lines.length) { lines.push(""); }
        lines.push(it.section_title);
        section = it.section;
      }
      n += 1;
      lines.push(n + ". " + it.title);
      text.split("\n").forEach(function (line) { lines.push("   " + line); });
    });
    return lines.join("\n");
  }

  function fallback(text) {
    var field = $("copy-text");
    field.value = text;
    $("copy-fallback").hidden = false;
    D.setText("copy-note", copy.dataset.select);
    field.focus();
    field.select();
  }

  copy.addEventListener("click", function () {
    var text = minutes();
    if (!text) { D.setText("copy-note", copy.dataset.none); $("copy-fallback").hidden = true; return; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () {
        $("copy-fallback").hidden = true;
        D.setText("copy-note", copy.dataset.copied);
      }, function () { fallback(text); });
    } else {
      fallback(text);
    }
  });

  function render(st) {
    state = st;
    var live = st.session.status === "live" && !!st.item;
    var byLikes = st.comment_order === "likes";
    order.disabled = !live;
    order.setAttribute("aria-pressed", String(byLikes));
    var index = st.position.index;
    var here = live ? items[index] : null;
    var next = live ? items[index + 1] : null;
    var shown = live && !!st.summary;
    // Offered where a summary belongs: on a section's last item, and on the guide's last item.
    $("btn-summary-section").hidden = !here || (next && next.section === here.section) ||
      (shown && st.summary.section === here.section);
    $("btn-summary-guide").hidden = !here || !!next || (shown && st.summary.section === null);
    $("btn-summary-hide").hidden = !shown;
  }

  D.onConsoleSocket = function (socket, control) {
    socket.on("state", render);
    socket.on("conclusion", function (c) { conclusions[c.item_id] = c.text; });
    order.addEventListener("click", function () {
      if (state) { control(state.comment_order === "likes" ? "sort_comments_by_time" : "sort_comments_by_likes"); }
    });
    $("btn-summary-section").addEventListener("click", function () {
      if (state && state.item) { control("show_summary", state.item.section.index); }
    });
    $("btn-summary-guide").addEventListener("click", function () { control("show_summary"); });
    $("btn-summary-hide").addEventListener("click", function () { control("hide_summary"); });
  };
}());
