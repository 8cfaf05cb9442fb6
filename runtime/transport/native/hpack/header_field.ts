/**
 * [name, value]. Strings are latin1: one char per byte (header bytes are not
 * UTF-8-decoded). Read-only: the decoder hands out the HPACK tables' own
 * entries for indexed fields rather than a copy per request.
 */
export type HeaderField = readonly [name: string, value: string];
