// Types of the parts of `snappyjs` (pure JavaScript Snappy) the MongoDB decoder uses.
declare module 'snappyjs' {
  /** decode a raw Snappy block; throws on invalid input or when the output exceeds `maxLength` */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(data: Uint8Array): Uint8Array;
}
