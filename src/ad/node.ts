/**
 * The symbolic values of a recording. A `Node` stands for an r × c array of float64 (row-major;
 * a vector of length k is k × 1, a scalar 1 × 1) computed from the inputs w and λ, from data,
 * or from both. A function written with the engine's operations receives Nodes for w and λ and
 * returns a Node: it is called once per shape to record the computation (see `recording.ts`),
 * never on numbers, so it must not branch on values (it cannot read them).
 *
 * What an operation accepts besides Nodes (`Operand`):
 *   - a number: a scalar constant;
 *   - a Float64Array: a constant column vector (k × 1), read and never written;
 *   - a dense `Matrix` or a `CsrMatrix` (src/linalg): a constant matrix (a CSR matrix only as a
 *     factor of `matmul` / `matvec` / `matvecT`);
 *   - `DataRows`: the rows of a data matrix selected by the minibatch (`batch.rows(X)`), which
 *     a product reads in place (no copy of the rows).
 */
import type { CsrMatrix } from '../linalg/csr.js'
import type { Matrix, RVec } from '../linalg/types.js'

/** A symbolic r × c array of one recording. */
export class Node {
  /** @internal */
  constructor(
    /** @internal the recording this node belongs to */
    readonly rec: object,
    /** @internal its index in the recording */
    readonly id: number,
    readonly rows: number,
    readonly cols: number,
  ) {}
  /** rows · cols. */
  get size(): number {
    return this.rows * this.cols
  }
  toString(): string {
    return `Node#${this.id}(${this.rows}×${this.cols})`
  }
}

/** The rows of a data matrix picked by the minibatch of the call (`batch.rows(X)`). */
export interface DataRows {
  readonly kind: 'dataRows'
  readonly matrix: Matrix | CsrMatrix
}

/** Anything an elementwise operation accepts. */
export type Operand = Node | number | RVec | Matrix | DataRows

/** Anything a factor of a matrix product may be. */
export type Factor = Node | RVec | Matrix | CsrMatrix | DataRows

export const isNode = (x: unknown): x is Node => x instanceof Node

export const isDataRows = (x: unknown): x is DataRows => typeof x === 'object' && x !== null && (x as Partial<DataRows>).kind === 'dataRows'
