/* The shared countdown (issue 11, point 2), for the console and the projector.

   The server says how many seconds were left when it made the state (`timer.remaining`); the page
   counts down from the moment the state arrived, on its own monotonic clock, so a wrong clock on
   the laptop or the projector computer changes nothing. */
(function () {
  "use strict";

  /* 5:00, 0:59, 1:02:03: whole seconds, rounded up so that 0:00 means the time is up. */
  function format(seconds) {
    var s = Math.max(0, Math.ceil(seconds));
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var rest = s % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (rest < 10 ? "0" : "") + rest;
  }

  /* Calls `draw(secondsLeft, timer)` now, and four times a second while the timer runs. */
  function Countdown(draw) {
    var timer = null;
    var receivedAt = 0;
    var tick = null;
    function left() {
      if (!timer) { return 0; }
      if (!timer.running) { return timer.remaining; }
      return Math.max(0, timer.remaining - (window.performance.now() - receivedAt) / 1000);
    }
    function paint() {
      draw(left(), timer);
      if (timer && timer.running && left() <= 0) { window.clearInterval(tick); tick = null; }
    }
    this.update = function (next) {
      timer = next || null;
      receivedAt = window.performance.now();
      window.clearInterval(tick);
      tick = timer && timer.running ? window.setInterval(paint, 250) : null;
      paint();
    };
    this.left = left;
  }

  window.DialogrumTimer = {format: format, Countdown: Countdown};
}());
