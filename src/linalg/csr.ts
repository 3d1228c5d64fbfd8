/**
 * Compressed sparse row (CSR) matrices: the layout of the wide, sparse data sets that
 * hyperparameter optimization is tuned on (rcv1, news20). Row i holds the entries
 * `values[k]` at columns `indices[k]` for k in [indptr[i], indptr[i+1]), columns strictly
 * increasing within a row. Kernels follow the BLAS convention of `kernels.ts`: they write into
 * an output the caller owns and allocate nothing.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, gemv, gemvT } from './kernels.js'
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

/**
 * xᵢᵀw over the stored entries of row i, summed as the dense `dot` of `kernels.ts` sums the
 * full row (four accumulators by column modulo 4, the last cols mod 4 columns into the first,
 * then (a₀ + a₁) + (a₂ + a₃)): the same bits as the dense row for finite w.
 */
export const csrRowDot = (A: CsrMatrix, i: number, w: RVec): number => {
  const m4 = A.cols - (A.cols % 4)
  let a0 = 0, a1 = 0, a2 = 0, a3 = 0
  for (let k = A.indptr[i]!, e = A.indptr[i + 1]!; k < e; k++) {
    const j = A.indices[k]!
    const t = A.values[k]! * w[j]!
    if (j >= m4) a0 += t
    else {
      const r = j & 3
      if (r === 0) a0 += t
      else if (r === 1) a1 += t
      else if (r === 2) a2 += t
      else a3 += t
    }
  }
  return (a0 + a1) + (a2 + a3)
}

/** out[j] += a·x_ij over the stored entries of row i (the dense `axpy` of the row, without its zeros). Returns out. */
export const csrRowAxpy = (A: CsrMatrix, i: number, a: number, out: Vec): Vec => {
  for (let k = A.indptr[i]!, e = A.indptr[i + 1]!; k < e; k++) {
    const j = A.indices[k]!
    out[j] = out[j]! + a * A.values[k]!
  }
  return out
}

/** out ← A x (out has length rows), each entry by {@link csrRowDot}: the bits of the dense `gemv`. Returns out. */
export const csrGemv = (A: CsrMatrix, x: RVec, out: Vec): Vec => {
  if (x.length !== A.cols || out.length !== A.rows) throw new RangeError(`csrGemv: A is ${A.rows}×${A.cols}, x has ${x.length}, out ${out.length}`)
  for (let i = 0; i < A.rows; i++) out[i] = csrRowDot(A, i, x)
  return out
}

let t01 = new Float64Array(0)
let t23 = new Float64Array(0)

/**
 * out ← Aᵀ y (out has length cols; overwritten), in the order of the dense `gemvT`: rows with
 * yᵢ ≠ 0 taken four at a time, out[j] += (c₀x₀ⱼ + c₁x₁ⱼ) + (c₂x₂ⱼ + c₃x₃ⱼ), a last partial group
 * row by row; so the bits of the dense product for finite data. The pairs c₀x₀ + c₁x₁ and
 * c₂x₂ + c₃x₃ are formed column by column in two zeroed scratch vectors (kept between calls).
 * Returns out.
 */
export const csrGemvT = (A: CsrMatrix, y: RVec, out: Vec): Vec => {
  if (y.length !== A.rows || out.length !== A.cols) throw new RangeError(`csrGemvT: A is ${A.rows}×${A.cols}, y has ${y.length}, out ${out.length}`)
  if (t01.length < A.cols) {
    t01 = new Float64Array(A.cols)
    t23 = new Float64Array(A.cols)
  }
  const { indptr, indices, values } = A
  out.fill(0)
  const held = [0, 0, 0]
  let count = 0
  for (let i = 0; i < A.rows; i++) {
    const c = y[i]!
    if (c === 0) continue
    if (count < 3) {
      held[count++] = i
      continue
    }
    const rows = [held[0]!, held[1]!, held[2]!, i]
    for (let r = 0; r < 4; r++) {
      const row = rows[r]!, cr = y[row]!, t = r < 2 ? t01 : t23, first = r % 2 === 0
      for (let k = indptr[row]!; k < indptr[row + 1]!; k++) {
        const j = indices[k]!
        t[j] = first ? cr * values[k]! : t[j]! + cr * values[k]!
      }
    }
    for (let r = 0; r < 4; r++) {
      const row = rows[r]!
      for (let k = indptr[row]!; k < indptr[row + 1]!; k++) {
        const j = indices[k]!
        out[j] = out[j]! + (t01[j]! + t23[j]!)
        t01[j] = 0
        t23[j] = 0
      }
    }
    count = 0
  }
  for (let r = 0; r < count; r++) csrRowAxpy(A, held[r]!, y[held[r]!]!, out)
  return out
}

/** xᵢᵀw for row i of a dense or CSR matrix (the dense `dot`'s order either way). */
export const designRowDot = (X: DesignMatrix, i: number, w: RVec): number =>
  isCsr(X) ? csrRowDot(X, i, w) : dot(X.cols, X.data, 1, i * X.cols, w, 1, 0)

/** out += a·xᵢ for row i of a dense or CSR matrix. Returns out. */
export const designRowAxpy = (X: DesignMatrix, i: number, a: number, out: Vec): Vec =>
  isCsr(X) ? csrRowAxpy(X, i, a, out) : axpy(X.cols, a, X.data, 1, i * X.cols, out, 1, 0)

/** out ← X x for a dense or CSR matrix (the same bits for the same entries). Returns out. */
export const designGemv = (X: DesignMatrix, x: RVec, out: Vec): Vec =>
  isCsr(X) ? csrGemv(X, x, out) : gemv(X.rows, X.cols, 1, X.data, X.cols, 0, x, 1, 0, 0, out, 1, 0)

/** out ← Xᵀ y for a dense or CSR matrix (the same bits for the same entries). Returns out. */
export const designGemvT = (X: DesignMatrix, y: RVec, out: Vec): Vec =>
  isCsr(X) ? csrGemvT(X, y, out) : gemvT(X.rows, X.cols, 1, X.data, X.cols, 0, y, 1, 0, 0, out, 1, 0)

/** The number of stored entries of a design matrix: n·p dense, nnz CSR. */
export const storedEntries = (X: DesignMatrix): number => (isCsr(X) ? X.indptr[X.rows]! : X.rows * X.cols)

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
