// The workbench's browser code: keyboard shortcuts and histogram tooltips. No inline scripts
// anywhere (the Content-Security-Policy forbids them); live tail is plain htmx polling.
(function () {
  "use strict";

  function typing(target) {
    if (!(target instanceof HTMLElement)) {
      return false;
    }
    var tag = target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-wb-row]"));
  }

  function moveRow(step) {
    var all = rows();
    if (!all.length) {
      return;
    }
    var current = all.indexOf(document.activeElement);
    var next = current === -1 ? (step > 0 ? 0 : all.length - 1) : current + step;
    next = Math.max(0, Math.min(all.length - 1, next));
    all.forEach(function (row) { row.classList.remove("wb-row--active"); });
    all[next].classList.add("wb-row--active");
    all[next].focus();
  }

  // "/" focuses the query, j/k move between result rows, o opens the focused row's JSON.
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var query = document.querySelector("[data-wb-query]");
    if (event.key === "/" && query instanceof HTMLInputElement) {
      event.preventDefault();
      query.focus();
      query.select();
    } else if (event.key === "j") {
      moveRow(1);
    } else if (event.key === "k") {
      moveRow(-1);
    } else if (event.key === "o" && document.activeElement && document.activeElement.matches("[data-wb-row]")) {
      var details = document.activeElement.querySelector("details");
      if (details) {
        details.open = !details.open;
      }
    }
  });

  // Histogram tooltips: the bar's own <title> text, shown next to the pointer.
  document.addEventListener("mouseover", function (event) {
    var bar = event.target;
    if (!(bar instanceof SVGElement) || !bar.hasAttribute("data-tip")) {
      return;
    }
    var figure = bar.closest(".wb-chart");
    var tip = figure && figure.querySelector(".wb-tooltip");
    if (!tip) {
      return;
    }
    tip.textContent = bar.getAttribute("data-tip");
    var box = figure.getBoundingClientRect();
    tip.hidden = false;
    tip.classList.add("wb-tooltip--shown");
    tip.dataset.x = String(event.clientX - box.left);
    // Position via CSS custom properties set through the CSSOM (allowed by the CSP, unlike style="").
    tip.style.setProperty("--wb-tip-x", (event.clientX - box.left + 12) + "px");
    tip.style.setProperty("--wb-tip-y", (event.clientY - box.top + 12) + "px");
  });
  document.addEventListener("mouseout", function (event) {
    var bar = event.target;
    if (bar instanceof SVGElement && bar.hasAttribute("data-tip")) {
      var figure = bar.closest(".wb-chart");
      var tip = figure && figure.querySelector(".wb-tooltip");
      if (tip) {
        tip.hidden = true;
      }
    }
  });
})();
