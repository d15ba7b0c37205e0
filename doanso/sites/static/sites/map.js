// The map of sites: Leaflet with clustering over the GeoJSON of the published sites. The list under the map is
// the page's content without JavaScript; the map only adds to it. When the tile server cannot be reached the
// markers stay on a plain background and a note says why.
(function () {
  var box = document.getElementById("map");
  if (!box || !window.L) return;
  box.hidden = false;
  var note = document.getElementById("map-note");
  var map = L.map(box, { preferCanvas: false }).setView([15.9, 107.9], 8);
  var tiles = L.tileLayer(box.dataset.tiles, { maxZoom: 18, attribution: box.dataset.attribution });
  var failures = 0;
  tiles.on("tileerror", function () {
    failures += 1;
    if (failures === 1) {
      note.textContent = box.dataset.tilesFailed;
      note.hidden = false;
      box.classList.add("no-tiles");
    }
  });
  tiles.addTo(map);
  var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 50 });
  var byCode = {};
  var params = new URLSearchParams();
  if (box.dataset.kind) params.set("kind", box.dataset.kind);
  if (box.dataset.commune) params.set("commune", box.dataset.commune);
  fetch(box.dataset.geojson + (params.toString() ? "?" + params : ""), { headers: { Accept: "application/geo+json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        onEachFeature: function (feature, marker) {
          var p = feature.properties;
          var popup = document.createElement("div");
          var title = document.createElement("strong");
          title.textContent = p.name;
          var kind = document.createElement("div");
          kind.textContent = p.label + (p.marker ? " " + p.marker : "") + (p.commune ? " · " + p.commune : "");
          var link = document.createElement("a");
          link.href = p.url;
          link.textContent = box.dataset.open;
          popup.append(title, kind, link);
          marker.bindPopup(popup);
          marker.options.title = p.name;
          byCode[p.code] = marker;
        },
      });
      cluster.addLayers(layer.getLayers());
      map.addLayer(cluster);
      box.dataset.count = String(layer.getLayers().length);
      var focus = byCode[box.dataset.focus];
      if (focus) {
        cluster.zoomToShowLayer(focus, function () { focus.openPopup(); });
      } else if (layer.getLayers().length) {
        map.fitBounds(layer.getBounds(), { padding: [20, 20], maxZoom: 14 });
      }
      box.dataset.ready = "1";
    });

  // "Near me": on request only (the browser asks the visitor); sorts the list by distance and centres the map.
  var near = document.getElementById("near-me");
  if (near && navigator.geolocation) {
    near.hidden = false;
    near.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        var here = L.latLng(pos.coords.latitude, pos.coords.longitude);
        map.setView(here, 12);
        L.circleMarker(here, { radius: 8 }).addTo(map);
        var list = document.getElementById("site-list");
        var items = Array.prototype.slice.call(list.querySelectorAll("li[data-lat]"));
        items.forEach(function (li) {
          var d = here.distanceTo(L.latLng(+li.dataset.lat, +li.dataset.lon)) / 1000;
          li.dataset.distance = d;
          li.querySelector(".distance").textContent = "· " + d.toFixed(1) + " " + box.dataset.km;
        });
        items.sort(function (a, b) { return a.dataset.distance - b.dataset.distance; });
        items.forEach(function (li) { list.appendChild(li); });
      }, function () {
        note.textContent = box.dataset.nearFailed;
        note.hidden = false;
      }, { timeout: 10000 });
    });
  }
})();
