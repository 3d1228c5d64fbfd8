/**
 * Turning what an operation is given (`Operand`, `Factor`) into nodes of the recording in
 * progress, or into data matrices for a product. Constants are kept by reference (never
 * copied, never written) and checked once to be finite (a 'data' error otherwise).
 */
import type { CsrMatrix } from '../linalg/csr.js'
import type { Matrix, RVec } from '../linalg/types.js'
import { gatherRows, isCsrLike, isMatrixLike } from './batch.js'
import type { DataMatrix } from './kernels.js'
import { isDataRows, Node, type DataRows, type Factor, type Operand } from './node.js'
import { currentRecording, fault, own } from './recording.js'

const checked = new WeakSet<object>()

/** Fault unless every entry of a constant array is finite (each array is scanned once). */
export const checkFiniteData = (what: string, a: RVec): void => {
  if (checked.has(a)) return
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) fault('data', `ad.${what}: constant entry ${k} is ${a[k]}, not finite`)
  checked.add(a)
}

const checkCsr = (what: string, A: CsrMatrix): void => {
  if (A.indptr.length !== A.rows + 1 || A.indices.length !== A.indptr[A.rows] || A.values.length !== A.indptr[A.rows])
    fault('dimension', `ad.${what}: a CSR matrix ${A.rows}×${A.cols} with inconsistent arrays (use linalg.csrMatrix to build it)`)
  checkFiniteData(what, A.values)
}

const checkDense = (what: string, X: Matrix): void => {
  if (X.data.length !== X.rows * X.cols) fault('dimension', `ad.${what}: a ${X.rows}×${X.cols} matrix holding ${X.data.length} entries`)
  checkFiniteData(what, X.data)
}

/** The node of an operand (a constant becomes a constant node of the recording). */
export const toNode = (what: string, x: Operand): Node => {
  if (x instanceof Node) return own(what, x)
  const rec = currentRecording(what)
  if (typeof x === 'number') {
    if (!Number.isFinite(x)) fault('data', `ad.${what}: the constant ${x} is not finite`)
    return rec.constant(Float64Array.of(x), 1, 1)
  }
  if (x instanceof Float64Array) {
    checkFiniteData(what, x)
    return rec.constant(x, x.length, 1)
  }
  if (isDataRows(x)) {
    const M = x.matrix
    if (isCsrLike(M)) return fault('config', `ad.${what}: the rows of a CSR matrix can only be a factor of matmul, matvec or matvecT`)
    checkDense(what, M)
    const c = rec.constant(M.data, M.rows, M.cols)
    const m = rec.batchSize ?? rec.nSamples
    return gatherRows(rec, c.id, m, M.cols)
  }
  if (isCsrLike(x)) return fault('config', `ad.${what}: a CSR matrix can only be a factor of matmul, matvec or matvecT`)
  if (isMatrixLike(x)) {
    checkDense(what, x)
    return rec.constant(x.data, x.rows, x.cols)
  }
  return fault('config', `ad.${what}: expected a node, a number, a Float64Array or a Matrix`)
}

/** A data matrix factor of a product (with whether its rows are the minibatch's). */
export interface DataFactor {
  readonly data: DataMatrix
  readonly batched: boolean
}

/** A product factor: a node, or a data matrix read in place. */
export const toFactor = (what: string, x: Factor): Node | DataFactor => {
  if (x instanceof Node || x instanceof Float64Array) return toNode(what, x as Operand)
  currentRecording(what)
  const batched = isDataRows(x)
  const M = isDataRows(x) ? (x as DataRows).matrix : (x as Matrix | CsrMatrix)
  if (isCsrLike(M)) {
    checkCsr(what, M)
    return { data: { kind: 'csr', A: M, rows: M.rows, cols: M.cols }, batched }
  }
  if (isMatrixLike(M)) {
    checkDense(what, M)
    return { data: { kind: 'dense', X: M.data, rows: M.rows, cols: M.cols }, batched }
  }
  return fault('config', `ad.${what}: expected a node, a Float64Array, a Matrix or a CsrMatrix`)
}
