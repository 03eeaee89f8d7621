/**
 * `routes.unmatched: low-cardinality`: the heuristic route, then a per-service trie that caps how
 * many distinct values each segment position may take under a given prefix.
 *
 * Exact rule (N = `routes.max_path_segment_cardinality`, default 10):
 * - The trie's nodes are path prefixes; a node's children are the values seen for the next segment.
 * - A node keeps at most N distinct literal children. The first N distinct values seen at a node
 *   are admitted and keep resolving to themselves forever; every later NEW value at that node is
 *   replaced by the wildcard, and resolution continues below the wildcard child. So at most N
 *   literal values plus the wildcard ever appear at one position under one prefix.
 * - A segment the heuristic already turned into the wildcard goes to the wildcard child directly and
 *   does not use up one of the N places.
 * - Nothing is ever evicted, so the answer for a given route never changes once given (which is what
 *   lets the resolver cache results).
 * - Memory bound: once the trie holds `maxNodes` literal nodes (default 10 000), every new literal
 *   value anywhere becomes the wildcard; wildcard children add at most one node per node.
 *
 * Segments are the `/`-separated parts after a leading `/`; empty segments (trailing `/`) are
 * values like any other.
 */

const SLASH = 0x2f;

export const DEFAULT_MAX_PATH_SEGMENT_CARDINALITY = 10;
export const DEFAULT_MAX_TRIE_NODES = 10_000;

interface TrieNode {
  children: Map<string, TrieNode> | undefined;
  wild: TrieNode | undefined;
}

function newNode(): TrieNode {
  return { children: undefined, wild: undefined };
}

export class SegmentCardinalityLimiter {
  readonly maxPerNode: number;
  readonly wildcard: string;
  readonly maxNodes: number;
  private readonly _root: TrieNode = newNode();
  private _literalNodes = 0;

  constructor(maxPerNode: number, wildcard: string, maxNodes = DEFAULT_MAX_TRIE_NODES) {
    if (!Number.isInteger(maxPerNode) || maxPerNode < 1) throw new RangeError('maxPerNode must be an integer >= 1');
    if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new RangeError('maxNodes must be an integer >= 1');
    this.maxPerNode = maxPerNode;
    this.wildcard = wildcard;
    this.maxNodes = maxNodes;
  }

  /** number of literal (non-wildcard) nodes held */
  get literalNodes(): number {
    return this._literalNodes;
  }

  /** Applies the cap to a heuristic route, recording its new values. */
  limit(route: string): string {
    const n = route.length;
    let pos = route.length > 0 && route.charCodeAt(0) === SLASH ? 1 : 0;
    if (pos === n && n > 0) return route; // "/"
    let node = this._root;
    let out = '';
    let copied = 0;
    for (;;) {
      let segEnd = route.indexOf('/', pos);
      if (segEnd < 0) segEnd = n;
      const value = route.slice(pos, segEnd);
      if (value === this.wildcard) {
        node = node.wild ??= newNode();
      } else {
        let child = node.children?.get(value);
        if (child === undefined) {
          if ((node.children === undefined || node.children.size < this.maxPerNode) && this._literalNodes < this.maxNodes) {
            child = newNode();
            (node.children ??= new Map()).set(value, child);
            this._literalNodes++;
          } else {
            out += route.slice(copied, pos) + this.wildcard;
            copied = segEnd;
            child = node.wild ??= newNode();
          }
        }
        node = child;
      }
      if (segEnd >= n) break;
      pos = segEnd + 1;
    }
    if (copied === 0) return route;
    return copied < n ? out + route.slice(copied) : out;
  }
}
