/**
 * The logistic row passes: the fused row kernels of `linalg/rows` with the coefficients of the
 * logistic loss, shared by logistic regression and data cleaning. For row i (zᵢ = xᵢᵀw, label yᵢ)
 * the terms are weighted by 1, by σ(λᵢ) (data cleaning) or by σ'(λᵢ)·μᵢ (the data-cleaning cross
 * term ∂_λ∇_wℓ μ), scaled by n/|B| on a minibatch:
 *
 *   gradient pass   out ← Σ scale · weightᵢ · yᵢ ψ'(yᵢzᵢ) xᵢ
 *   Hessian pass    out ← Σ scale · weightᵢ · yᵢ² ψ''(yᵢzᵢ) (xᵢᵀu) xᵢ
 *   value           Σ scale · weightᵢ · ψ(yᵢzᵢ)
 *
 * over a dense or CSR design matrix, on the WebAssembly row engine when it pays (bit for bit the
 * TypeScript kernels). The functions taking a raw row-major array (`rowGradPass(X, n, p, …)` and
 * the like) are the dense forms of the same passes.
 */
import { Buffer } from 'node:buffer'
import type { DesignMatrix } from '../linalg/csr.js'
import type { RowCoef, RowEngine } from '../linalg/rows/engine.js'
import { gradPass, gradPassOn, gramOf as designGramOf, gramVec, hvpPass, hvpPassOn, rowDots } from '../linalg/rows/passes.js'
import { gradPassReference, hvpPassReference, type RowBatch } from '../linalg/rows/reference.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch } from '../problem/bilevel.js'
import { d2psi, dpsi, dsigmoid, psi, sigmoid } from './losses.js'

/**
 * How each row's term is weighted in the logistic row kernels: `unit` (0) → 1 (plain logistic
 * loss), `sigmoid` (1) → σ(λᵢ) (data cleaning), `sigmoidSlope` (2) → σ'(λᵢ)·μᵢ (the data-cleaning
 * cross term ∂_λ∇_wℓ μ).
 */
export const RowWeight = { unit: 0, sigmoid: 1, sigmoidSlope: 2 } as const
/** One of the {@link RowWeight} values. */
export type RowWeight = (typeof RowWeight)[keyof typeof RowWeight]

const EMPTY: RVec = new Float64Array(0)

/** The weight of row i under `kind` (1, σ(λᵢ) or σ'(λᵢ)·μᵢ). */
export const rowWeight = (kind: RowWeight, lam: RVec, mu: RVec, i: number): number =>
  kind === RowWeight.unit ? 1 : kind === RowWeight.sigmoid ? sigmoid(lam[i]!) : dsigmoid(lam[i]!) * mu[i]!

/** The row index of the k-th term: batch[k], or k itself for the full sum. */
const rowAt = (batch: RowBatch, k: number): number => (batch === undefined ? k : batch[k]!)

/**
 * Check a minibatch against n samples: non-empty, every index in [0, n). Returns the scale n/|B|
 * of the unbiased estimate (1 for the full sum, `batch` undefined). Throws a RangeError otherwise.
 */
export const batchScale = (what: string, n: number, batch: Batch | undefined): number => {
  if (batch === undefined) return 1
  const b = batch.length
  if (b === 0) throw new RangeError(`${what}: empty minibatch`)
  for (let k = 0; k < b; k++) {
    const i = batch[k]!
    if (!(i >= 0 && i < n)) throw new RangeError(`${what}: batch index ${i} at position ${k} is outside [0, ${n})`)
  }
  return n / b
}

/**
 * The checks of an in-place product `what` (gradInto, hvpInto) of an objective of dimension
 * dim: out and the direction u (when given) have length dim, and out overlaps none of the
 * inputs. Throws a RangeError otherwise.
 */
export const checkInto = (what: string, dim: number, out: RVec, inputs: ReadonlyArray<RVec>, u?: RVec): void => {
  if (u !== undefined) assertDim(`${what}: u`, dim, u.length)
  assertDim(`${what}: out`, dim, out.length)
  for (const x of u === undefined ? inputs : [...inputs, u]) assertNoAlias(what, out, x)
}

/** Throws a RangeError when `out` shares memory with `x` (the row passes read x while writing out). */
export const assertNoAlias = (what: string, out: RVec, x: RVec): void => {
  if (out.buffer !== x.buffer) return
  const a0 = out.byteOffset, a1 = a0 + out.byteLength
  const b0 = x.byteOffset, b1 = b0 + x.byteLength
  if (a0 < b1 && b0 < a1) throw new RangeError(`${what}: the output buffer overlaps an input`)
}

const gradCoefs = (scale: number, weight: RowWeight, lam: RVec, mu: RVec, y: RVec, batch: RowBatch): RowCoef => (z, _s, c) => {
  for (let k = 0; k < c.length; k++) {
    const i = rowAt(batch, k)
    const yi = y[i]!
    c[k] = scale * rowWeight(weight, lam, mu, i) * yi * dpsi(yi * z[k]!)
  }
}

const hvpCoefs = (scale: number, weight: RowWeight, lam: RVec, mu: RVec, y: RVec, batch: RowBatch): RowCoef => (z, s, c) => {
  for (let k = 0; k < c.length; k++) {
    const i = rowAt(batch, k)
    const yi = y[i]!
    c[k] = scale * rowWeight(weight, lam, mu, i) * yi * yi * d2psi(yi * z[k]!) * s[k]!
  }
}

/** Whether a and b hold the same bits. */
const sameBits = (a: RVec, b: RVec): boolean =>
  a.length === b.length && Buffer.from(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength))

/**
 * The curvature weights eᵢ = scale · yᵢ² · ψ''(yᵢxᵢᵀw) of the last full unit-weight Hessian pass,
 * kept with its w: the next full pass at the same w (the products of a conjugate-gradient solve
 * at a fixed lower-level iterate) is Xᵀ diag(e) X u (`gramVec`), with no ψ'' to evaluate and,
 * on CSR data, one pass over the rows instead of two — the coefficients eᵢ·sᵢ are the plain
 * ones, the same product in the same order, so the result has the same bits.
 */
export class CurvatureMemo {
  private w = new Float64Array(0)
  private e = new Float64Array(0)
  private scale = Number.NaN

  /** The weights at w (and this scale), when this memo holds them. */
  at(w: RVec, scale: number): RVec | undefined {
    return this.scale === scale && sameBits(w, this.w) ? this.e : undefined
  }

  /** The coefficients of a full unit-weight pass at w with labels y, keeping the weights. */
  recording(w: RVec, y: RVec, scale: number): RowCoef {
    return (z, s, c) => {
      const m = c.length
      if (this.e.length !== m) this.e = new Float64Array(m)
      const e = this.e
      for (let k = 0; k < m; k++) {
        const yi = y[k]!
        e[k] = scale * 1 * yi * yi * d2psi(yi * z[k]!)
        c[k] = e[k]! * s[k]!
      }
      if (this.w.length !== w.length) this.w = new Float64Array(w.length)
      this.w.set(w)
      this.scale = scale
    }
  }
}

// ---------------------------------------------------------------------------------------------
// On a design matrix (dense or CSR)

/** out ← Σ scale · weightᵢ · yᵢψ'(yᵢxᵢᵀw) xᵢ over the rows of the pass (see the module comment). */
export const logisticGradPass = (
  X: DesignMatrix, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => gradPass(X, w, batch, gradCoefs(scale, weight, lam, mu, y, batch), out)

/**
 * out ← Σ scale · weightᵢ · yᵢ²ψ''(yᵢxᵢᵀw)(xᵢᵀu) xᵢ over the rows of the pass; with a memo, full
 * unit-weight passes at the w of the previous one reuse its curvature weights (the same bits).
 */
export const logisticHvpPass = (
  X: DesignMatrix, y: RVec, w: RVec, u: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec, memo?: CurvatureMemo,
): Vec => {
  if (memo === undefined || batch !== undefined || weight !== RowWeight.unit) return hvpPass(X, w, u, batch, hvpCoefs(scale, weight, lam, mu, y, batch), out)
  const e = memo.at(w, scale)
  return e !== undefined ? gramVec(X, e, u, out) : hvpPass(X, w, u, undefined, memo.recording(w, y, scale), out)
}

/** Σ scale · weightᵢ · ψ(yᵢxᵢᵀw) over the rows of the pass (summed in pass order, then scaled). */
export const logisticValue = (
  X: DesignMatrix, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
): number => {
  let acc = 0
  rowDots(X, w, undefined, batch, (z) => {
    for (let k = 0; k < z.length; k++) {
      const i = rowAt(batch, k)
      acc += rowWeight(weight, lam, mu, i) * psi(y[i]! * z[k]!)
    }
  })
  return scale * acc
}

/**
 * The weights Dᵢ = weight_i · yᵢ² · ψ''(yᵢ xᵢᵀw) of the data Hessian Xᵀ diag(D) X, for all n rows
 * (weight_i = 1, or σ(λᵢ) under `RowWeight.sigmoid`: data cleaning). Fresh.
 */
export const logisticCurvatures = (X: DesignMatrix, y: RVec, w: RVec, weight: 0 | 1, lam: RVec): Vec => {
  const d = new Float64Array(X.rows)
  rowDots(X, w, w, undefined, (z) => {
    for (let i = 0; i < z.length; i++) {
      const yi = y[i]!
      d[i] = rowWeight(weight, lam, EMPTY, i) * yi * yi * d2psi(yi * z[i]!)
    }
  })
  return d
}

/**
 * out[i] += scale · σ'(λᵢ) · yᵢ · ψ'(yᵢxᵢᵀw) · xᵢᵀv for every i of the pass (a repeated index
 * accumulates): the data-cleaning (∇²_wλ ℓ)ᵀv. out (length n) must be zeroed by the caller.
 */
export const logisticCrossVjpPass = (
  X: DesignMatrix, y: RVec, w: RVec, v: RVec, lam: RVec, batch: Batch | undefined, scale: number, out: Vec,
): Vec => {
  rowDots(X, w, v, batch, (z, s) => {
    for (let k = 0; k < z.length; k++) {
      const i = rowAt(batch, k)
      const yi = y[i]!
      out[i] = out[i]! + scale * dsigmoid(lam[i]!) * yi * dpsi(yi * z[k]!) * s[k]!
    }
  })
  return out
}

/**
 * Xᵀ diag(d) X: `weightedGram`, or the same bits from the WebAssembly row engine over X's sparse
 * rows when the engine serves X. For dense Hessians only (O(p²) memory).
 */
export const gramOf = (X: DesignMatrix, d: RVec): Matrix => designGramOf(X, d)

// ---------------------------------------------------------------------------------------------
// The dense forms, on a raw row-major n × p array

const dense = (X: RVec, n: number, p: number): Matrix => matrix(n, p, X)

/**
 * out ← Σ_{k<m} c_i xᵢ with i = batch[k] (or i = k over all n rows when batch is undefined),
 * c_i = scale · weight_i · yᵢ · ψ'(yᵢ xᵢᵀw): the data part of the gradient, in one pass over the
 * rows of the n × p row-major X. Overwrites out (length p) and returns it. Runs on the
 * WebAssembly row engine when it pays, with the same result bit for bit as
 * {@link rowGradPassReference}; batch indices must lie in [0, n).
 */
export const rowGradPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => logisticGradPass(dense(X, n, p), y, w, batch, scale, weight, lam, mu, out)

/** {@link rowGradPass} on a given row engine of X (n × p): the fast path, for laws and benchmarks. */
export const rowGradPassOn = (
  engine: RowEngine, X: RVec, n: number, p: number, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => gradPassOn(engine, dense(X, n, p), w, batch, gradCoefs(scale, weight, lam, mu, y, batch), out)

/** The TypeScript reference of {@link rowGradPass}: the kernel the WebAssembly engine reproduces bit for bit. */
export const rowGradPassReference = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => gradPassReference(dense(X, n, p), w, batch, gradCoefs(scale, weight, lam, mu, y, batch), out)

/**
 * out ← Σ_{k<m} c_i xᵢ with c_i = scale · weight_i · yᵢ² · ψ''(yᵢ xᵢᵀw) · xᵢᵀu: the data part of
 * the Hessian-vector product, in one pass over the rows. Same contract as {@link rowGradPass}.
 */
export const rowHvpPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => logisticHvpPass(dense(X, n, p), y, w, u, batch, scale, weight, lam, mu, out)

/** {@link rowHvpPass} on a given row engine of X (n × p). */
export const rowHvpPassOn = (
  engine: RowEngine, X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => hvpPassOn(engine, dense(X, n, p), w, u, batch, hvpCoefs(scale, weight, lam, mu, y, batch), out)

/** The TypeScript reference of {@link rowHvpPass}. */
export const rowHvpPassReference = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec, out: Vec,
): Vec => hvpPassReference(dense(X, n, p), w, u, batch, hvpCoefs(scale, weight, lam, mu, y, batch), out)

/** Σ_{k<m} scale · weight_i · ψ(yᵢ xᵢᵀw): the data part of the loss, in one pass. */
export const rowValue = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
): number => logisticValue(dense(X, n, p), y, w, batch, scale, weight, lam, mu)

/** {@link logisticCurvatures} of the dense n × p row-major X. */
export const rowCurvatures = (X: RVec, n: number, p: number, y: RVec, w: RVec, weight: 0 | 1, lam: RVec): Vec =>
  logisticCurvatures(dense(X, n, p), y, w, weight, lam)

/** {@link logisticCrossVjpPass} of the dense n × p row-major X. */
export const rowCrossVjpPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, v: RVec, lam: RVec, batch: Batch | undefined, scale: number, out: Vec,
): Vec => logisticCrossVjpPass(dense(X, n, p), y, w, v, lam, batch, scale, out)
