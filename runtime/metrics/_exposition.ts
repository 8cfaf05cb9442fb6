/**
 * Test helpers: parse Prometheus text exposition and look series up by
 * name and exact label set.
 * @module
 */

/** One sample line. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses every sample line of `text` (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`Cannot parse sample line "${line}"`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = value;
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The samples of `name` whose labels include every pair in `labels`. */
export function findSamples(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return samples.filter((sample) =>
    sample.name === name &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
  );
}

/** The value of the one sample of `name` with exactly `labels`; throws when absent. */
export function valueOf(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  const size = Object.keys(labels).length;
  const found = findSamples(samples, name, labels).filter((sample) =>
    Object.keys(sample.labels).length === size
  );
  if (found.length !== 1) {
    throw new Error(`Cannot find one ${name}${JSON.stringify(labels)}: found ${found.length}`);
  }
  return found[0].value;
}

/**
 * Runs `promtool check metrics` on `text`: exit 0 is valid and lint-clean,
 * 3 lint only, 1 a parse error. For tests.
 */
export async function promtoolCheck(
  text: string,
  promtool = "promtool",
): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(promtool, {
    args: ["check", "metrics"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  return { code, output: new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr) };
}
