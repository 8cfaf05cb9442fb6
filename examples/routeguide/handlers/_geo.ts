/**
 * Distance on the Earth's surface between two RouteGuide points.
 * @module
 */
import type { Point } from "./_features.ts";

/** Mean Earth radius in metres, as used by the canonical examples. */
const EARTH_RADIUS_M = 6_371_000;
/** Points are degrees multiplied by 10^7. */
const E7 = 1e7;

function toRadians(degrees: number): number {
  return (degrees * Math.PI) / 180;
}

/**
 * Great-circle (haversine) distance between two E7 points, in metres.
 *
 * @example
 * ```ts
 * distance({ latitude: 0, longitude: 0 }, { latitude: 0, longitude: 10_000_000 }); // ≈ 111195
 * ```
 */
export function distance(from: Point, to: Point): number {
  const lat1 = toRadians(from.latitude / E7);
  const lat2 = toRadians(to.latitude / E7);
  const dLat = lat2 - lat1;
  const dLon = toRadians((to.longitude - from.longitude) / E7);
  const a = Math.sin(dLat / 2) ** 2 +
    Math.cos(lat1) * Math.cos(lat2) * Math.sin(dLon / 2) ** 2;
  return EARTH_RADIUS_M * 2 * Math.atan2(Math.sqrt(a), Math.sqrt(1 - a));
}
