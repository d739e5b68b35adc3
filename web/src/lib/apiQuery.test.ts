import { parse } from "graphql";
import { curlCommand, queryText, shellQuote } from "./apiQuery";

/** How a POSIX shell reads one word made of '...' runs and \' escapes (what shellQuote produces). */
function shellWord(word: string): string {
  let out = "";
  let i = 0;
  while (i < word.length) {
    if (word[i] === "'") {
      const end = word.indexOf("'", i + 1);
      if (end < 0) throw new Error("unterminated quote");
      out += word.slice(i + 1, end);
      i = end + 1;
    } else if (word[i] === "\\") {
      out += word[i + 1];
      i += 2;
    } else throw new Error(`unquoted character ${word[i]} at ${i}`);
  }
  return out;
}

const q = {
  document: parse(`query Search($runId: ID!, $query: String!) { search(runId: $runId, query: $query) { index label } }`),
  variables: { runId: "r1", query: "it's a \"cat\"" },
};

describe("API query display", () => {
  it("prints the document", () => {
    expect(queryText(q)).toContain("search(runId: $runId, query: $query)");
  });

  it("builds a curl line whose body a shell passes through unchanged", () => {
    const cmd = curlCommand(q, "http://127.0.0.1:8000/graphql");
    expect(cmd.startsWith("curl -s 'http://127.0.0.1:8000/graphql' -H 'Content-Type: application/json' --data '")).toBe(true);
    // read the quoted body as a shell would and check the JSON that curl would send
    const body = cmd.slice(cmd.indexOf("--data ") + "--data ".length);
    const sent = JSON.parse(shellWord(body));
    expect(sent.variables).toEqual(q.variables);
    expect(parse(sent.query).definitions).toHaveLength(1);
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
