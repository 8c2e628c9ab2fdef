// The node names of the stored flows. Hubble Relay answers `--first/--last N` with N flows from each
// node; to ask the history the same question, a caller needs the nodes, and the table has no index to
// list them quickly. The writer thread reads them once at start (in the scan it makes anyway) and the
// ingest path adds each new one. A node whose flows retention has since deleted stays listed: a query
// for it finds nothing, which is its right answer.

/** Beyond this many names (imported node names are untrusted), the list is marked incomplete instead of growing. */
export const MAX_KNOWN_NODES = 4096;

export class KnownNodes {
  private readonly names = new Set<string>();
  private overflowed = false;

  add(name: string): void {
    if (this.names.has(name)) return;
    if (this.names.size >= MAX_KNOWN_NODES) this.overflowed = true;
    else this.names.add(name);
  }

  /** the names, sorted, and whether they are all of them */
  list(): { nodes: string[]; complete: boolean } {
    return { nodes: [...this.names].sort(), complete: !this.overflowed };
  }
}
