// The unit picker of the public registration form: suggestions from the contest's own units as the person types
// (a name without accents is enough). No login needed, unlike the cadres' picker in core/app.js.
document.addEventListener("DOMContentLoaded", function () {
  var source = document.querySelector("[data-contest-unit-suggest]");
  var list = document.getElementById("unit-options");
  var input = document.querySelector("input[data-contest-unit]");
  if (!source || !list || !input) return;
  input.setAttribute("list", "unit-options");
  var timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (q.length < 2 || q.indexOf("—") >= 0) return;
    timer = setTimeout(function () {
      fetch(source.dataset.contestUnitSuggest + "?q=" + encodeURIComponent(q)).then(function (r) {
        return r.ok ? r.text() : "";
      }).then(function (html) { if (html) list.innerHTML = html; });
    }, 250);
  });
});
