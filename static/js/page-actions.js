// Small page behaviours that would otherwise be inline handlers, which the Content-Security-Policy
// forbids (script-src 'self': no onclick=, no hx-on, no <script> without src).
//
// - [data-print]: a button that prints the page (the label page).
// - form[data-confirm]: asks before submitting, with the attribute's text (revoking a token).
// - [data-load-failed], [data-load-unanswered]: on an element that htmx loads into, the text to
//   put in its .loading paragraph when the server answers an error ({status} is replaced) or
//   does not answer at all (the dashboard's period figures).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  });

  function sayLoadFailed(element, text) {
    var loading = element.querySelector(".loading");
    if (loading && text) loading.textContent = text;
  }

  document.addEventListener("htmx:responseError", function (event) {
    var element = event.detail.elt;
    var text = element.getAttribute("data-load-failed");
    if (text) sayLoadFailed(element, text.replace("{status}", event.detail.xhr.status));
  });

  document.addEventListener("htmx:sendError", function (event) {
    var element = event.detail.elt;
    sayLoadFailed(element, element.getAttribute("data-load-unanswered"));
  });
})();
