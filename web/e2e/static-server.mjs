// A plain static file server (no SPA fallback, no API) for the static-export test. Usage: static-server.mjs DIR PORT
import { existsSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";

const [dir, port] = process.argv.slice(2);
const MIME = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".json": "application/json" };
createServer((req, res) => {
  let path = normalize(join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  if (!path.startsWith(normalize(dir))) return res.writeHead(403).end();
  if (existsSync(path) && statSync(path).isDirectory()) path = join(path, "index.html");
  if (!existsSync(path)) return res.writeHead(404).end("not found");
  res.writeHead(200, { "Content-Type": MIME[extname(path)] ?? "application/octet-stream" });
  res.end(readFileSync(path));
}).listen(Number(port), "127.0.0.1", () => console.log(`static site on http://127.0.0.1:${port}`));
