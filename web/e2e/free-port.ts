/**
 * A free TCP port on 127.0.0.1 for a test server, chosen once per Playwright run: the first call asks the OS for
 * one (bind to port 0) and keeps it in `process.env[name]`, so the worker processes that re-read the config (and
 * inherit the environment) use the same port. A port already set in the environment wins.
 */
import { execFileSync } from "node:child_process";

const PROBE = 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})';

export function freePort(name: string): number {
  const chosen = process.env[name] ?? execFileSync(process.execPath, ["-e", PROBE], { encoding: "utf8" }).trim();
  process.env[name] = chosen;
  return Number(chosen);
}
