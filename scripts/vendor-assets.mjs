// Copies the front-end libraries from node_modules into our own static files (never a CDN).
// Run after changing package.json: `npm ci && npm run vendor`, then commit doanso/core/static/vendor/.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const out = "doanso/core/static/vendor";
const files = {
  "@picocss/pico/css/pico.red.min.css": "pico/pico.min.css",
  "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
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
