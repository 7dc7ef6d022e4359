// Bundles the code editor into ccm/web/static/editor/ and the analytics charts (uPlot) into
// ccm/web/static/charts/ (run by `npm run build`, which `make editor` calls; `npm run build -- charts` builds
// one). Beside each bundle goes THIRD-PARTY-LICENSES.txt: the licence of every npm package the bundle
// contains, because their MIT licences ask for the notice to travel with the code.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const BUNDLES = {
  editor: join(root, "ccm", "web", "editor", "editor.js"),
  charts: join(root, "ccm", "web", "charts", "charts.js"),
};

/** One bundle (and the CSS its entry imports) into ccm/web/static/<name>/, with its licence notices. */
async function bundle(name, entry) {
  const outdir = join(root, "ccm", "web", "static", name);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    format: "esm",
    minify: true,
    target: "es2020",
    outdir,
    metafile: true,
    logLevel: "info",
  });
  const notices = [...bundledPackages(result.metafile)].sort().map(notice);
  writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), notices.join(`\n${"-".repeat(72)}\n\n`));
  console.log(`  ${notices.length} packages' licences in ccm/web/static/${name}/THIRD-PARTY-LICENSES.txt`);
}

/** The folder of each npm package with a file in the bundle (`node_modules/@scope/name`). */
function bundledPackages(metafile) {
  return new Set(
    Object.keys(metafile.inputs)
      .map((input) => input.match(/^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//))
      .filter(Boolean)
      .map((match) => match[1]),
  );
}

function notice(folder) {
  const manifest = JSON.parse(readFileSync(join(root, folder, "package.json"), "utf8"));
  const licence = readdirSync(join(root, folder)).find((name) => /^licen[cs]e/i.test(name));
  const text = licence ? readFileSync(join(root, folder, licence), "utf8").trim() : manifest.license;
  return `${manifest.name} ${manifest.version}\n\n${text}\n`;
}

const wanted = process.argv.slice(2);
for (const name of wanted.length ? wanted : Object.keys(BUNDLES)) {
  if (!BUNDLES[name]) throw new Error(`no bundle named ${name}; known: ${Object.keys(BUNDLES).join(", ")}`);
  await bundle(name, BUNDLES[name]);
}
