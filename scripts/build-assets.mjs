// Copy the built front-end files Backline serves from node_modules into the app's static folder.
//
// Run after `npm ci`:  node scripts/build-assets.mjs
// Output: src/backline/web/static/vendor/ (gitignored). Nothing is fetched here: npm ci already
// installed the exact versions pinned in package-lock.json.
//
// USWDS's stylesheet refers to its fonts and images as ../fonts and ../img, so the css, fonts and
// img folders keep their relative layout under vendor/uswds/. Source maps are copied too because
// Django's manifest storage follows sourceMappingURL comments and fails on a missing file.

import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const modules = join(root, "node_modules");
const vendor = join(root, "src", "backline", "web", "static", "vendor");

const uswds = join(modules, "@uswds", "uswds", "dist");
const copies = [
  [join(uswds, "css", "uswds.min.css"), join(vendor, "uswds", "css", "uswds.min.css")],
  [join(uswds, "css", "uswds.min.css.map"), join(vendor, "uswds", "css", "uswds.min.css.map")],
  [join(uswds, "js", "uswds.min.js"), join(vendor, "uswds", "js", "uswds.min.js")],
  [join(uswds, "js", "uswds.min.js.map"), join(vendor, "uswds", "js", "uswds.min.js.map")],
  [join(uswds, "js", "uswds-init.min.js"), join(vendor, "uswds", "js", "uswds-init.min.js")],
  [join(uswds, "js", "uswds-init.min.js.map"), join(vendor, "uswds", "js", "uswds-init.min.js.map")],
  [join(uswds, "fonts"), join(vendor, "uswds", "fonts")],
  [join(uswds, "img"), join(vendor, "uswds", "img")],
  [join(modules, "htmx.org", "dist", "htmx.min.js"), join(vendor, "htmx", "htmx.min.js")],
];

const missing = copies.filter(([from]) => !existsSync(from)).map(([from]) => from);
if (missing.length > 0) {
  console.error("build-assets: missing in node_modules (run `npm ci` first):");
  for (const path of missing) console.error(`  ${path}`);
  process.exit(1);
}

// Start clean so a file dropped by a newer package version does not linger.
rmSync(vendor, { recursive: true, force: true });
for (const [from, to] of copies) {
  mkdirSync(dirname(to), { recursive: true });
  cpSync(from, to, { recursive: true });
}
writeFileSync(join(vendor, ".built"), `${new Date().toISOString()}\n`);
console.log(`build-assets: ${copies.length} items copied to ${vendor}`);
