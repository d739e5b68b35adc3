// Writes a static export fixture (built client + data/ files) from the mock data: the reference layout
// that `saelab export-static` must produce (see web/README.md). Usage: node e2e/mock/export-static.mjs OUT_DIR
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { featureDetail, makeFeatures, makeRun } from "./data.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "..", "..", "dist");
const out = process.argv[2];
if (!out) throw new Error("usage: export-static.mjs OUT_DIR");

cpSync(dist, out, { recursive: true });
const marker = '<script id="saelab-static" type="application/json">null</script>';
const html = readFileSync(join(out, "index.html"), "utf8");
if (!html.includes(marker)) throw new Error("index.html has no static export marker (rebuild the client)");
writeFileSync(join(out, "index.html"), html.replace(marker, marker.replace("null", JSON.stringify({ format: "saelab-static/1", data: "data/" }))));

const features = makeFeatures();
const data = join(out, "data");
mkdirSync(join(data, "features"), { recursive: true });
writeFileSync(join(data, "run.json"), JSON.stringify(makeRun(features)));
writeFileSync(join(data, "features.json"), JSON.stringify(features));
const search = [];
for (const f of features) {
  const d = featureDetail(f, features);
  writeFileSync(join(data, "features", `${f.index}.json`), JSON.stringify(d));
  search.push({
    index: f.index, label: f.label, grade: f.grade, density: f.density,
    tokens: [...new Set([...d.topExamples.map((e) => e.tokens[e.maxPosition]), ...d.logitLens.top.map((t) => t.token)])],
    examples: d.topExamples.slice(0, 5).map((e) => e.tokens.join("")),
  });
}
writeFileSync(join(data, "search-index.json"), JSON.stringify(search));
console.log(`static export fixture written to ${out} (${features.length} features)`);
