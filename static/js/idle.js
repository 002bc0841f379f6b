// The server ends a session after the idle limit; this returns an unattended bench screen to the
// sign-in page once that limit has passed, so the next person does not see the last one's work.
// Only real user input resets the timer (background polling must not keep a screen alive).
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.dataset.idleSeconds || "", 10);
  var target = body.dataset.idleUrl;
  if (!seconds || !target) return;
  var timer = null;
  function arm() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      window.location.assign(target + "?next=" + encodeURIComponent(window.location.pathname));
    }, (seconds + 5) * 1000);
  }
  ["keydown", "pointerdown", "touchstart", "scroll"].forEach(function (name) {
    window.addEventListener(name, arm, { passive: true });
  });
  arm();
})();
