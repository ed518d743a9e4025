/* Dialogrum: small helpers shared by the phone, the projector and the console.
   Text from people (items, comments) only ever goes into the page through textContent. */
(function () {
  "use strict";

  var CHOICES = ["yes", "no", "unsure"];

  function config() {
    var node = document.getElementById("config");
    return node ? JSON.parse(node.textContent) : {};
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function setText(id, text) {
    var node = typeof id === "string" ? document.getElementById(id) : id;
    if (node) { node.textContent = text || ""; node.hidden = !text; }
    return node;
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_m, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }

  /* One of a text's two forms ([singular, plural], from the server's catalogue) for the number n:
     Swedish, Danish and English all use the singular for 1 only. A plain string is returned as is. */
  function plural(forms, n) {
    if (!Array.isArray(forms)) { return forms; }
    return Number(n) === 1 ? forms[0] : forms[1];
  }

  /* Whole percent rounded half up in integer arithmetic, as shared/numbers.py rounds: 5 of 8 is
     63 %, and no float tie (29 of 200) rounds differently from the server's pages. */
  function wholePercent(part, whole) {
    return whole > 0 ? Math.floor((200 * part + whole) / (2 * whole)) : 0;
  }

  function percent(part, whole, lang) {
    var value = wholePercent(part, whole);
    try {
      return new Intl.NumberFormat(lang || document.documentElement.lang, {style: "percent", maximumFractionDigits: 0})
        .format(value / 100);
    } catch (_e) {
      return value + " %";
    }
  }

  /* Render vote bars into a list: one row per allowed choice, with count and percentage. */
  function renderBars(list, counts, choices, labels, lang) {
    var allowed = (choices && choices.length) ? choices : CHOICES.slice(0, 2);
    var total = 0;
    allowed.forEach(function (c) { total += (counts && counts[c]) || 0; });
    while (list.firstChild) { list.removeChild(list.firstChild); }
    allowed.forEach(function (c) {
      var n = (counts && counts[c]) || 0;
      var row = el("li", "bar bar-" + c);
      var label = el("span", "bar-label", labels[c] || c);
      label.lang = lang || "";
      var track = el("span", "bar-track");
      var fill = el("span", "bar-fill");
      fill.style.width = (total > 0 ? (100 * n / total) : 0).toFixed(1) + "%";
      track.appendChild(fill);
      var figure = el("span", "bar-figure", n + " · " + percent(n, total));
      row.appendChild(label);
      row.appendChild(track);
      row.appendChild(figure);
      list.appendChild(row);
    });
    return total;
  }

  /* Comments: pinned first, then newest first (by time, then id). */
  /* Pinned first, then (with byLikes: the "top ideas" order) the most thumbs-up, then newest. */
  function sortComments(list, byLikes) {
    return list.sort(function (a, b) {
      if (!!a.pinned !== !!b.pinned) { return a.pinned ? -1 : 1; }
      if (byLikes && (a.likes || 0) !== (b.likes || 0)) { return (b.likes || 0) - (a.likes || 0); }
      if (a.created_at !== b.created_at) { return a.created_at < b.created_at ? 1 : -1; }
      return b.id - a.id;
    });
  }

  /* A thumbs-up icon (issue 11, section 3) drawn as SVG, not an emoji: a projector's or an old
     phone's fonts may have no emoji. Decorative: the text next to it carries the meaning. */
  function thumb() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "thumb");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06" +
      "L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23" +
      ".14-.47.14-.73v-2z");
    path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  /* Is the keyboard focus in a place where typed keys belong to the field? */
  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !/^(button|submit|reset|checkbox|radio)$/i.test(target.type));
  }

  /* Page buttons that need a script (CSP: no inline handlers): print, copy a field. */
  function wireButtons() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var note = document.getElementById(button.getAttribute("data-copy") + "-note");
      button.addEventListener("click", function () {
        if (!field) { return; }
        field.focus();
        field.select();
        var done = function () { if (note) { note.textContent = button.getAttribute("data-copied") || ""; } };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (document.execCommand("copy")) { done(); }
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wireButtons);
  } else {
    wireButtons();
  }

  window.Dialogrum = {
    CHOICES: CHOICES, config: config, el: el, setText: setText, format: format, plural: plural, percent: percent, wholePercent: wholePercent,
    renderBars: renderBars, sortComments: sortComments, typing: typing, thumb: thumb
  };
}());
