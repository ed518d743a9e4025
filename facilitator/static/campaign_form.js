// The campaign form's helpers: tick every unit of one kind ("All regions") or none. Without
// script the checkboxes work alone, so the buttons stay hidden until this runs.
(function () {
  "use strict";
  var helpers = document.querySelector(".unit-helpers");
  if (!helpers) { return; }
  helpers.hidden = false;
  helpers.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-select-kind]");
    if (!button) { return; }
    var kind = button.getAttribute("data-select-kind");
    document.querySelectorAll('.unit-choices input[name="unit_ids"]').forEach(function (box) {
      if (kind === "") { box.checked = false; }
      else if (box.getAttribute("data-kind") === kind) { box.checked = true; }
    });
  });
}());
