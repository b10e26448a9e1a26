// Every passage's vector in one Float32Array, row after row, searched by a flat scan: a dot product per row
// (cosine, the rows and the query being unit length) and the k best kept in a small sorted list. README.md says
// what a scan of 100 k passages costs.

/** Which passage a row is. */
export interface RowOwner { docId: string; passage: number }

export class VectorTable {
  private data = new Float32Array(0);
  private owners: RowOwner[] = [];

  constructor(readonly dimensions: number) {}

  get rows(): number { return this.owners.length; }

  /** Appends `vectors` (count × dimensions) as the passages 0.. of `docId`. */
  append(docId: string, vectors: Float32Array): void {
    const count = vectors.length / this.dimensions;
    const need = (this.rows + count) * this.dimensions;
    if (need > this.data.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.data.length));
      grown.set(this.data.subarray(0, this.rows * this.dimensions));
      this.data = grown;
    }
    this.data.set(vectors, this.rows * this.dimensions);
    for (let p = 0; p < count; p++) this.owners.push({ docId, passage: p });
  }

  /** Drops `docId`'s rows, moving the later rows up. */
  remove(docId: string): void {
    const d = this.dimensions;
    let to = 0;
    const kept: RowOwner[] = [];
    for (let from = 0; from < this.owners.length; from++) {
      if (this.owners[from]!.docId === docId) continue;
      if (to !== from) this.data.copyWithin(to * d, from * d, (from + 1) * d);
      kept.push(this.owners[from]!);
      to++;
    }
    this.owners = kept;
  }

  /** The k rows most similar to the unit vector `query`, best first (ties: earlier row first). */
  nearest(query: Float32Array, k: number): (RowOwner & { score: number })[] {
    const d = this.dimensions, data = this.data;
    const rows: number[] = [];
    const scores: number[] = [];
    for (let r = 0; r < this.owners.length; r++) {
      let s = 0;
      for (let i = 0, o = r * d; i < d; i++) s += data[o + i]! * query[i]!;
      if (rows.length === k && s <= scores[k - 1]!) continue;
      let at = Math.min(rows.length, k - 1);
      while (at > 0 && scores[at - 1]! < s) at--;
      rows.splice(at, 0, r);
      scores.splice(at, 0, s);
      if (rows.length > k) { rows.pop(); scores.pop(); }
    }
    return rows.map((r, i) => ({ ...this.owners[r]!, score: scores[i]! }));
  }
}
