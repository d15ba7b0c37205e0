// Small behaviours that the server-rendered pages share. No framework: htmx does the requests.
// The navigation menu is a <details>: a ☰ button on a phone, always open as a row of links on a wide screen
// (CSS shows it there too, through ::details-content; this covers browsers without that).
const wideScreen = window.matchMedia("(min-width: 1200px)");
function syncMenu() {
  const menu = document.querySelector("details.nav-menu");
  if (menu) menu.open = wideScreen.matches;
}
document.addEventListener("DOMContentLoaded", syncMenu);
wideScreen.addEventListener("change", syncMenu);
document.addEventListener("click", (event) => {
  // On a phone, close the menu when clicking outside it.
  const menu = document.querySelector("details.nav-menu[open]");
  if (menu && !wideScreen.matches && !menu.contains(event.target)) menu.open = false;
});
document.addEventListener("keydown", (event) => {
  // Escape closes the phone menu and gives the focus back to its button.
  const menu = document.querySelector("details.nav-menu[open]");
  if (event.key !== "Escape" || !menu || wideScreen.matches) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});
document.addEventListener("submit", (event) => {
  // A double click must not send a form twice: disable its buttons until the page changes.
  const form = event.target;
  if (form.matches("[data-once]")) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    form.querySelectorAll("button[type=submit]").forEach((b) => b.setAttribute("aria-busy", "true"));
  }
});

// Pickers: a text input with data-unit-picker / data-division-picker gets suggestions as the user types
// (a name without accents is enough); the server answers <option> elements for a <datalist>.
function setupPicker(input, listId, urlKey) {
  const source = document.querySelector("[data-unit-suggest]");
  const list = document.getElementById(listId);
  if (!source || !list) return;
  input.setAttribute("list", listId);
  let timer;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2 || q.includes("—")) return;
    timer = setTimeout(async () => {
      const url = source.dataset[urlKey] + "?q=" + encodeURIComponent(q);
      const response = await fetch(url, { headers: { "HX-Request": "true" } });
      if (response.ok) list.innerHTML = await response.text();
    }, 250);
  });
}
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("input[data-unit-picker]").forEach((i) => setupPicker(i, "unit-options", "unitSuggest"));
  document.querySelectorAll("input[data-division-picker]").forEach((i) => setupPicker(i, "division-options", "divisionSuggest"));
});
// Tree toggles: the first click loads children through htmx; later clicks only show or hide them.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-tree-toggle]");
  if (!button) return;
  const target = document.getElementById(button.getAttribute("aria-controls"));
  const expanded = button.getAttribute("aria-expanded") === "true";
  if (button.hasAttribute("hx-get") && !button.dataset.loaded) {
    button.dataset.loaded = "1";
  } else if (target) {
    target.hidden = expanded;
  }
  button.setAttribute("aria-expanded", expanded ? "false" : "true");
  button.textContent = expanded ? "+" : "−";
});
