// Copies the front-end libraries from node_modules into our own static files (never a CDN).
// Run after changing package.json: `npm ci && npm run vendor`, then commit doanso/core/static/vendor/.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const out = "doanso/core/static/vendor";
const files = {
  "@picocss/pico/css/pico.red.min.css": "pico/pico.min.css",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
  // The digital map (sites): Leaflet, its marker images and clustering.
  "leaflet/dist/leaflet.js": "leaflet/leaflet.js",
  // Source maps: the minified files name them, and collectstatic's manifest refuses a reference it cannot find.
  "leaflet/dist/leaflet.js.map": "leaflet/leaflet.js.map",
  "leaflet/dist/leaflet.css": "leaflet/leaflet.css",
  "leaflet/dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
  "leaflet/dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
  "leaflet/dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
  "leaflet/dist/images/layers.png": "leaflet/images/layers.png",
  "leaflet/dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
  "leaflet.markercluster/dist/leaflet.markercluster.js": "leaflet.markercluster/leaflet.markercluster.js",
  "leaflet.markercluster/dist/leaflet.markercluster.js.map": "leaflet.markercluster/leaflet.markercluster.js.map",
  "leaflet.markercluster/dist/MarkerCluster.css": "leaflet.markercluster/MarkerCluster.css",
  "leaflet.markercluster/dist/MarkerCluster.Default.css": "leaflet.markercluster/MarkerCluster.Default.css",
};
const versions = {};
for (const [src, dst] of Object.entries(files)) {
  const target = join(out, dst);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(join("node_modules", src), target);
  const pkg = src.startsWith("@") ? src.split("/").slice(0, 2).join("/") : src.split("/")[0];
  versions[pkg] = JSON.parse(readFileSync(join("node_modules", pkg, "package.json"))).version;
}
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log("vendored", versions);
