/**
 * Build-time index.html rewrite so deep links (/runs/1/features/3) load no asset from the wrong folder.
 *
 * The client is built with relative asset URLs (`./assets/x.js`) so that a static export works from any sub-path;
 * behind the gateway an inline script first adds `<base href="/">`. But the browser's preload scanner reads the
 * asset tags Vite puts into the HTML before that script runs, and fetches them relative to the deep link
 * (`/runs/1/features/assets/x.js`, a 404 each). This rewrite takes those tags out of the markup and has a small
 * inline script add them after the base is set, so every asset is requested once, from the right place.
 */

export interface AssetTag {
  kind: "module" | "modulepreload" | "stylesheet";
  url: string;
}

const TAG = /[ \t]*<(script|link)\b([^>]*)>(?:\s*<\/script>)?\n?/g;
const attr = (attrs: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1];

/** The asset tags of a built index.html (relative `./` URLs only) and the HTML without them. */
export function extractAssetTags(html: string): { html: string; tags: AssetTag[] } {
  const tags: AssetTag[] = [];
  const rest = html.replace(TAG, (whole, tag: string, attrs: string) => {
    const url = tag === "script" ? attr(attrs, "src") : attr(attrs, "href");
    if (!url || !url.startsWith("./")) return whole;
    const rel = attr(attrs, "rel");
    if (tag === "script" && attr(attrs, "type") === "module") tags.push({ kind: "module", url });
    else if (tag === "link" && (rel === "modulepreload" || rel === "stylesheet")) tags.push({ kind: rel, url });
    else return whole;
    return "";
  });
  return { html: rest, tags };
}

/** An inline script that adds the tags (stylesheets first, the entry module last), resolved against <base>. */
export function loaderScript(tags: readonly AssetTag[]): string {
  const order = { stylesheet: 0, modulepreload: 1, module: 2 } as const;
  const sorted = [...tags].sort((a, b) => order[a.kind] - order[b.kind]);
  const list = JSON.stringify(sorted.map((t) => [t.kind, t.url]));
  return `<script>
      // Assets are added here, after <base> is set, not as tags the preload scanner would fetch too early.
      (function (assets) {
        assets.forEach(function (a) {
          var el;
          if (a[0] === "module") { el = document.createElement("script"); el.type = "module"; el.src = a[1]; }
          else { el = document.createElement("link"); el.rel = a[0]; el.href = a[1]; }
          el.crossOrigin = "";
          document.head.appendChild(el);
        });
      })(${list});
    </script>
`;
}

/** The whole rewrite; throws when the built HTML has no entry module (the build changed shape: fix this first). */
export function moveAssetsAfterBase(html: string): string {
  const { html: rest, tags } = extractAssetTags(html);
  if (!tags.some((t) => t.kind === "module")) throw new Error("assetsAfterBase: no ./assets entry <script type=module> in index.html");
  if (!rest.includes("</head>")) throw new Error("assetsAfterBase: index.html has no </head>");
  return rest.replace("</head>", `  ${loaderScript(tags)}  </head>`);
}
