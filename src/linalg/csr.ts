/**
 * Compressed sparse row (CSR) matrices: the layout of the wide, sparse data sets that
 * hyperparameter optimization is tuned on (rcv1, news20). Row i holds the entries
 * `values[k]` at columns `indices[k]` for k in [indptr[i], indptr[i+1]), columns strictly
 * increasing within a row. Kernels follow the BLAS convention of `kernels.ts`: they write into
 * an output the caller owns and allocate nothing.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { matrix, type Matrix, type RVec, type Vec } from './types.js'

/** A CSR matrix (rows × cols with nnz = indptr[rows] stored entries). */
export interface CsrMatrix {
  readonly layout: 'csr'
  readonly rows: number
  readonly cols: number
  /** Row pointers, length rows + 1, non-decreasing, indptr[0] = 0. */
  readonly indptr: Readonly<Int32Array>
  /** Column of each stored entry, length nnz, strictly increasing within a row. */
  readonly indices: Readonly<Int32Array>
  /** Value of each stored entry, length nnz. */
  readonly values: RVec
}

/** A design matrix: dense row-major or CSR. */
export type DesignMatrix = Matrix | CsrMatrix

/** True for a CSR matrix (false for a dense one). */
export const isCsr = (X: DesignMatrix): X is CsrMatrix => (X as Partial<CsrMatrix>).layout === 'csr'

/** The number of stored entries. */
export const nnz = (A: CsrMatrix): number => A.indptr[A.rows]!

/**
 * A CSR matrix from its arrays, checked: shapes, pointers, column order and range, finite
 * values. The arrays are taken as they are (not copied).
 */
export const csrMatrix = (
  rows: number,
  cols: number,
  indptr: Readonly<Int32Array>,
  indices: Readonly<Int32Array>,
  values: RVec,
): E.Either<HypergradError, CsrMatrix> => {
  if (!(Number.isInteger(rows) && rows >= 0 && Number.isInteger(cols) && cols >= 0))
    return E.left(hgError('dimension', `csr: invalid shape ${rows}×${cols}`))
  if (indptr.length !== rows + 1) return E.left(hgError('dimension', `csr: indptr has length ${indptr.length}, expected rows + 1 = ${rows + 1}`))
  if (indptr[0] !== 0) return E.left(hgError('data', `csr: indptr[0] = ${indptr[0]}, expected 0`))
  const n = indptr[rows]!
  if (indices.length !== n || values.length !== n)
    return E.left(hgError('dimension', `csr: ${n} entries by indptr, but indices has ${indices.length} and values ${values.length}`))
  for (let i = 0; i < rows; i++) {
    const a = indptr[i]!
    const b = indptr[i + 1]!
    if (b < a) return E.left(hgError('data', `csr: indptr decreases at row ${i} (${a} → ${b})`))
    let prev = -1
    for (let k = a; k < b; k++) {
      const j = indices[k]!
      if (!(j > prev && j < cols)) return E.left(hgError('data', `csr: row ${i} has column ${j} ${j >= cols ? `past the ${cols} columns` : 'out of order'}`))
      if (!Number.isFinite(values[k]!)) return E.left(hgError('data', `csr: entry (${i}, ${j}) = ${values[k]} is not finite`))
      prev = j
    }
  }
  return E.right({ layout: 'csr', rows, cols, indptr, indices, values })
}

/** The CSR form of a dense matrix (exact zeros dropped). */
export const csrFromDense = (A: Matrix): CsrMatrix => {
  const { rows, cols, data } = A
  let count = 0
  for (let k = 0; k < data.length; k++) if (data[k] !== 0) count++
  const indptr = new Int32Array(rows + 1)
  const indices = new Int32Array(count)
  const values = new Float64Array(count)
  let k = 0
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = data[i * cols + j]!
      if (x !== 0) {
        indices[k] = j
        values[k] = x
        k++
      }
    }
    indptr[i + 1] = k
  }
  return { layout: 'csr', rows, cols, indptr, indices, values }
}

/** The dense row-major form of a CSR matrix. */
export const csrToDense = (A: CsrMatrix): Matrix => {
  const data = new Float64Array(A.rows * A.cols)
  for (let i = 0; i < A.rows; i++)
    for (let k = A.indptr[i]!; k < A.indptr[i + 1]!; k++) data[i * A.cols + A.indices[k]!] = A.values[k]!
  return matrix(A.rows, A.cols, data)
}

/** xᵢᵀw for the stored entries of row i. */
export const csrRowDot = (A: CsrMatrix, i: number, w: RVec): number => {
  let s = 0
  for (let k = A.indptr[i]!; k < A.indptr[i + 1]!; k++) s += A.values[k]! * w[A.indices[k]!]!
  return s
}

/** out ← A x (out has length rows). Returns out. */
export const csrGemv = (A: CsrMatrix, x: RVec, out: Vec): Vec => {
  if (x.length !== A.cols || out.length !== A.rows) throw new RangeError(`csrGemv: A is ${A.rows}×${A.cols}, x has ${x.length}, out ${out.length}`)
  for (let i = 0; i < A.rows; i++) out[i] = csrRowDot(A, i, x)
  return out
}

/** out ← Aᵀ y (out has length cols; overwritten). Returns out. */
export const csrGemvT = (A: CsrMatrix, y: RVec, out: Vec): Vec => {
  if (y.length !== A.rows || out.length !== A.cols) throw new RangeError(`csrGemvT: A is ${A.rows}×${A.cols}, y has ${y.length}, out ${out.length}`)
  out.fill(0)
  for (let i = 0; i < A.rows; i++) {
    const yi = y[i]!
    if (yi === 0) continue
    for (let k = A.indptr[i]!; k < A.indptr[i + 1]!; k++) {
      const j = A.indices[k]!
      out[j] = out[j]! + A.values[k]! * yi
    }
  }
  return out
}

/** The rows `batch` of A, as a new CSR matrix (in the order given). */
export const csrRows = (A: CsrMatrix, batch: Readonly<Int32Array>): CsrMatrix => {
  let count = 0
  for (let b = 0; b < batch.length; b++) count += A.indptr[batch[b]! + 1]! - A.indptr[batch[b]!]!
  const indptr = new Int32Array(batch.length + 1)
  const indices = new Int32Array(count)
  const values = new Float64Array(count)
  let k = 0
  for (let b = 0; b < batch.length; b++) {
    const i = batch[b]!
    for (let s = A.indptr[i]!; s < A.indptr[i + 1]!; s++) {
      indices[k] = A.indices[s]!
      values[k] = A.values[s]!
      k++
    }
    indptr[b + 1] = k
  }
  return { layout: 'csr', rows: batch.length, cols: A.cols, indptr, indices, values }
}

/** ‖xᵢ‖ for every row of a dense or CSR matrix (squares summed in column order; the same bits for the same entries). Fresh. */
export const rowNorms = (X: DesignMatrix): Float64Array => {
  const out = new Float64Array(X.rows)
  if (isCsr(X)) {
    for (let i = 0; i < X.rows; i++) {
      let s = 0
      for (let q = X.indptr[i]!; q < X.indptr[i + 1]!; q++) s += X.values[q]! * X.values[q]!
      out[i] = Math.sqrt(s)
    }
    return out
  }
  const { rows: n, cols: p, data } = X
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < p; j++) s += data[i * p + j]! * data[i * p + j]!
    out[i] = Math.sqrt(s)
  }
  return out
}
