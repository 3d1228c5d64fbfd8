/**
 * Multi-output row passes, the fused kernels of multinomial models: with W ∈ R^{p×C} stored
 * row-major (W[j, c] at j·C + c, so that a feature's C weights are contiguous), each row i of the
 * pass gives
 *
 *   z = Wᵀxᵢ ∈ R^C   (and s = Uᵀxᵢ for a second matrix U),   r = coef(z, s) ∈ R^C,
 *   out += xᵢ rᵀ     (p × C, row-major like W),
 *
 * the row's entries read twice while they sit in cache: C dots per row, then C axpys. Zero
 * entries are skipped, dense and CSR alike, so a CSR matrix and the dense matrix with the same
 * entries give the same bits on every input. Sums run in column order from +0.
 */
import { isCsr, type DesignMatrix } from '../csr.js'
import type { RVec, Vec } from '../types.js'
import type { RowBatch } from './reference.js'

/**
 * The coefficients of row i (the pass's k-th row): from z = Wᵀxᵢ (and s = Uᵀxᵢ; empty without
 * U) write r (all of length C; r starts at 0).
 */
export type MultiCoef = (k: number, i: number, z: RVec, s: RVec, r: Vec) => void

/** A reader of row i's scores z = Wᵀxᵢ (and s = Uᵀxᵢ); the views are valid during the call only. */
export type MultiRead = (k: number, i: number, z: RVec, s: RVec) => void

let zS = new Float64Array(0)
let sS = new Float64Array(0)
let rS = new Float64Array(0)
let jS = new Int32Array(0)
let xS = new Float64Array(0)

const scratch = (C: number, p: number): void => {
  if (zS.length < C) {
    zS = new Float64Array(C)
    sS = new Float64Array(C)
    rS = new Float64Array(C)
  }
  if (jS.length < p) {
    jS = new Int32Array(p)
    xS = new Float64Array(p)
  }
}

const check = (what: string, X: DesignMatrix, C: number, batch: RowBatch, ms: ReadonlyArray<RVec>): void => {
  if (!(Number.isInteger(C) && C >= 1)) throw new RangeError(`${what}: C must be a positive integer, got ${C}`)
  for (const m of ms) if (m.length !== X.cols * C) throw new RangeError(`${what}: X has ${X.cols} columns and C = ${C}, a matrix has ${m.length} entries`)
  if (batch === undefined) return
  for (let k = 0; k < batch.length; k++) {
    const i = batch[k]!
    if (!(i >= 0 && i < X.rows)) throw new RangeError(`${what}: batch index ${i} at position ${k} is outside [0, ${X.rows})`)
  }
}

/**
 * The non-zero entries of row i into jS/xS (columns in order); returns their count. Dense rows
 * are scanned for non-zeros; CSR rows drop stored zeros.
 */
const loadRow = (X: DesignMatrix, i: number): number => {
  let t = 0
  if (isCsr(X)) {
    const { indptr, indices, values } = X
    for (let q = indptr[i]!, e = indptr[i + 1]!; q < e; q++) {
      const x = values[q]!
      if (x !== 0) {
        jS[t] = indices[q]!
        xS[t++] = x
      }
    }
  } else {
    const p = X.cols, a = X.data, o = i * p
    for (let j = 0; j < p; j++) {
      const x = a[o + j]!
      if (x !== 0) {
        jS[t] = j
        xS[t++] = x
      }
    }
  }
  return t
}

/** z ← Mᵀx over the row's t entries in jS/xS. */
const scores = (M: RVec, C: number, t: number, z: Vec): void => {
  z.fill(0, 0, C)
  for (let q = 0; q < t; q++) {
    const x = xS[q]!
    const base = jS[q]! * C
    for (let c = 0; c < C; c++) z[c] = z[c]! + x * M[base + c]!
  }
}

/**
 * out ← Σᵢ xᵢ rᵢᵀ over the rows of the pass (batch, or all rows), rᵢ = coef(Wᵀxᵢ, Uᵀxᵢ) (s empty
 * when U is undefined). out has p·C entries (row-major p × C), overwritten; returns it.
 */
export const multiPass = (
  X: DesignMatrix, C: number, W: RVec, U: RVec | undefined, batch: RowBatch, coef: MultiCoef, out: Vec,
): Vec => {
  check('multiPass', X, C, batch, U === undefined ? [W, out] : [W, U, out])
  scratch(C, X.cols)
  const z = zS.subarray(0, C), s = U === undefined ? sS.subarray(0, 0) : sS.subarray(0, C), r = rS.subarray(0, C)
  const m = batch === undefined ? X.rows : batch.length
  out.fill(0)
  for (let k = 0; k < m; k++) {
    const i = batch === undefined ? k : batch[k]!
    const t = loadRow(X, i)
    scores(W, C, t, z)
    if (U !== undefined) scores(U, C, t, s)
    r.fill(0)
    coef(k, i, z, s, r)
    for (let q = 0; q < t; q++) {
      const x = xS[q]!
      const base = jS[q]! * C
      for (let c = 0; c < C; c++) out[base + c] = out[base + c]! + x * r[c]!
    }
  }
  return out
}

/** Row by row, the scores z = Wᵀxᵢ (and s = Uᵀxᵢ) handed to `read`, without axpys. */
export const multiDots = (X: DesignMatrix, C: number, W: RVec, U: RVec | undefined, batch: RowBatch, read: MultiRead): void => {
  check('multiDots', X, C, batch, U === undefined ? [W] : [W, U])
  scratch(C, X.cols)
  const z = zS.subarray(0, C), s = U === undefined ? sS.subarray(0, 0) : sS.subarray(0, C)
  const m = batch === undefined ? X.rows : batch.length
  for (let k = 0; k < m; k++) {
    const i = batch === undefined ? k : batch[k]!
    const t = loadRow(X, i)
    scores(W, C, t, z)
    if (U !== undefined) scores(U, C, t, s)
    read(k, i, z, s)
  }
}
