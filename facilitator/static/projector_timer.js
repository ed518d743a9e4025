/* The projector's countdown (issue 11, point 2): shown large while the facilitator shows it; at 0
   it says so in words, without sound or flashing. Follows the states projector.js renders. */
(function () {
  "use strict";
  var T = window.DialogrumTimer;
  var box = document.getElementById("p-timer");
  var countdown = new T.Countdown(function (left) {
    var up = left <= 0;
    var text = up ? box.dataset.upText : T.format(left);
    if (box.textContent !== text) { box.textContent = text; }
    box.dataset.state = up ? "up" : "counting";
  });
  document.addEventListener("dialogrum:state", function (event) {
    var st = event.detail;
    var shown = !!(st.timer && st.timer.visible && st.session.status === "live" && st.item);
    box.hidden = !shown;
    countdown.update(shown ? st.timer : null);
  });
}());
