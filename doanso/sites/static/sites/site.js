// Site page: the "Share…" button uses the phone's own share sheet when it has one; everything else is plain HTML.
(function () {
  var button = document.querySelector("[data-share]");
  if (!button || !navigator.share) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.share({ title: button.dataset.title, url: button.dataset.share }).catch(function () {});
  });
})();
