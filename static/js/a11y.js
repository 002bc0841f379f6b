// Keyboard and screen-reader help that every page shares.
//
// 1. A table too wide for the screen scrolls inside its .table-wrap: such a wrap becomes a named,
//    focusable region (tabindex="0", role="region", aria-label from the table's caption or the
//    heading before it), so that it can be scrolled with the keyboard. Checked on load, after
//    every htmx swap and when the window is resized.
// 2. Polled parts of a page are not live regions (re-rendered every few seconds, they would be
//    read out again and again). Instead each carries data-announce, a short text of what matters
//    (a state, a status); when it changes, the text is put into the page's one stable live region,
//    #announcer, and read out once.
(function () {
  "use strict";

  function labelFor(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption) return caption.textContent.trim();
    var node = wrap;
    while (node) {
      var previous = node.previousElementSibling;
      while (previous) {
        if (/^H[1-6]$/.test(previous.tagName)) return previous.textContent.trim();
        var inner = previous.querySelectorAll("h1, h2, h3, h4, h5, h6");
        if (inner.length) return inner[inner.length - 1].textContent.trim();
        previous = previous.previousElementSibling;
      }
      node = node.parentElement;
    }
    return "Table";
  }

  function markScrollRegions(root) {
    var wraps = (root || document).querySelectorAll(".table-wrap");
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) {
          wrap.setAttribute("aria-label", labelFor(wrap) + " (scrolls sideways)");
        }
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    }
  }

  var announced = {};

  function remember(speak) {
    var parts = [];
    var found = document.querySelectorAll("[data-announce]");
    for (var i = 0; i < found.length; i++) {
      var key = found[i].id || "page";
      var text = found[i].getAttribute("data-announce").trim();
      if (text && announced[key] !== text) parts.push(text);
      announced[key] = text;
    }
    var region = document.getElementById("announcer");
    if (speak && region && parts.length) region.textContent = parts.join(". ");
  }

  function ready() {
    markScrollRegions(document);
    remember(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  window.addEventListener("resize", function () { markScrollRegions(document); });
  document.addEventListener("htmx:afterSettle", function () {
    markScrollRegions(document);
    remember(true);
  });
})();
