/**
 * `routeguide.RouteGuide`: the classic gRPC example, one method of each call
 * kind. Unknown points are not an error: GetFeature answers with an unnamed
 * feature, exactly like the canonical implementations.
 * @module
 */
import { defineService } from "svc";
import type { RouteGuideHandlers } from "./_types.ts";
import { type Feature, FEATURES, type Point } from "./_features.ts";
import { distance } from "./_geo.ts";

/** Notes kept per location, and locations kept, so RouteChat's memory stays bounded. */
const MAX_NOTES_PER_LOCATION = 100;
const MAX_LOCATIONS = 10_000;

interface RouteNote {
  location: Point;
  message: string;
}

const byLocation = new Map<string, Feature>(
  FEATURES.map((f) => [keyOf(f.location), f]),
);

/** Notes received by RouteChat, shared by every call, keyed by location. */
const notes = new Map<string, RouteNote[]>();

function keyOf(point: Point): string {
  return `${point.latitude},${point.longitude}`;
}

/** A message field may arrive unset (null); treat that as the point (0, 0). */
function pointOf(value: Point | null | undefined): Point {
  return { latitude: value?.latitude ?? 0, longitude: value?.longitude ?? 0 };
}

function featureAt(point: Point): Feature {
  return byLocation.get(keyOf(point)) ?? { name: "", location: point };
}

export default defineService<RouteGuideHandlers>("routeguide.RouteGuide", {
  /** Unary: the feature at a point, or an unnamed one. */
  getFeature(point) {
    return featureAt(pointOf(point));
  },

  /** Server streaming: every named feature inside the rectangle (edges included). */
  async *listFeatures(rect, ctx) {
    const lo = pointOf(rect.lo);
    const hi = pointOf(rect.hi);
    const left = Math.min(lo.longitude, hi.longitude);
    const right = Math.max(lo.longitude, hi.longitude);
    const bottom = Math.min(lo.latitude, hi.latitude);
    const top = Math.max(lo.latitude, hi.latitude);
    for (const feature of FEATURES) {
      ctx.signal.throwIfAborted();
      const { latitude, longitude } = feature.location;
      if (
        feature.name !== "" && longitude >= left && longitude <= right &&
        latitude >= bottom && latitude <= top
      ) {
        yield feature;
      }
    }
  },

  /** Client streaming: count points and features, add up the distance, time the trip. */
  async recordRoute(points, ctx) {
    const started = performance.now();
    let pointCount = 0;
    let featureCount = 0;
    let metres = 0;
    let previous: Point | null = null;
    for await (const raw of points) {
      ctx.signal.throwIfAborted();
      const point = pointOf(raw);
      pointCount++;
      if (featureAt(point).name !== "") featureCount++;
      if (previous) metres += distance(previous, point);
      previous = point;
    }
    return {
      pointCount,
      featureCount,
      distance: Math.round(metres),
      elapsedTime: Math.floor((performance.now() - started) / 1000),
    };
  },

  /** Bidi: for each note, send back the notes sent earlier at its location, then keep it. */
  async *routeChat(incoming, ctx) {
    for await (const raw of incoming) {
      ctx.signal.throwIfAborted();
      const note: RouteNote = { location: pointOf(raw.location), message: raw.message };
      const key = keyOf(note.location);
      const earlier = notes.get(key) ?? [];
      for (const old of [...earlier]) yield old;
      if (!notes.has(key) && notes.size >= MAX_LOCATIONS) {
        notes.delete(notes.keys().next().value!); // forget the oldest location
      }
      earlier.push(note);
      if (earlier.length > MAX_NOTES_PER_LOCATION) earlier.shift();
      notes.set(key, earlier);
    }
  },
});
