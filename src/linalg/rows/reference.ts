/**
 * The TypeScript row kernels of generalized linear models: the passes
 *
 *   grad-type:  zᵢ = xᵢᵀw,            out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ)
 *   hvp-type:   zᵢ = xᵢᵀw, sᵢ = xᵢᵀu,  out ← Σ cᵢ xᵢ,  cᵢ = coef(zᵢ, sᵢ)
 *
 * over the rows of a dense row-major matrix or a CSR matrix (a minibatch's rows, or all of
 * them), in three phases: the dots of every row, the coefficients from them (one call of
 * `coef`), the block axpys. These are the reference kernels: the WebAssembly engine
 * (`engine.ts`) reproduces them bit for bit, and they run where the engine does not.
 *
 * The order of operations is fixed, so results are deterministic. Grad-type dots sum the even
 * and the odd columns in two accumulators and add them; hvp-type dots keep one accumulator each
 * for xᵢᵀw and xᵢᵀu, in column order. CSR rows skip the entries they do not store: a zero
 * contributes only exact zeros to the dense sums (and the sums are never −0), so the dots of a
 * CSR matrix equal those of the dense matrix with the same entries, bit for bit, whenever X, w
 * and u are finite. The axpys differ by layout: dense rows go four at a time,
 * out += (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃), a last partial block adding 0·x for its missing rows
 * (rows four at a time in the dots too, so that they share each load of w and u); CSR rows are
 * scattered one after the other, out[j] += cᵢxᵢⱼ, the order of scipy.sparse's Aᵀy and the one
 * that wide text data run fastest in. So on CSR data the gradients and Hessian products agree
 * with the dense layout's to rounding (not bit for bit), while values and dots agree exactly.
 *
 * The kernels allocate nothing per call but the views they hand to `coef` (scratch is kept and
 * grown per module); `coef` must not start another pass.
 */
import { isCsr, type CsrMatrix, type DesignMatrix } from '../csr.js'
import type { Matrix, RVec, Vec } from '../types.js'
import type { RowCoef, RowDots } from './engine.js'

/** The rows of a pass: a minibatch's indices (repeats allowed), or undefined for all rows in order. */
export type RowBatch = Readonly<Int32Array> | undefined

const rowAt = (batch: RowBatch, k: number): number => (batch === undefined ? k : batch[k]!)

/** The number of rows a pass runs over. */
export const passRows = (X: DesignMatrix, batch: RowBatch): number => (batch === undefined ? X.rows : batch.length)

/** Throws a RangeError for a batch index outside [0, n) or a vector of the wrong length. */
const check = (what: string, X: DesignMatrix, batch: RowBatch, vs: ReadonlyArray<RVec>): void => {
  for (const v of vs) if (v.length !== X.cols) throw new RangeError(`${what}: X has ${X.cols} columns, a vector has length ${v.length}`)
  if (batch === undefined) return
  const n = X.rows
  for (let k = 0; k < batch.length; k++) {
    const i = batch[k]!
    if (!(i >= 0 && i < n)) throw new RangeError(`${what}: batch index ${i} at position ${k} is outside [0, ${n})`)
  }
}

// ---------------------------------------------------------------------------------------------
// Scratch

let zS = new Float64Array(0)
let sS = new Float64Array(0)
let cS = new Float64Array(0)

/** Dots and coefficients of m rows. */
const passScratch = (m: number): void => {
  if (zS.length >= m) return
  const cap = Math.max(256, 2 * m)
  zS = new Float64Array(cap)
  sS = new Float64Array(cap)
  cS = new Float64Array(cap)
}

// ---------------------------------------------------------------------------------------------
// Dense rows

const gradDotsDense = (X: Matrix, w: RVec, batch: RowBatch, m: number, z: Vec): void => {
  const p = X.cols, a = X.data
  const p2 = p - (p & 1)
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const i0 = rowAt(batch, k)
    const o0 = i0 * p
    const o1 = left > 1 ? rowAt(batch, k + 1) * p : o0
    const o2 = left > 2 ? rowAt(batch, k + 2) * p : o0
    const o3 = left > 3 ? rowAt(batch, k + 3) * p : o0
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0
    let j = 0
    for (; j < p2; j += 2) {
      const w0 = w[j]!, w1 = w[j + 1]!
      a0 += a[o0 + j]! * w0
      b0 += a[o0 + j + 1]! * w1
      a1 += a[o1 + j]! * w0
      b1 += a[o1 + j + 1]! * w1
      a2 += a[o2 + j]! * w0
      b2 += a[o2 + j + 1]! * w1
      a3 += a[o3 + j]! * w0
      b3 += a[o3 + j + 1]! * w1
    }
    if (j < p) {
      const w0 = w[j]!
      a0 += a[o0 + j]! * w0
      a1 += a[o1 + j]! * w0
      a2 += a[o2 + j]! * w0
      a3 += a[o3 + j]! * w0
    }
    z[k] = a0 + b0
    if (left > 1) z[k + 1] = a1 + b1
    if (left > 2) z[k + 2] = a2 + b2
    if (left > 3) z[k + 3] = a3 + b3
  }
}

const hvpDotsDense = (X: Matrix, w: RVec, u: RVec, batch: RowBatch, m: number, z: Vec, s: Vec): void => {
  const p = X.cols, a = X.data
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const o0 = rowAt(batch, k) * p
    const o1 = left > 1 ? rowAt(batch, k + 1) * p : o0
    const o2 = left > 2 ? rowAt(batch, k + 2) * p : o0
    const o3 = left > 3 ? rowAt(batch, k + 3) * p : o0
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0
    for (let j = 0; j < p; j++) {
      const wj = w[j]!, uj = u[j]!
      const x0 = a[o0 + j]!, x1 = a[o1 + j]!, x2 = a[o2 + j]!, x3 = a[o3 + j]!
      a0 += x0 * wj
      s0 += x0 * uj
      a1 += x1 * wj
      s1 += x1 * uj
      a2 += x2 * wj
      s2 += x2 * uj
      a3 += x3 * wj
      s3 += x3 * uj
    }
    z[k] = a0
    s[k] = s0
    if (left > 1) (z[k + 1] = a1), (s[k + 1] = s1)
    if (left > 2) (z[k + 2] = a2), (s[k + 2] = s2)
    if (left > 3) (z[k + 3] = a3), (s[k + 3] = s3)
  }
}

/** out[j] += (c0·X[o0+j] + c1·X[o1+j]) + (c2·X[o2+j] + c3·X[o3+j]) for j < p. */
export const axpy4 = (
  X: RVec, p: number, o0: number, o1: number, o2: number, o3: number,
  c0: number, c1: number, c2: number, c3: number, out: Vec,
): void => {
  const p2 = p - (p & 1)
  let j = 0
  for (; j < p2; j += 2) {
    out[j] = out[j]! + ((c0 * X[o0 + j]! + c1 * X[o1 + j]!) + (c2 * X[o2 + j]! + c3 * X[o3 + j]!))
    out[j + 1] = out[j + 1]! + ((c0 * X[o0 + j + 1]! + c1 * X[o1 + j + 1]!) + (c2 * X[o2 + j + 1]! + c3 * X[o3 + j + 1]!))
  }
  if (j < p) out[j] = out[j]! + ((c0 * X[o0 + j]! + c1 * X[o1 + j]!) + (c2 * X[o2 + j]! + c3 * X[o3 + j]!))
}

const axpyDense = (X: Matrix, batch: RowBatch, m: number, c: RVec, out: Vec): void => {
  const p = X.cols
  out.fill(0)
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const o0 = rowAt(batch, k) * p
    const o1 = left > 1 ? rowAt(batch, k + 1) * p : o0
    const o2 = left > 2 ? rowAt(batch, k + 2) * p : o0
    const o3 = left > 3 ? rowAt(batch, k + 3) * p : o0
    axpy4(X.data, p, o0, o1, o2, o3, c[k]!, left > 1 ? c[k + 1]! : 0, left > 2 ? c[k + 2]! : 0, left > 3 ? c[k + 3]! : 0, out)
  }
}

// ---------------------------------------------------------------------------------------------
// CSR rows

const gradDotsCsr = (A: CsrMatrix, w: RVec, batch: RowBatch, m: number, z: Vec): void => {
  const { indptr, indices, values } = A
  for (let k = 0; k < m; k++) {
    const i = rowAt(batch, k)
    let a = 0, b = 0
    for (let q = indptr[i]!, e = indptr[i + 1]!; q < e; q++) {
      const j = indices[q]!
      if ((j & 1) === 0) a += values[q]! * w[j]!
      else b += values[q]! * w[j]!
    }
    z[k] = a + b
  }
}

const hvpDotsCsr = (A: CsrMatrix, w: RVec, u: RVec, batch: RowBatch, m: number, z: Vec, s: Vec): void => {
  const { indptr, indices, values } = A
  for (let k = 0; k < m; k++) {
    const i = rowAt(batch, k)
    let a = 0, b = 0
    for (let q = indptr[i]!, e = indptr[i + 1]!; q < e; q++) {
      const j = indices[q]!
      const x = values[q]!
      a += x * w[j]!
      b += x * u[j]!
    }
    z[k] = a
    s[k] = b
  }
}

const axpyCsr = (A: CsrMatrix, batch: RowBatch, m: number, c: RVec, out: Vec): void => {
  const { indptr, indices, values } = A
  out.fill(0)
  for (let k = 0; k < m; k++) {
    const i = rowAt(batch, k)
    const ck = c[k]!
    for (let q = indptr[i]!, e = indptr[i + 1]!; q < e; q++) {
      const j = indices[q]!
      out[j] = out[j]! + ck * values[q]!
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The passes

/** The checks of a pass's entry point; returns its number of rows. Throws a RangeError for short per-row arrays. */
const begin = (what: string, X: DesignMatrix, batch: RowBatch, vs: ReadonlyArray<RVec>, perRow: ReadonlyArray<RVec>): number => {
  check(what, X, batch, vs)
  const m = passRows(X, batch)
  for (const a of perRow) if (a.length < m) throw new RangeError(`${what}: an array of ${a.length} for the pass's ${m} rows`)
  return m
}

/** z[k] = x_{i_k}ᵀw (grad-type: even and odd columns apart, then added) for the m rows of the pass. */
export const gradDotsReference = (X: DesignMatrix, w: RVec, batch: RowBatch, z: Vec): Vec => {
  const m = begin('gradDots', X, batch, [w], [z])
  if (isCsr(X)) gradDotsCsr(X, w, batch, m, z)
  else gradDotsDense(X, w, batch, m, z)
  return z
}

/** z[k] = x_{i_k}ᵀw and s[k] = x_{i_k}ᵀu (hvp-type: one accumulator each, in column order). */
export const hvpDotsReference = (X: DesignMatrix, w: RVec, u: RVec, batch: RowBatch, z: Vec, s: Vec): void => {
  const m = begin('hvpDots', X, batch, [w, u], [z, s])
  if (isCsr(X)) hvpDotsCsr(X, w, u, batch, m, z, s)
  else hvpDotsDense(X, w, u, batch, m, z, s)
}

/** out ← Σ over blocks of four of (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃), c[k] the coefficient of the pass's row k. */
export const blockAxpyReference = (X: DesignMatrix, batch: RowBatch, c: RVec, out: Vec): Vec => {
  const m = begin('blockAxpy', X, batch, [out], [c])
  if (isCsr(X)) axpyCsr(X, batch, m, c, out)
  else axpyDense(X, batch, m, c, out)
  return out
}

/** The grad-type pass in TypeScript (see the module comment). Overwrites out (length p) and returns it. */
export const gradPassReference = (X: DesignMatrix, w: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec => {
  const m = passRows(X, batch)
  passScratch(m)
  const z = zS, s = sS, c = cS
  gradDotsReference(X, w, batch, z)
  coef(z.subarray(0, m), s.subarray(0, m), c.subarray(0, m))
  return blockAxpyReference(X, batch, c, out)
}

/** The hvp-type pass in TypeScript (see the module comment). Overwrites out (length p) and returns it. */
export const hvpPassReference = (X: DesignMatrix, w: RVec, u: RVec, batch: RowBatch, coef: RowCoef, out: Vec): Vec => {
  const m = passRows(X, batch)
  passScratch(m)
  const z = zS, s = sS, c = cS
  hvpDotsReference(X, w, u, batch, z, s)
  coef(z.subarray(0, m), s.subarray(0, m), c.subarray(0, m))
  return blockAxpyReference(X, batch, c, out)
}

/** The dots of a pass in TypeScript, handed to `read` (grad-type when u is undefined). */
export const dotsReference = (X: DesignMatrix, w: RVec, u: RVec | undefined, batch: RowBatch, read: RowDots): void => {
  const m = passRows(X, batch)
  passScratch(m)
  const z = zS, s = sS
  if (u === undefined) gradDotsReference(X, w, batch, z)
  else hvpDotsReference(X, w, u, batch, z, s)
  read(z.subarray(0, m), s.subarray(0, m))
}

/**
 * out ← Σᵢ (dᵢ·xᵢᵀu)·xᵢ over all rows (Xᵀ diag(d) X u) in TypeScript: the hvp-type pass whose
 * coefficients are dᵢ·sᵢ (sᵢ = xᵢᵀu with one accumulator in column order), bit for bit.
 */
export const gramVecReference = (X: DesignMatrix, d: RVec, u: RVec, out: Vec): Vec => {
  if (d.length !== X.rows) throw new RangeError(`gramVec: X has ${X.rows} rows, d has ${d.length} weights`)
  return hvpPassReference(X, u, u, undefined, (_z, s, c) => {
    for (let k = 0; k < c.length; k++) c[k] = d[k]! * s[k]!
  }, out)
}
