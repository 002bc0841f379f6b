// Signs an unattended screen out once the idle limit has passed without user input, so the next
// person at the bench does not see the last one's work (COMPLIANCE.md C14).
//
// Only real input counts: keys, pointer, touch and the mouse wheel (not scroll events, which a
// fragment swapped in by a poll can cause). Background polls never count, here or on the server,
// where the session ends IDLE_LOGOUT_SECONDS after the last request the user made. Input that
// makes no request (typing, reading) is reported to the server (POST to the activity URL) often
// enough that the server never ends the session of someone at work. The screen signs itself out
// a little before the server would, by POST to the sign-out view, which lands on the sign-in page
// saying why. Input in another tab of the same browser counts too (the tabs share one session).
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.dataset.idleSeconds || "", 10);
  var signOutUrl = body.dataset.idleSignOutUrl;
  var activityUrl = body.dataset.idleActivityUrl;
  if (!seconds || !signOutUrl || !activityUrl) return;

  var limit = seconds * 1000;
  var margin = Math.min(2000, limit / 4); // sign out this long before the server's end
  var reportEvery = Math.min(60000, limit / 4); // report unseen input at most this often
  var STORE = "labtrack.idle";
  // The page itself was a request of the user's: it counts as input and as reported.
  var lastInput = Date.now();
  var lastReport = lastInput;
  var done = false;

  function catchUp() {
    try {
      var other = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      lastInput = Math.max(lastInput, Number(other.input) || 0);
      lastReport = Math.max(lastReport, Number(other.report) || 0);
    } catch (e) {
      // No storage (private mode, disabled): this tab counts on its own.
    }
  }

  function share() {
    catchUp();
    try {
      window.localStorage.setItem(STORE, JSON.stringify({ input: lastInput, report: lastReport }));
    } catch (e) {
      // As above.
    }
  }

  // The CSRF cookie holds the current token even if another tab has signed in since this page
  // was served (signing in changes it); the page's own token is the fallback.
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    try {
      return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function signOut() {
    if (done) return;
    done = true;
    var form = document.createElement("form");
    form.method = "post";
    form.action = signOutUrl;
    form.hidden = true;
    [
      ["csrfmiddlewaretoken", csrfToken()],
      ["reason", "idle"],
      ["next", window.location.pathname + window.location.search],
    ].forEach(function (pair) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = pair[0];
      input.value = pair[1];
      form.appendChild(input);
    });
    body.appendChild(form);
    form.submit();
  }

  function report() {
    lastReport = Date.now();
    share();
    window
      .fetch(activityUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken() },
      })
      .then(function (response) {
        if (response.status === 401) signOut(); // the server's session has already ended
      })
      .catch(function () {
        // Offline: the server's own limit still applies.
      });
  }

  function onInput(event) {
    if (done || !event.isTrusted) return;
    lastInput = Date.now();
    if (lastInput - lastReport >= reportEvery) report();
    else share();
  }

  function check() {
    if (done) return;
    catchUp();
    var now = Date.now();
    if (now - lastInput >= limit - margin) signOut();
    else if (lastInput > lastReport && now - lastReport >= reportEvery) report();
  }

  ["keydown", "pointerdown", "touchstart", "wheel"].forEach(function (name) {
    window.addEventListener(name, onInput, { passive: true, capture: true });
  });
  document.addEventListener("visibilitychange", check);
  share();
  window.setInterval(check, 1000);
})();
