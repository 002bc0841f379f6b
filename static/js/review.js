// The review page: "Select all shown" ticks every sample on the page for one signing act, and
// the signing bar says how many are ticked. Without this script each box is ticked by hand.
(function () {
  "use strict";
  var all = document.querySelector("[data-select-all]");

  function picks() {
    return Array.prototype.slice.call(document.querySelectorAll("input.pick"));
  }

  function update() {
    var boxes = picks();
    var ticked = boxes.filter(function (box) { return box.checked; }).length;
    var count = document.querySelector("[data-selected-count]");
    if (count) {
      count.textContent = ticked === 1 ? "1 sample selected." : ticked + " samples selected.";
    }
    if (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    }
  }

  if (all) {
    all.closest("[hidden]").hidden = false;
    all.addEventListener("change", function () {
      picks().forEach(function (box) { box.checked = all.checked; });
      update();
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.classList && event.target.classList.contains("pick")) update();
  });
  // After a signing act the signed samples' cards and the signing bar are replaced.
  document.body.addEventListener("htmx:afterSettle", update);
  update();
})();
