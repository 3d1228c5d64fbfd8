/**
 * Minibatches. A function of (w, λ, batch) is recorded once for the full sum and once per
 * minibatch size m; its `batch` argument (a `BatchView`) says which, and selects the rows of the
 * call's minibatch B from per-sample arrays:
 *
 *   batch.rows(X)   the rows of a data matrix (dense or CSR), for a product: read in place;
 *   batch.rows(y)   the entries of a per-sample vector (a constant m × 1 node);
 *   batch.rows(x)   the rows of a node (differentiable: its adjoint scatter-adds back);
 *   batch.scale     n/m (1 for the full sum): the factor of the unbiased estimate
 *                   ℓ̂(w, λ, B) = (n/|B|) Σ_{i∈B} ℓᵢ(w, λ) (+ terms without samples).
 *
 * On the full sum, `rows` returns its argument unchanged (a vector as a constant node).
 * The indices of B are given per call (a repeated index counts twice), never recorded.
 */
import type { CsrMatrix } from '../linalg/csr.js'
import type { Matrix, RVec } from '../linalg/types.js'
import { LinearInstr, type LinearMap } from './instr.js'
import { Node, type DataRows } from './node.js'
import { fault, own, type Recording } from './recording.js'

/** The minibatch of a recording (see the module comment). */
export interface BatchView {
  /** m, the number of rows selected (n for the full sum). */
  readonly size: number
  /** n, the number of samples. */
  readonly nSamples: number
  /** True for the full sum. */
  readonly full: boolean
  /** n/m: the scale of the unbiased estimate of a sum over the samples (1 for the full sum). */
  readonly scale: number
  /** The rows of a node with n rows (differentiable). */
  rows(x: Node): Node
  /** The entries of a per-sample constant vector of length n, as an m × 1 constant. */
  rows(x: RVec): Node
  /** The rows of a dense data matrix with n rows, as a factor of a product (read in place). */
  rows(x: Matrix): Matrix | DataRows
  /** The rows of a CSR data matrix with n rows, as a factor of a product (read in place). */
  rows(x: CsrMatrix): CsrMatrix | DataRows
  rows(x: Matrix | CsrMatrix): Matrix | CsrMatrix | DataRows
}

/** y[k, :] = x[B[k], :] (m rows of c entries): rows of x picked by the minibatch. The adjoint scatter-adds. */
const gatherMap = (m: number, c: number): LinearMap => ({
  apply: (src, dst, s) => {
    const idx = s.batch!
    for (let k = 0; k < m; k++) {
      const o = idx[k]! * c
      for (let j = 0; j < c; j++) dst[k * c + j] = src[o + j]!
    }
  },
  addBack: (src, dst, s) => {
    const idx = s.batch!
    for (let k = 0; k < m; k++) {
      const o = idx[k]! * c
      for (let j = 0; j < c; j++) dst[o + j] = dst[o + j]! + src[k * c + j]!
    }
  },
})

/** Record the m rows of node x (of c columns) that the call's minibatch picks. */
export const gatherRows = (rec: Recording, x: number, m: number, c: number): Node =>
  rec.emit(m, c, [x], true, (out) => new LinearInstr(out, x, 'rows', true, gatherMap(m, c)))

const isCsrLike = (x: unknown): x is CsrMatrix => (x as Partial<CsrMatrix>).layout === 'csr'
const isMatrixLike = (x: unknown): x is Matrix =>
  typeof x === 'object' && x !== null && !(x instanceof Float64Array) && !(x instanceof Node) && typeof (x as Partial<Matrix>).rows === 'number' && (x as Partial<Matrix>).data !== undefined

/** The BatchView of a recording (m = rec.batchSize, or the full sum). */
export const batchView = (rec: Recording): BatchView => {
  const n = rec.nSamples
  const m = rec.batchSize
  const full = m === null
  const size = m ?? n
  const gather = (x: Node): Node => gatherRows(rec, x.id, size, x.cols)
  function rows(x: Node): Node
  function rows(x: RVec): Node
  function rows(x: Matrix): Matrix | DataRows
  function rows(x: CsrMatrix): CsrMatrix | DataRows
  function rows(x: Matrix | CsrMatrix): Matrix | CsrMatrix | DataRows
  function rows(x: Node | RVec | Matrix | CsrMatrix): Node | Matrix | CsrMatrix | DataRows {
    if (x instanceof Node) {
      own('batch.rows', x)
      if (x.rows !== n) fault('dimension', `ad: batch.rows: ${x.toString()} has ${x.rows} rows, expected one per sample (${n})`)
      return full ? x : gather(x)
    }
    if (x instanceof Float64Array) {
      if (x.length !== n) fault('dimension', `ad: batch.rows: a vector of length ${x.length}, expected one entry per sample (${n})`)
      const c = rec.constant(x, n, 1)
      return full ? c : gather(c)
    }
    if (isCsrLike(x) || isMatrixLike(x)) {
      if (x.rows !== n) fault('dimension', `ad: batch.rows: a ${x.rows}×${x.cols} matrix, expected one row per sample (${n})`)
      return full ? x : { kind: 'dataRows', matrix: x }
    }
    return fault('config', 'ad: batch.rows takes a node, a Float64Array, a Matrix or a CsrMatrix')
  }
  return { size, nSamples: n, full, scale: full ? 1 : n / size, rows }
}

export { isCsrLike, isMatrixLike }
