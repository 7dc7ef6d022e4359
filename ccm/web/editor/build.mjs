// Bundles the code editor into ccm/web/static/editor/ (run by `npm run build`, which `make editor` calls).
// Beside the bundle goes THIRD-PARTY-LICENSES.txt: the licence of every npm package the bundle contains,
// because their MIT licences ask for the notice to travel with the code.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const outdir = join(root, "ccm", "web", "static", "editor");

const result = await build({
  entryPoints: [join(root, "ccm", "web", "editor", "editor.js")],
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2020",
  outdir,
  metafile: true,
  logLevel: "info",
});

/** The folder of each npm package with a file in the bundle (`node_modules/@scope/name`). */
const packages = new Set(
  Object.keys(result.metafile.inputs)
    .map((input) => input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//))
    .filter(Boolean)
    .map((match) => match[1]),
);

const notices = [...packages].sort().map((folder) => {
  const manifest = JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8"));
  const licence = readdirSync(join(root, folder)).find((name) => /^licen[cs]e/i.test(name));
  const text = licence ? readFileSync(join(root, folder, licence), "utf8").trim() : manifest.license;
  return `${manifest.name} ${manifest.version}\n\n${text}\n`;
});
writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), notices.join(`\n${"-".repeat(72)}\n\n`));
console.log(`  ${packages.size} packages' licences in ccm/web/static/editor/THIRD-PARTY-LICENSES.txt`);
