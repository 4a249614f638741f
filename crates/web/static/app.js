// Progressive enhancement only: every form works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Ask before irreversible actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Filter the unit tree as one types: a group stays visible (and unfolds) when it or any unit
  // inside it matches.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.getAttribute("data-filter"));
    if (!list) return;
    input.addEventListener("input", function () {
      var q = input.value.trim();
      var items = list.querySelectorAll("li");
      items.forEach(function (li) {
        li.classList.toggle("match", !q || (li.getAttribute("data-name") || "").indexOf(q) >= 0);
      });
      items.forEach(function (li) {
        var show = li.classList.contains("match") || li.querySelector("li.match") !== null;
        li.style.display = show ? "" : "none";
        var details = li.querySelector(":scope > details");
        if (details && q && show) details.open = true;
      });
    });
  });
});
