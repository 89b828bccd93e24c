/* mkdocs-compliant-gallery: turns a side-by-side pair marked data-cg-layout="slider" into a before/after
   slider. A native range input (keyboard, touch and screen readers for free) sets one custom property;
   the CSS clips the before photo with it. Without this script the pair stays side by side, and a
   gallery stays one full list. */
(function () {
  "use strict";
  function upgrade(figure) {
    var stack = figure.querySelector(".cg-pair__images");
    if (!stack || figure.classList.contains("cg-pair--slider")) return;
    var input = document.createElement("input");
    var handle = document.createElement("span");
    input.type = "range";
    input.min = "0";
    input.max = "100";
    input.value = "50";
    input.className = "cg-slider__range";
    input.setAttribute("aria-label", figure.getAttribute("data-cg-label") || "Before and after");
    handle.className = "cg-slider__handle";
    handle.setAttribute("aria-hidden", "true");
    function update() {
      stack.style.setProperty("--cg-position", input.value + "%");
      input.setAttribute("aria-valuetext", input.value + "% before");
    }
    // iOS VoiceOver adjusts a range with "change" only.
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    stack.appendChild(input);
    stack.appendChild(handle);
    figure.classList.add("cg-pair--slider");
    update();
  }
  // Treatment filter over a list marked data-cg-filter: toggle buttons (aria-pressed) and a status line.
  function filter(list) {
    if (list.getAttribute("data-cg-filtered")) return;
    list.setAttribute("data-cg-filtered", "1");
    var items = list.querySelectorAll(".cg-gallery__item"), keys = [], titles = {}, buttons = [], i;
    for (i = 0; i < items.length; i++) {
      var key = items[i].getAttribute("data-cg-treatment");
      if (!(key in titles)) keys.push(key);
      titles[key] = items[i].getAttribute("data-cg-treatment-title");
    }
    var bar = document.createElement("div"), status = document.createElement("p");
    bar.className = "cg-filter";
    bar.setAttribute("role", "group");
    bar.setAttribute("aria-label", "Show results for");
    status.className = "cg-filter__status";
    status.setAttribute("role", "status");
    function show(key) {
      var shown = 0;
      for (var j = 0; j < items.length; j++) {
        items[j].hidden = key !== "" && items[j].getAttribute("data-cg-treatment") !== key;
        if (!items[j].hidden) shown++;
      }
      for (j = 0; j < buttons.length; j++) buttons[j].setAttribute("aria-pressed", String(buttons[j].value === key));
      status.textContent = "Showing " + shown + " of " + items.length + " results";
    }
    [""].concat(keys).forEach(function (key) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "cg-filter__button";
      button.value = key;
      button.textContent = key ? titles[key] : "All treatments";
      button.addEventListener("click", function () { show(key); });
      bar.appendChild(button);
      buttons.push(button);
    });
    list.parentNode.insertBefore(bar, list);
    list.parentNode.insertBefore(status, list);
    show("");
  }
  function init() {
    var figures = document.querySelectorAll('figure[data-cg-layout="slider"]'), lists = document.querySelectorAll(".cg-gallery[data-cg-filter]");
    for (var i = 0; i < figures.length; i++) upgrade(figures[i]);
    for (i = 0; i < lists.length; i++) filter(lists[i]);
  }
  // Material's instant navigation swaps the page without reloading scripts: it announces each page on document$.
  if (window.document$ && typeof window.document$.subscribe === "function") window.document$.subscribe(init);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
