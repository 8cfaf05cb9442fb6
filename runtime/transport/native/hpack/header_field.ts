/** [name, value]. Strings are latin1: one char per byte (header bytes are not UTF-8-decoded). */
export type HeaderField = [name: string, value: string];
