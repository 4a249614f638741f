// Progressive enhancement only: every form works without this file.
document.addEventListener("DOMContentLoaded", function () {
  // Ask before irreversible actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Filter the unit tree as one types.
  document.querySelectorAll("input[data-filter]").forEach(function (input) {
    var list = document.querySelector(input.getAttribute("data-filter"));
    if (!list) return;
    input.addEventListener("input", function () {
      var q = input.value.trim();
      list.querySelectorAll("li").forEach(function (li) {
        li.style.display = !q || (li.getAttribute("data-name") || "").indexOf(q) >= 0 ? "" : "none";
      });
    });
  });
});
