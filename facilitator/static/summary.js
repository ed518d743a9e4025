/* The projector's closing summary, "Samlet refleksion" (issue 11, section 5): while the state says
   `summary`, the section's (or the whole guide's) goal statements, each consideration's result and
   the group's conclusions cover the stage. The server sends the content (`summary` event) with
   every state that shows one. Loaded before projector.js, which hands over its socket. */
(function () {
  "use strict";
  var D = window.Dialogrum;
  var box = document.getElementById("summary");
  if (!box) { return; }
  var cfg = D.config();
  var body = document.getElementById("summary-body");
  var uiLang = box.dataset.uiLang;

  function note(text) {
    var p = D.el("p", "summary-note", text);
    p.lang = uiLang;
    return p;
  }

  function render(data) {
    D.setText("summary-heading", data.title);
    body.textContent = "";
    data.sections.forEach(function (section) {
      var part = D.el("section", "summary-section");
      if (data.section === null) { part.appendChild(D.el("h2", "summary-section-title", section.title)); }
      if (section.statement) { part.appendChild(D.el("p", "proj-statement", section.statement)); }
      var list = D.el("ol", "summary-items");
      section.items.forEach(function (item) {
        var li = D.el("li", "summary-item");
        li.dataset.id = item.id;
        li.appendChild(D.el("p", "summary-item-title", item.title || item.text));
        if (item.reached === false) {
          li.appendChild(note(box.dataset.notReached));
        } else if (item.kind === "consideration") {
          if (item.voted) {
            var result = item.choices.map(function (c) {
              return (cfg.labels[c] || c) + " " + item.percent[c] + " %";
            }).join(" · ");
            var line = D.el("p", "summary-result", result + " (" + D.format(box.dataset.votes, {n: item.voters}) + ")");
            line.lang = uiLang;
            li.appendChild(line);
          } else {
            li.appendChild(note(box.dataset.notVoted));
          }
        }
        if (item.conclusion) {
          li.appendChild(D.el("p", "summary-conclusion", item.conclusion));
        } else if (item.reached !== false) {
          li.appendChild(note(box.dataset.noConclusion));
        }
        list.appendChild(li);
      });
      part.appendChild(list);
      // A section of information slides only, and no conclusion on them: say so rather than show nothing.
      if (!section.items.length) { part.appendChild(note(box.dataset.noConclusion)); }
      body.appendChild(part);
    });
  }

  D.onProjectorSocket = function (socket) {
    socket.on("state", function (st) {
      var shown = st.session.status === "live" && !!st.summary;
      box.hidden = !shown;
      document.body.classList.toggle("has-summary", shown);
    });
    socket.on("summary", render);
  };
}());
