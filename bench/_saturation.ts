/**
 * The fixed-rate cases given as a share of svc's saturation (issue 20:
 * 25 % and 50 %): the saturation figure, measured once at the start of the
 * run on svc-native's unary-small (or given with --saturation), and those
 * cases turned into absolute rates every contender is offered alike.
 * @module
 */
import { type BenchCase, CASES } from "./_cases.ts";
import type { Contender } from "./_contenders.ts";
import { type MeasureOptions, measureProcess } from "./_measure.ts";

/** Where the saturation figure came from, for the report's header. */
export interface Saturation {
  /** svc-native's unary-small calls/s. */
  readonly rate: number;
  readonly source: string;
}

/** The contender and case whose calls/s is "svc's saturation". */
export const SATURATION_CONTENDER = "svc-native";
export const SATURATION_CASE = "unary-small";

/**
 * Resolves every `rateOfSaturation` case in `cases` to a `rate`. Without
 * `given`, measures svc-native once (a fresh process, the run's warm-up and
 * duration). When there is no figure (svc-native failed), those cases are
 * dropped with a line on stderr; absolute-rate cases stay.
 */
export async function resolveFixedRates(
  cases: readonly BenchCase[],
  contenders: readonly Contender[],
  measure: MeasureOptions,
  given: number | null,
): Promise<{ cases: BenchCase[]; saturation: Saturation | null }> {
  if (!cases.some((c) => c.rateOfSaturation !== undefined)) {
    return { cases: [...cases], saturation: null };
  }
  let saturation: Saturation | null = given === null
    ? null
    : { rate: given, source: "given with --saturation" };
  if (!saturation) {
    const svc = contenders.find((c) => c.name === SATURATION_CONTENDER);
    const unary = CASES.find((c) => c.name === SATURATION_CASE)!;
    console.error(`saturation: measuring ${SATURATION_CONTENDER} on ${SATURATION_CASE} once`);
    const r = svc ? await measureProcess(svc, [unary], 0, measure) : null;
    const rate = r?.cases[SATURATION_CASE]?.rate;
    if (rate) {
      saturation = {
        rate,
        source:
          `${SATURATION_CONTENDER} ${SATURATION_CASE}, measured once at the start of this run`,
      };
    } else {
      console.error(
        `saturation: no figure (${r?.errors.join("; ") ?? "no svc-native"}): ` +
          "the cases at a share of it are skipped; the absolute-rate ones run",
      );
    }
  }
  const out: BenchCase[] = [];
  for (const c of cases) {
    if (c.rateOfSaturation === undefined) out.push(c);
    else if (saturation) {
      // A whole number of calls/s per connection: h2load's --rps is per connection.
      const perConnection = Math.max(
        1,
        Math.round(saturation.rate * c.rateOfSaturation / c.connections),
      );
      out.push({ ...c, rate: perConnection * c.connections });
    }
  }
  return { cases: out, saturation };
}
