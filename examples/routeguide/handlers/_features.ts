/**
 * The RouteGuide map: a few Berlin landmarks, plus some unnamed points (known
 * places with nothing of note). A TypeScript module rather than a JSON file,
 * so `svc build` embeds it in the compiled binary. Files starting with `_`
 * are not loaded as handlers.
 * @module
 */

/** A point in E7 (degrees × 10^7), as in route_guide.proto. */
export interface Point {
  latitude: number;
  longitude: number;
}

/** A named point on the map; an empty name means nothing is there. */
export interface Feature {
  name: string;
  location: Point;
}

function at(name: string, latitude: number, longitude: number): Feature {
  return {
    name,
    location: { latitude: Math.round(latitude * 1e7), longitude: Math.round(longitude * 1e7) },
  };
}

/** Every feature the server knows, in no particular order. */
export const FEATURES: readonly Feature[] = Object.freeze([
  at("Brandenburg Gate, Pariser Platz", 52.516275, 13.377704),
  at("Reichstag building, Platz der Republik 1", 52.518623, 13.376198),
  at("TV Tower, Panoramastraße 1A", 52.520815, 13.409419),
  at("Pergamon Museum, Museum Island", 52.521183, 13.3969),
  at("Berlin Cathedral, Am Lustgarten", 52.519067, 13.401064),
  at("Alexanderplatz", 52.521918, 13.413215),
  at("Hackescher Markt", 52.5226, 13.4022),
  at("Gendarmenmarkt", 52.513638, 13.392727),
  at("Checkpoint Charlie, Friedrichstraße 43-45", 52.507541, 13.390388),
  at("Potsdamer Platz", 52.509648, 13.3761),
  at("Victory Column, Großer Stern", 52.514543, 13.350119),
  at("Zoologischer Garten, Hardenbergplatz 8", 52.50792, 13.33773),
  at("Kaiser Wilhelm Memorial Church, Breitscheidplatz", 52.504844, 13.335035),
  at("Charlottenburg Palace, Spandauer Damm 10-22", 52.520846, 13.295734),
  at("Olympic Stadium, Olympischer Platz 3", 52.5147, 13.2395),
  at("East Side Gallery, Mühlenstraße", 52.505011, 13.4397),
  at("Oberbaum Bridge", 52.5019, 13.4457),
  at("Treptower Park, Soviet War Memorial", 52.4869, 13.47),
  at("Tempelhofer Feld", 52.473, 13.4018),
  at("Mauerpark, Bernauer Straße 63-64", 52.5435, 13.4025),
  at("", 52.5, 13.4),
  at("", 52.53, 13.38),
  at("", 52.49, 13.31),
]);
