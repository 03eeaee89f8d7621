/**
 * Index helpers that locate the path inside a raw HTTP request target without allocating.
 *
 * - origin form `/a/b?x#y`: the path is `/a/b`.
 * - absolute form `http://host:80/a/b?x`: the path starts at the first `/` after `://`; a target
 *   with an authority but no path (`http://host`) has an empty path.
 * - anything else (`*`, `host:443` of CONNECT, garbage) is taken from its first character.
 */

const SLASH = 0x2f;

/** Index where the path begins in `target`. */
export function pathStart(target: string): number {
  if (target.length === 0 || target.charCodeAt(0) === SLASH) return 0;
  const scheme = target.indexOf('://');
  if (scheme < 0) return 0;
  // a scheme is letters, digits, + - . only; otherwise `://` is part of something else
  for (let i = 0; i < scheme; i++) {
    const c = target.charCodeAt(i) | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e)) return 0;
  }
  const slash = target.indexOf('/', scheme + 3);
  return slash < 0 ? target.length : slash;
}

/**
 * Index where the path ends: the first `?` or `#` at or after `start` (and the first `&` too when
 * `stopAtAmp`: the route heuristic also cuts at `&`, as OBI does), else the length.
 */
export function pathEnd(target: string, start: number, stopAtAmp: boolean): number {
  // native indexOf scans are several times faster than a charCodeAt loop
  let end = target.indexOf('?', start);
  if (end < 0) end = target.length;
  const hash = target.indexOf('#', start);
  if (hash >= 0 && hash < end) end = hash;
  if (stopAtAmp) {
    const amp = target.indexOf('&', start);
    if (amp >= 0 && amp < end) end = amp;
  }
  return end;
}

/** The path of a request target, without query or fragment (the string itself when nothing to strip). */
export function pathOnly(target: string): string {
  const start = pathStart(target);
  const end = pathEnd(target, start, false);
  return start === 0 && end === target.length ? target : target.slice(start, end);
}
