// The scan station at a scanner's speed, keyboard only (docs/lab.md, "The scan station").
//
// A keyboard-wedge scanner types a barcode at 10-20 ms a character, then Enter, and never waits
// for the page. So:
// - The field is read and emptied the instant Enter submits it: the next barcode's characters
//   land in an empty field, and no answer ever clears the field.
// - Lookups go one at a time, in the order scanned. Until the last one is answered the result
//   area holds no card, so an action key cannot act on the tube scanned before. The answer to a
//   scan that a later scan has overtaken is not shown, unless it is an error: that is kept above
//   the last tube's card.
// - An action (Receive, Reject, Add to batch) gives the focus back to the scan field as it is
//   sent. A card's form that htmx has not wired up yet (the instant after a refresh swapped the
//   card in) is sent the same way, never as a page of its own.
// - The message of an action stays until the next scan: the card's refreshes replace the card,
//   never the message area.
// Without this script (or without htmx) the forms work as plain pages.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var result = document.getElementById("scan-result");
  if (!form || !result || !window.htmx) return;
  var field = form.elements.barcode;
  var queue = Promise.resolve();
  var waiting = 0; // scans sent or queued, not answered yet
  var overtaken = []; // errors answered to scans that a later scan overtook

  function isLookup(detail) {
    var config = detail.requestConfig;
    return config && config.verb === "post" && config.path === form.action;
  }

  function flash(text) {
    var line = document.createElement("div");
    line.className = "flash flash-error";
    line.setAttribute("role", "alert");
    line.textContent = text;
    return line;
  }

  function showErrors(texts) {
    var area = document.getElementById("bench-message");
    if (!area || !texts.length) return;
    var lines = document.createDocumentFragment();
    texts.forEach(function (text) {
      lines.appendChild(flash(text));
    });
    area.insertBefore(lines, area.firstChild);
  }

  function errorOf(html, status) {
    var found = new DOMParser().parseFromString(html, "text/html").querySelector(".flash-error");
    return found ? found.textContent.trim() : "A scan was refused (" + status + ").";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var barcode = field.value; // everything typed up to this Enter, and nothing after it
    field.value = "";
    field.focus();
    if (waiting === 0) overtaken = [];
    waiting += 1;
    var area = document.createElement("div");
    area.id = "bench-message";
    area.className = "bench-message";
    area.setAttribute("aria-live", "polite");
    var line = document.createElement("p");
    line.className = "muted";
    line.textContent = "Looking up " + barcode.trim().toUpperCase() + " …";
    area.appendChild(line);
    result.setAttribute("aria-busy", "true");
    result.replaceChildren(area);
    queue = queue.then(function () {
      var answered = function () {
        waiting -= 1;
        if (waiting === 0) result.removeAttribute("aria-busy");
      };
      return htmx
        .ajax("POST", form.action, { target: result, swap: "innerHTML", values: { barcode: barcode } })
        .then(answered, answered);
    });
  });

  document.body.addEventListener("htmx:beforeSwap", function (event) {
    if (!isLookup(event.detail) || waiting < 2) return;
    event.detail.shouldSwap = false; // a later scan waits: its answer is the one to show
    if (event.detail.isError) {
      overtaken.push(errorOf(event.detail.serverResponse, event.detail.xhr.status));
    }
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target === result && waiting === 1) {
      showErrors(overtaken);
      overtaken = [];
    }
  });

  // No answer, or a server error: nothing was swapped in; say so instead of "Looking up".
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!isLookup(event.detail)) return;
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    if (status !== 0 && status < 500) return;
    var problem =
      (status ? "The server failed (" + status + ")" : "No answer from the server") +
      " to a scan: scan the tube again.";
    if (waiting > 1) {
      overtaken.push(problem);
    } else {
      showErrors(overtaken.concat([problem]));
      overtaken = [];
      var looking = document.querySelector("#bench-message p.muted");
      if (looking) looking.remove();
    }
  });

  // An action gives the focus back to the scan field as it is sent.
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.tagName === "FORM" && result.contains(elt)) field.focus();
  });

  // A swap that took the focused element away leaves the focus nowhere: give it to the field.
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!document.activeElement || document.activeElement === document.body) field.focus();
  });

  // A card's form that htmx has not wired up yet: send it as htmx would have.
  result.addEventListener("submit", function (event) {
    if (event.defaultPrevented) return; // htmx is sending it
    var action = event.target;
    var card = action.closest(".sample-card");
    if (!card) return;
    event.preventDefault();
    htmx.ajax("POST", action.action, { source: action, target: card, swap: "outerHTML" });
  });
})();
