/**
 * The documentation holds together: the README stays small and opens with
 * its two commands, and every relative link in the README, docs/, the bench
 * notes and the examples' READMEs points at a file or directory that exists,
 * with any `#anchor` naming a heading of the target (GitHub's slugs). No
 * network: links with a scheme (https:, mailto:) are not followed.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const README_MAX_BYTES = 20_480;

/** The markdown files whose links are checked, relative to the repository root. */
function documents(): string[] {
  const inDir = (dir: string, keep: (name: string) => boolean) =>
    existsSync(join(ROOT, dir))
      ? readdirSync(join(ROOT, dir)).filter(keep).sort().map((name) => join(dir, name))
      : [];
  const examples = inDir(
    "examples",
    (name) => existsSync(join(ROOT, "examples", name, "README.md")),
  )
    .map((dir) => join(dir, "README.md"));
  return [
    "README.md",
    ...inDir("docs", (name) => name.endsWith(".md")),
    "bench/README.md",
    ...inDir("bench/results", (name) => name.endsWith(".md")),
    ...examples,
  ];
}

/** The text with fenced code blocks, inline code spans and HTML comments blanked out. */
export function proseOf(markdown: string): string {
  const lines = markdown.split("\n");
  let fence: string | null = null;
  const kept = lines.map((line) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      return "";
    }
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      return "";
    }
    return line;
  });
  return kept.join("\n")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/(`+)[\s\S]*?\1/g, "");
}

/** GitHub's anchor for a heading: lowercase, only letters, digits, spaces, `-` and `_`, spaces → `-`. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images keep their text
    .replace(/<[^>]+>/g, ""); // inline HTML
  return text.trim().toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a markdown file offers: its headings' slugs (repeats get -1, -2, ...) and HTML ids. */
export function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  const prose = markdown.split("\n");
  let fence: string | null = null;
  for (const line of prose) {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && marker) {
      fence = marker;
      continue;
    }
    if (fence !== null) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) {
      const slug = githubSlug(heading[1]);
      const count = seen.get(slug) ?? 0;
      seen.set(slug, count + 1);
      anchors.add(count === 0 ? slug : `${slug}-${count}`);
    }
    for (const match of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) anchors.add(match[1]);
  }
  return anchors;
}

/** The link targets in a markdown file: inline links and images, and reference definitions. */
export function linksOf(markdown: string): string[] {
  const prose = proseOf(markdown);
  const links: string[] = [];
  for (
    const match of prose.matchAll(
      /!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g,
    )
  ) {
    links.push(match[1]);
  }
  for (const match of prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    links.push(match[1]);
  }
  return links;
}

/** What is wrong with one link in `file` (relative to the root), or null when it resolves. */
function problemWith(file: string, link: string): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link)) return null; // https:, mailto:, ...
  if (link === "") return "empty link";
  const hash = link.indexOf("#");
  const pathPart = decodeURIComponent(hash < 0 ? link : link.slice(0, hash)).replace(/\?.*$/, "");
  const anchor = hash < 0 ? null : decodeURIComponent(link.slice(hash + 1));
  const target = pathPart === ""
    ? join(ROOT, file)
    : pathPart.startsWith("/")
    ? join(ROOT, pathPart)
    : resolve(ROOT, dirname(file), pathPart);
  const shown = relative(ROOT, target) || ".";
  if (!existsSync(target)) return `${shown} does not exist`;
  if (!target.startsWith(ROOT)) return `${shown} is outside the repository`;
  if (anchor === null || !target.endsWith(".md") || !statSync(target).isFile()) return null;
  if (anchor === "") return "empty #anchor";
  const anchors = anchorsOf(readFileSync(target, "utf8"));
  if (anchors.has(anchor)) return null;
  return `${shown} has no heading for #${anchor}`;
}

Deno.test("githubSlug() spells anchors as GitHub does", () => {
  assert.equal(githubSlug("Registry and discovery (etcd)"), "registry-and-discovery-etcd");
  assert.equal(
    githubSlug("The grpc-js transport on Deno 2.8.3"),
    "the-grpc-js-transport-on-deno-283",
  );
  assert.equal(
    githubSlug("Defaults that differ from grpc-js's"),
    "defaults-that-differ-from-grpc-jss",
  );
  assert.equal(githubSlug("`ctx` and [links](x.md)"), "ctx-and-links");
  assert.equal(
    githubSlug("Renovation (issue 13): small-unary and server-stream"),
    "renovation-issue-13-small-unary-and-server-stream",
  );
  assert.equal(githubSlug("snake_case stays"), "snake_case-stays");
  const anchors = anchorsOf("# A\n## Notes\n```\n# not a heading\n```\n## Notes\n");
  assert.deepEqual([...anchors], ["a", "notes", "notes-1"]);
});

Deno.test("linksOf() finds links outside code and skips code", () => {
  const text = [
    "[a](x.md) and ![img](y.png) and `[not](code.md)`",
    "```",
    "[not](fenced.md)",
    "```",
    "[ref]: z.md",
    '[titled](t.md "title") [nested [b]](n.md#h)',
  ].join("\n");
  assert.deepEqual(linksOf(text), ["x.md", "y.png", "t.md", "n.md#h", "z.md"]);
});

Deno.test(`README.md is at most ${README_MAX_BYTES} bytes and opens with its two commands`, () => {
  const bytes = readFileSync(join(ROOT, "README.md"));
  assert.ok(
    bytes.length <= README_MAX_BYTES,
    `README.md is ${bytes.length} bytes; move detail into docs/ (limit ${README_MAX_BYTES})`,
  );
  const text = new TextDecoder().decode(bytes);
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? "";
  assert.match(firstBlock, /^npx -y deno@2\.8\.3 task svc run +# /m, "README.md: first command");
  assert.match(firstBlock, /^bash \.ci\/run +# /m, "README.md: second command");
  assert.ok(
    text.indexOf(firstBlock) < text.indexOf("\n## "),
    "the commands come before any section",
  );
});

Deno.test("every relative link and #anchor in the docs resolves", () => {
  const files = documents();
  assert.ok(files.includes("docs/config.md"), "docs/config.md is checked");
  const problems: string[] = [];
  let checked = 0;
  for (const file of files) {
    const path = join(ROOT, file);
    if (!existsSync(path)) {
      problems.push(`${file}: missing`);
      continue;
    }
    for (const link of linksOf(readFileSync(path, "utf8"))) {
      checked++;
      const problem = problemWith(file, link);
      if (problem) problems.push(`${file}: (${link}): ${problem}`);
    }
  }
  assert.ok(checked > 50, `only ${checked} links found; is the link pattern broken?`);
  assert.deepEqual(problems, [], `broken links:\n${problems.join("\n")}`);
});
