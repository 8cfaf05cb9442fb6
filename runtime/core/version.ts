/** svc's own version: `svc version`, and `telemetry.sdk.version` on exported spans. */
export const VERSION = "0.1.0";
