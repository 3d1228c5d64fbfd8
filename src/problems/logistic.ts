/**
 * L2-regularized logistic regression, the experiment of the SID paper (§6):
 *
 *   ℓ(w, λ) = Σ_{i∈train} ψ(yᵢ xᵢᵀw) + R(w, λ),    E(w) = Σ_{i∈val} ψ(yᵢ xᵢᵀw),
 *   ψ(u) = log(1 + e^{−u}),
 *   R(w, λ) = (λ/2)‖w‖²  ('scalar', one λ)   or   ½ wᵀdiag(λ)w  ('perFeature', one λ per feature).
 *
 * The losses are sums over the samples, not means. A minibatch B (an index array, possibly with
 * repeats) gives the unbiased estimate ℓ̂(w, λ, B) = (n/|B|) Σ_{i∈B} ψ(yᵢxᵢᵀw) + R(w, λ); the
 * regularizer enters whole, so the map separates as SID eq. (15) and m₂ = 0 (Remark 4.2).
 *
 * Derivatives (u = yᵢzᵢ, zᵢ = xᵢᵀw):
 *   ∇_w ℓ      = Σ ψ'(yᵢzᵢ) yᵢ xᵢ + diag(λ) w
 *   ∇²_ww ℓ u  = Σ ψ''(yᵢzᵢ) yᵢ² (xᵢᵀu) xᵢ + diag(λ) u
 *   ∇²_wλ ℓ μ  = μ w ('scalar')  or  μ ⊙ w ('perFeature');   its transpose v ↦ ⟨w, v⟩ or w ⊙ v.
 *
 * The hot loops are fused, allocation-free passes over the rows of the row-major design matrix
 * (`rowGradPass`, `rowHvpPass`): each row is read from memory once, as a view at offset i·p
 * (never copied), and used for its dot products and then its axpy while it sits in cache; rows
 * go four at a time so that the loads of w, u and `out` are shared. The pure methods allocate
 * only their output and call the same kernels, so both paths agree bit for bit.
 *
 * On large matrices (and from the second pass over the same matrix on) the passes run on the
 * WebAssembly SIMD kernels of `linalg/rowEngine.ts`, which perform the same floating-point
 * operations in the same order as the TypeScript kernels `rowGradPassReference` and
 * `rowHvpPassReference` and so return the same bits (laws/fusion.test.ts); on sparse data
 * (MNIST) they run on compressed sparse rows and skip the zeros, which changes no bit either
 * (see that module).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { hgError, type HypergradError } from '../errors.js'
import type { Batch } from '../problem/bilevel.js'
import { ermProblem, optimalStep, type ErmProblem, type LowerObjective, type UpperObjective } from '../problem/erm.js'
import type { Dataset } from '../data/dataset.js'
import { weightedGram } from '../linalg/gram.js'
import { autoRowEngine, type RowCoef, type RowEngine } from '../linalg/rowEngine.js'
import { assertDim, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import { normals, seed } from '../random/rng.js'

// ---------------------------------------------------------------------------------------------
// Scalar functions

/**
 * The logistic loss ψ(u) = log(1 + e^{−u}), computed as log1p(e^{−|u|}) + max(−u, 0): no
 * overflow for any finite u, and full relative precision both for large u (where ψ(u) ≈ e^{−u})
 * and for very negative u (where ψ(u) ≈ −u).
 */
export const psi = (u: number): number => Math.log1p(Math.exp(-Math.abs(u))) + (u < 0 ? -u : 0)

/** ψ'(u) = −1/(1 + e^{u}) = −σ(−u), evaluated without overflow on either side. */
export const dpsi = (u: number): number => {
  if (u >= 0) {
    const e = Math.exp(-u)
    return -e / (1 + e)
  }
  return -1 / (1 + Math.exp(u))
}

/** ψ''(u) = σ(u)σ(−u) = e^{−|u|}/(1 + e^{−|u|})² ∈ (0, 1/4], evaluated without overflow. */
export const d2psi = (u: number): number => {
  const e = Math.exp(-Math.abs(u))
  const d = 1 + e
  return e / (d * d)
}

/** The logistic sigmoid σ(t) = 1/(1 + e^{−t}), evaluated without overflow on either side. */
export const sigmoid = (t: number): number => {
  if (t >= 0) return 1 / (1 + Math.exp(-t))
  const e = Math.exp(t)
  return e / (1 + e)
}

/** σ'(t) = σ(t)σ(−t) = e^{−|t|}/(1 + e^{−|t|})², evaluated without overflow. */
export const dsigmoid = (t: number): number => {
  const e = Math.exp(-Math.abs(t))
  const d = 1 + e
  return e / (d * d)
}

// ---------------------------------------------------------------------------------------------
// Fused row kernels (shared with the data-cleaning problem)

/**
 * How each row's term is weighted in the row kernels: 0 → 1 (plain logistic loss),
 * 1 → σ(λᵢ) (data cleaning), 2 → σ'(λᵢ)·μᵢ (the data-cleaning cross term ∂_λ∇_wℓ μ).
 */
export type RowWeight = 0 | 1 | 2

const EMPTY: RVec = new Float64Array(0)

const rowWeight = (kind: RowWeight, lam: RVec, mu: RVec, i: number): number =>
  kind === 0 ? 1 : kind === 1 ? sigmoid(lam[i]!) : dsigmoid(lam[i]!) * mu[i]!

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

/** Throws a RangeError when `out` shares memory with `x` (the row passes read x while writing out). */
export const assertNoAlias = (what: string, out: RVec, x: RVec): void => {
  if (out.buffer !== x.buffer) return
  const a0 = out.byteOffset, a1 = a0 + out.byteLength
  const b0 = x.byteOffset, b1 = b0 + x.byteLength
  if (a0 < b1 && b0 < a1) throw new RangeError(`${what}: the output buffer overlaps an input`)
}

/** The row index of the k-th term: batch[k], or k itself for the full sum. */
const rowAt = (batch: Batch | undefined, k: number): number => (batch === undefined ? k : batch[k]!)

/*
 * Blocking. The row kernels take the rows four at a time: the four dot products share each load
 * of w (and u), and the four axpys share each load and store of `out`, which roughly halves the
 * work per matrix entry against one row at a time (the loops are compute-bound in JS, not
 * memory-bound). A last, partial block repeats its first row in the missing slots with
 * coefficient 0, so every block runs the same code; adding 0·x leaves `out` bit-for-bit
 * unchanged. The summation order is fixed (per row: even and odd columns in two accumulators;
 * per block: (c₀x₀ + c₁x₁) + (c₂x₂ + c₃x₃)), so results are deterministic.
 */

/** out[j] += (c0·X[o0+j] + c1·X[o1+j]) + (c2·X[o2+j] + c3·X[o3+j]) for j < p. */
const axpy4 = (
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

/**
 * out ← Σ_{k<m} c_i xᵢ with i = batch[k] (or i = k over all n rows when batch is undefined),
 * c_i = scale · weight_i · yᵢ · ψ'(yᵢ xᵢᵀw): the data part of the gradient, in ONE pass over
 * the rows of the n × p row-major X (each row is a view at offset i·p, never copied): per block
 * of four rows the four dots xᵢᵀw, then the four axpys with the rows still in cache.
 * Allocates nothing; overwrites out (length p) and returns it.
 *
 * Runs on the WebAssembly row engine when it pays (see the module comment), with the same
 * result bit for bit as {@link rowGradPassReference}; batch indices must lie in [0, n).
 */
export const rowGradPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  const engine = autoRowEngine(X, n, p)
  return engine === undefined
    ? rowGradPassReference(X, n, p, y, w, batch, scale, weight, lam, mu, out)
    : rowGradPassOn(engine, X, n, p, y, w, batch, scale, weight, lam, mu, out)
}

/**
 * {@link rowGradPass} on a given row engine of X (n × p): the fast path, for laws and
 * benchmarks (rowGradPass itself decides when the engine pays). Same result bit for bit as
 * {@link rowGradPassReference}, to which it defers when the engine declines (non-finite input).
 */
export const rowGradPassOn = (
  engine: RowEngine, X: RVec, n: number, p: number, y: RVec, w: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  if (engine.rows !== n || engine.cols !== p) throw new RangeError(`rowGradPassOn: the engine is ${engine.rows}×${engine.cols}, the matrix ${n}×${p}`)
  const coef: RowCoef = (z, _s, c) => {
    for (let k = 0; k < c.length; k++) c[k] = gradCoef(scale, weight, lam, mu, y, rowAt(batch, k), z[k]!)
  }
  return engine.gradPass(w, batch, coef, out) ?? rowGradPassReference(X, n, p, y, w, batch, scale, weight, lam, mu, out)
}

/**
 * The TypeScript reference of {@link rowGradPass} (the same contract): the kernel that the
 * WebAssembly engine reproduces bit for bit, and the path taken on small matrices.
 */
export const rowGradPassReference = (
  X: RVec, n: number, p: number, y: RVec, w: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  out.fill(0)
  const m = batch === undefined ? n : batch.length
  const p2 = p - (p & 1)
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const i0 = rowAt(batch, k)
    const i1 = left > 1 ? rowAt(batch, k + 1) : i0
    const i2 = left > 2 ? rowAt(batch, k + 2) : i0
    const i3 = left > 3 ? rowAt(batch, k + 3) : i0
    const o0 = i0 * p, o1 = i1 * p, o2 = i2 * p, o3 = i3 * p
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0
    let j = 0
    for (; j < p2; j += 2) {
      const w0 = w[j]!, w1 = w[j + 1]!
      a0 += X[o0 + j]! * w0
      b0 += X[o0 + j + 1]! * w1
      a1 += X[o1 + j]! * w0
      b1 += X[o1 + j + 1]! * w1
      a2 += X[o2 + j]! * w0
      b2 += X[o2 + j + 1]! * w1
      a3 += X[o3 + j]! * w0
      b3 += X[o3 + j + 1]! * w1
    }
    if (j < p) {
      const w0 = w[j]!
      a0 += X[o0 + j]! * w0
      a1 += X[o1 + j]! * w0
      a2 += X[o2 + j]! * w0
      a3 += X[o3 + j]! * w0
    }
    const c0 = gradCoef(scale, weight, lam, mu, y, i0, a0 + b0)
    const c1 = left > 1 ? gradCoef(scale, weight, lam, mu, y, i1, a1 + b1) : 0
    const c2 = left > 2 ? gradCoef(scale, weight, lam, mu, y, i2, a2 + b2) : 0
    const c3 = left > 3 ? gradCoef(scale, weight, lam, mu, y, i3, a3 + b3) : 0
    axpy4(X, p, o0, o1, o2, o3, c0, c1, c2, c3, out)
  }
  return out
}

const gradCoef = (scale: number, weight: RowWeight, lam: RVec, mu: RVec, y: RVec, i: number, z: number): number => {
  const yi = y[i]!
  return scale * rowWeight(weight, lam, mu, i) * yi * dpsi(yi * z)
}

const hvpCoef = (scale: number, weight: RowWeight, lam: RVec, mu: RVec, y: RVec, i: number, z: number, s: number): number => {
  const yi = y[i]!
  return scale * rowWeight(weight, lam, mu, i) * yi * yi * d2psi(yi * z) * s
}

/**
 * out ← Σ_{k<m} c_i xᵢ with c_i = scale · weight_i · yᵢ² · ψ''(yᵢ xᵢᵀw) · xᵢᵀu: the data part
 * of the Hessian-vector product, in ONE pass over the rows: per block of four rows the eight
 * dots xᵢᵀw and xᵢᵀu in the same loop, then the four axpys. Allocates nothing; overwrites out
 * (length p) and returns it.
 *
 * Runs on the WebAssembly row engine when it pays (see the module comment), with the same
 * result bit for bit as {@link rowHvpPassReference}; batch indices must lie in [0, n).
 */
export const rowHvpPass = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  const engine = autoRowEngine(X, n, p)
  return engine === undefined
    ? rowHvpPassReference(X, n, p, y, w, u, batch, scale, weight, lam, mu, out)
    : rowHvpPassOn(engine, X, n, p, y, w, u, batch, scale, weight, lam, mu, out)
}

/**
 * {@link rowHvpPass} on a given row engine of X (n × p): the fast path, for laws and
 * benchmarks. Same result bit for bit as {@link rowHvpPassReference}, to which it defers when
 * the engine declines (non-finite input).
 */
export const rowHvpPassOn = (
  engine: RowEngine, X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  if (engine.rows !== n || engine.cols !== p) throw new RangeError(`rowHvpPassOn: the engine is ${engine.rows}×${engine.cols}, the matrix ${n}×${p}`)
  const coef: RowCoef = (z, s, c) => {
    for (let k = 0; k < c.length; k++) c[k] = hvpCoef(scale, weight, lam, mu, y, rowAt(batch, k), z[k]!, s[k]!)
  }
  return engine.hvpPass(w, u, batch, coef, out) ?? rowHvpPassReference(X, n, p, y, w, u, batch, scale, weight, lam, mu, out)
}

/**
 * The TypeScript reference of {@link rowHvpPass} (the same contract): the kernel that the
 * WebAssembly engine reproduces bit for bit, and the path taken on small matrices.
 */
export const rowHvpPassReference = (
  X: RVec, n: number, p: number, y: RVec, w: RVec, u: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
  out: Vec,
): Vec => {
  out.fill(0)
  const m = batch === undefined ? n : batch.length
  for (let k = 0; k < m; k += 4) {
    const left = m - k
    const i0 = rowAt(batch, k)
    const i1 = left > 1 ? rowAt(batch, k + 1) : i0
    const i2 = left > 2 ? rowAt(batch, k + 2) : i0
    const i3 = left > 3 ? rowAt(batch, k + 3) : i0
    const o0 = i0 * p, o1 = i1 * p, o2 = i2 * p, o3 = i3 * p
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, s0 = 0, s1 = 0, s2 = 0, s3 = 0
    for (let j = 0; j < p; j++) {
      const wj = w[j]!, uj = u[j]!
      const x0 = X[o0 + j]!, x1 = X[o1 + j]!, x2 = X[o2 + j]!, x3 = X[o3 + j]!
      a0 += x0 * wj
      s0 += x0 * uj
      a1 += x1 * wj
      s1 += x1 * uj
      a2 += x2 * wj
      s2 += x2 * uj
      a3 += x3 * wj
      s3 += x3 * uj
    }
    const c0 = hvpCoef(scale, weight, lam, mu, y, i0, a0, s0)
    const c1 = left > 1 ? hvpCoef(scale, weight, lam, mu, y, i1, a1, s1) : 0
    const c2 = left > 2 ? hvpCoef(scale, weight, lam, mu, y, i2, a2, s2) : 0
    const c3 = left > 3 ? hvpCoef(scale, weight, lam, mu, y, i3, a3, s3) : 0
    axpy4(X, p, o0, o1, o2, o3, c0, c1, c2, c3, out)
  }
  return out
}

/**
 * The per-row factors Aᵢ = yᵢ²ψ''(yᵢxᵢᵀw) of the full-batch Hessian-vector product at w, each
 * computed exactly as {@link rowHvpPassReference} computes the factor of its coefficient
 * (xᵢᵀw with one accumulator in column order; the coefficient is then Aᵢ·xᵢᵀu), so that
 * {@link rowHvpPassFactors} gives the same bits. Overwrites out (length n) and returns it.
 */
export const rowHvpFactors = (X: RVec, n: number, p: number, y: RVec, w: RVec, out: Vec): Vec => {
  for (let i = 0; i < n; i++) {
    const o = i * p
    let z = 0
    for (let j = 0; j < p; j++) z += X[o + j]! * w[j]!
    const yi = y[i]!
    out[i] = 1 * rowWeight(0, EMPTY, EMPTY, i) * yi * yi * d2psi(yi * z)
  }
  return out
}

/**
 * The full-batch Hessian-vector product's data part Σ Aᵢ(xᵢᵀu)xᵢ from the factors of
 * {@link rowHvpFactors}: the same bits as {@link rowHvpPass} at the w of the factors (the same
 * dots xᵢᵀu, coefficients and block axpys), without the dots xᵢᵀw and the exponentials — the
 * product that conjugate gradient repeats at one w. Runs on the WebAssembly row engine when
 * rowHvpPass would. Overwrites out (length p) and returns it.
 */
export const rowHvpPassFactors = (X: RVec, n: number, p: number, y: RVec, w: RVec, A: RVec, u: RVec, out: Vec): Vec => {
  const engine = autoRowEngine(X, n, p)
  if (engine !== undefined) {
    const coef: RowCoef = (_z, s, c) => {
      for (let k = 0; k < c.length; k++) c[k] = A[k]! * s[k]!
    }
    return engine.hvpPass(w, u, undefined, coef, out) ?? rowHvpPassReference(X, n, p, y, w, u, undefined, 1, 0, EMPTY, EMPTY, out)
  }
  out.fill(0)
  for (let k = 0; k < n; k += 4) {
    const left = n - k
    const i1 = left > 1 ? k + 1 : k
    const i2 = left > 2 ? k + 2 : k
    const i3 = left > 3 ? k + 3 : k
    const o0 = k * p, o1 = i1 * p, o2 = i2 * p, o3 = i3 * p
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0
    for (let j = 0; j < p; j++) {
      const uj = u[j]!
      s0 += X[o0 + j]! * uj
      s1 += X[o1 + j]! * uj
      s2 += X[o2 + j]! * uj
      s3 += X[o3 + j]! * uj
    }
    const c0 = A[k]! * s0
    const c1 = left > 1 ? A[i1]! * s1 : 0
    const c2 = left > 2 ? A[i2]! * s2 : 0
    const c3 = left > 3 ? A[i3]! * s3 : 0
    axpy4(X, p, o0, o1, o2, o3, c0, c1, c2, c3, out)
  }
  return out
}

/** Σ_{k<m} scale · weight_i · ψ(yᵢ xᵢᵀw): the data part of the loss, in one pass. Allocates nothing. */
export const rowValue = (
  X: RVec, n: number, p: number, y: RVec, w: RVec,
  batch: Batch | undefined, scale: number,
  weight: RowWeight, lam: RVec, mu: RVec,
): number => {
  const m = batch === undefined ? n : batch.length
  const p2 = p - (p & 1)
  let acc = 0
  for (let k = 0; k < m; k++) {
    const i = rowAt(batch, k)
    const off = i * p
    let a = 0, b = 0
    let j = 0
    for (; j < p2; j += 2) {
      a += X[off + j]! * w[j]!
      b += X[off + j + 1]! * w[j + 1]!
    }
    if (j < p) a += X[off + j]! * w[j]!
    acc += rowWeight(weight, lam, mu, i) * psi(y[i]! * (a + b))
  }
  return scale * acc
}

/**
 * Xᵀ diag(d) X: `weightedGram`, or the same bits from the WebAssembly row engine over X's sparse
 * rows when the engine serves X (see linalg/rowEngine.ts).
 */
export const gramOf = (X: Matrix, d: RVec): Matrix =>
  autoRowEngine(X.data, X.rows, X.cols)?.gram(d) ?? weightedGram(X, d)

/**
 * The weights Dᵢ = weight_i · yᵢ² · ψ''(yᵢ xᵢᵀw) of the data Hessian Xᵀ diag(D) X, for all n rows
 * (weight_i = 1, or σ(λᵢ) when `lam` is given: data cleaning). Fresh.
 */
export const rowCurvatures = (X: RVec, n: number, p: number, y: RVec, w: RVec, weight: 0 | 1, lam: RVec): Vec => {
  const d = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const o = i * p
    let z = 0
    for (let j = 0; j < p; j++) z += X[o + j]! * w[j]!
    const yi = y[i]!
    d[i] = rowWeight(weight, lam, EMPTY, i) * yi * yi * d2psi(yi * z)
  }
  return d
}

// ---------------------------------------------------------------------------------------------
// σ_max(X)², once per dataset

/** out ← XᵀX v in one pass over the rows, four at a time; returns ‖Xv‖² (= vᵀXᵀXv). */
const gramPass = (X: RVec, n: number, p: number, v: RVec, out: Vec): number => {
  out.fill(0)
  const p2 = p - (p & 1)
  let ss = 0
  for (let k = 0; k < n; k += 4) {
    const left = n - k
    const o0 = k * p
    const o1 = left > 1 ? o0 + p : o0
    const o2 = left > 2 ? o0 + 2 * p : o0
    const o3 = left > 3 ? o0 + 3 * p : o0
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0
    let j = 0
    for (; j < p2; j += 2) {
      const v0 = v[j]!, v1 = v[j + 1]!
      a0 += X[o0 + j]! * v0
      b0 += X[o0 + j + 1]! * v1
      a1 += X[o1 + j]! * v0
      b1 += X[o1 + j + 1]! * v1
      a2 += X[o2 + j]! * v0
      b2 += X[o2 + j + 1]! * v1
      a3 += X[o3 + j]! * v0
      b3 += X[o3 + j + 1]! * v1
    }
    if (j < p) {
      const v0 = v[j]!
      a0 += X[o0 + j]! * v0
      a1 += X[o1 + j]! * v0
      a2 += X[o2 + j]! * v0
      a3 += X[o3 + j]! * v0
    }
    const s0 = a0 + b0
    const s1 = left > 1 ? a1 + b1 : 0
    const s2 = left > 2 ? a2 + b2 : 0
    const s3 = left > 3 ? a3 + b3 : 0
    ss += s0 * s0 + s1 * s1 + s2 * s2 + s3 * s3
    axpy4(X, p, o0, o1, o2, o3, s0, s1, s2, s3, out)
  }
  return ss
}

/** Relative accuracy to which the power iteration resolves σ_max(X)². */
export const SPECTRAL_TOL = 1e-10
/** Multiplicative safety margin applied to the power-iteration estimate (covers rounding). */
export const SPECTRAL_SAFETY = 1 + 1e-9
// Iteration cap: at least 1000 steps, more on small matrices (up to ~2e8 multiply-adds).
const SPECTRAL_MIN_ITER = 1000
const SPECTRAL_MAX_ITER = 100_000
const SPECTRAL_WORK = 2e8

const spectralCache = new WeakMap<object, { readonly rows: number; readonly cols: number; readonly value: number }>()

/**
 * A safe upper bound on σ_max(X)² = λ_max(XᵀX), computed once per design matrix and cached
 * (keyed by the matrix's data array; datasets are treated as immutable).
 *
 * Power iteration on XᵀX (one fused pass over the rows per step) from a fixed pseudo-random
 * unit start v. With ρ = ‖Xv‖² (the Rayleigh quotient) and r = ‖XᵀXv − ρv‖, writing c² for the
 * squared component of v on the top eigenspace, λ_max − ρ ≤ r·√(1−c²)/c, so λ_max ≤ ρ + r as
 * soon as c² ≥ 1/2, which power iteration reaches long before the residual is small. The loop
 * stops when r ≤ 1e-10·ρ (then ρ is λ_max to a relative accuracy of 1e-10) and returns
 * min(ρ + r, ‖X‖_F², ‖X‖₁‖X‖_∞)·(1 + 1e-9): the residual bound, capped by two always-valid
 * bounds, inflated by a tiny factor that covers the rounding of the sums. If the iteration cap
 * (≥ 1000 steps) is reached first (top eigenvalues nearly equal), it returns the always-valid
 * min(‖X‖_F², ‖X‖₁‖X‖_∞)·(1 + 1e-9) instead, which is safe but may be loose.
 */
export const squaredSpectralNorm = (X: Matrix): number => {
  const hit = spectralCache.get(X.data)
  if (hit !== undefined && hit.rows === X.rows && hit.cols === X.cols) return hit.value
  const value = computeSquaredSpectralNorm(X)
  spectralCache.set(X.data, { rows: X.rows, cols: X.cols, value })
  return value
}

const computeSquaredSpectralNorm = (X: Matrix): number => {
  const n = X.rows, p = X.cols, a = X.data
  assertDim('squaredSpectralNorm: data against rows·cols', n * p, a.length)
  let fro = 0
  for (let k = 0; k < a.length; k++) fro += a[k]! * a[k]!
  if (!(fro > 0)) return fro === 0 ? 0 : Number.NaN
  // The rigorous fallback: λ_max(XᵀX) ≤ min(‖X‖_F², ‖X‖₁‖X‖_∞).
  const colSum = new Float64Array(p)
  let rowMax = 0
  for (let i = 0; i < n; i++) {
    let r = 0
    for (let j = 0; j < p; j++) {
      const x = Math.abs(a[i * p + j]!)
      r += x
      colSum[j] = colSum[j]! + x
    }
    rowMax = Math.max(rowMax, r)
  }
  let colMax = 0
  for (let j = 0; j < p; j++) colMax = Math.max(colMax, colSum[j]!)
  const crude = Math.min(fro, rowMax * colMax)

  let v: Vec = normals(seed(0x5eed), p)[0]
  let nv = 0
  for (let j = 0; j < p; j++) nv += v[j]! * v[j]!
  nv = Math.sqrt(nv)
  for (let j = 0; j < p; j++) v[j] = v[j]! / nv
  let z: Vec = new Float64Array(p)
  const maxIter = Math.max(SPECTRAL_MIN_ITER, Math.min(SPECTRAL_MAX_ITER, Math.floor(SPECTRAL_WORK / (n * p))))
  for (let it = 0; it < maxIter; it++) {
    const rho = gramPass(a, n, p, v, z)
    let r2 = 0, nz2 = 0
    for (let j = 0; j < p; j++) {
      const d = z[j]! - rho * v[j]!
      r2 += d * d
      nz2 += z[j]! * z[j]!
    }
    const r = Math.sqrt(r2)
    if (r <= SPECTRAL_TOL * rho) return Math.min(crude, rho + r) * SPECTRAL_SAFETY
    const inv = 1 / Math.sqrt(nz2)
    for (let j = 0; j < p; j++) z[j] = z[j]! * inv
    const t = v
    v = z
    z = t
  }
  return crude * SPECTRAL_SAFETY
}

// ---------------------------------------------------------------------------------------------
// The objectives

/** The regularizer: one λ for all weights, or one per feature. */
export type Regularization = 'scalar' | 'perFeature'

/**
 * A lower objective with in-place, allocation-free versions of its two hot products, for the
 * solvers' fused loops. `gradInto`/`hvpInto` overwrite `out` (which must not overlap an input)
 * and return it; they agree bit for bit with `grad`/`hvp`.
 */
export interface FusedObjective extends LowerObjective {
  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec
  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec
}

/** out ← ∇_w ℓ(w, λ) (or ∇_w ℓ̂(w, λ, B) on a batch), in one pass over the rows. */
export const gradInto = (obj: FusedObjective, w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec =>
  obj.gradInto(w, lambda, out, batch)

/** out ← ∇²_ww ℓ(w, λ) u (or its minibatch estimate), in one pass over the rows. */
export const hvpInto = (obj: FusedObjective, w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec =>
  obj.hvpInto(w, lambda, u, out, batch)

/** max yᵢ² over the labels (1 for ±1 labels): the factor that ψ'' ≤ 1/4 picks up in the Hessian. */
export const maxLabelSq = (y: RVec): number => {
  let m = 0
  for (let i = 0; i < y.length; i++) m = Math.max(m, y[i]! * y[i]!)
  return m
}

const checkDataset = (what: string, d: Dataset): void => {
  assertDim(`${what}: X data against ${d.X.rows}×${d.X.cols}`, d.X.rows * d.X.cols, d.X.data.length)
  assertDim(`${what}: labels y against the ${d.X.rows} rows of X`, d.X.rows, d.y.length)
}

/**
 * The logistic-regression lower objective of SID §6 (see the module comment). Built by
 * `logisticObjective`; exposes the fused kernels as methods.
 */
export class LogisticObjective implements FusedObjective {
  readonly name: string
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  readonly separable = true
  private readonly X: RVec
  private readonly y: RVec
  private readonly yMaxSq: number
  private factors: { readonly w: Vec; readonly A: Vec } | undefined

  constructor(readonly train: Dataset, readonly regularization: Regularization) {
    checkDataset('logisticObjective: train', train)
    if (regularization !== 'scalar' && regularization !== 'perFeature')
      throw new RangeError(`logisticObjective: regularization must be 'scalar' or 'perFeature', got ${String(regularization)}`)
    this.name = `logistic(${regularization})`
    this.X = train.X.data
    this.y = train.y
    this.dim = train.X.cols
    this.nSamples = train.X.rows
    this.hyperDim = regularization === 'scalar' ? 1 : this.dim
    this.yMaxSq = maxLabelSq(train.y)
  }

  /** λ must have length 1 ('scalar') or p ('perFeature'), every entry finite and > 0. */
  checkLambda(lambda: RVec): E.Either<HypergradError, RVec> {
    if (lambda.length !== this.hyperDim)
      return E.left(hgError('dimension', `${this.name}: λ must have length ${this.hyperDim}, got ${lambda.length}`))
    for (let k = 0; k < lambda.length; k++) {
      const l = lambda[k]!
      if (!(Number.isFinite(l) && l > 0))
        return E.left(hgError('domain', `${this.name}: λ[${k}] = ${l} must be finite and > 0 (strong convexity)`))
    }
    return E.right(Float64Array.from(lambda))
  }

  private checkArgs(what: string, w: RVec, lambda: RVec): void {
    assertDim(`${this.name}.${what}: w`, this.dim, w.length)
    assertDim(`${this.name}.${what}: λ`, this.hyperDim, lambda.length)
  }

  value(w: RVec, lambda: RVec, batch?: Batch): number {
    this.checkArgs('value', w, lambda)
    const scale = batchScale(`${this.name}.value`, this.nSamples, batch)
    const data = rowValue(this.X, this.nSamples, this.dim, this.y, w, batch, scale, 0, EMPTY, EMPTY)
    let reg = 0
    if (this.hyperDim === 1) {
      for (let j = 0; j < this.dim; j++) reg += w[j]! * w[j]!
      reg *= lambda[0]!
    } else {
      for (let j = 0; j < this.dim; j++) reg += lambda[j]! * w[j]! * w[j]!
    }
    return data + 0.5 * reg
  }

  gradInto(w: RVec, lambda: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('gradInto', w, lambda)
    assertDim(`${this.name}.gradInto: out`, this.dim, out.length)
    assertNoAlias(`${this.name}.gradInto`, out, w)
    assertNoAlias(`${this.name}.gradInto`, out, lambda)
    const scale = batchScale(`${this.name}.grad`, this.nSamples, batch)
    rowGradPass(this.X, this.nSamples, this.dim, this.y, w, batch, scale, 0, EMPTY, EMPTY, out)
    addDiagInto(this.dim, lambda, w, out)
    return out
  }

  hvpInto(w: RVec, lambda: RVec, u: RVec, out: Vec, batch?: Batch): Vec {
    this.checkArgs('hvpInto', w, lambda)
    assertDim(`${this.name}.hvpInto: u`, this.dim, u.length)
    assertDim(`${this.name}.hvpInto: out`, this.dim, out.length)
    assertNoAlias(`${this.name}.hvpInto`, out, w)
    assertNoAlias(`${this.name}.hvpInto`, out, u)
    assertNoAlias(`${this.name}.hvpInto`, out, lambda)
    const scale = batchScale(`${this.name}.hvp`, this.nSamples, batch)
    if (batch === undefined) rowHvpPassFactors(this.X, this.nSamples, this.dim, this.y, w, this.factorsAt(w), u, out)
    else rowHvpPass(this.X, this.nSamples, this.dim, this.y, w, u, batch, scale, 0, EMPTY, EMPTY, out)
    addDiagInto(this.dim, lambda, u, out)
    return out
  }

  /**
   * The factors of the full-batch Hessian at w (`rowHvpFactors`), kept for the last w seen: the
   * products that conjugate gradient makes at one w then skip the dots xᵢᵀw and the
   * exponentials (same bits). The kept w is a private copy, compared entry by entry.
   */
  private factorsAt(w: RVec): RVec {
    const memo = this.factors
    if (memo !== undefined) {
      let same = true
      for (let j = 0; j < w.length && same; j++) same = Object.is(memo.w[j], w[j])
      if (same) return memo.A
    }
    const A = rowHvpFactors(this.X, this.nSamples, this.dim, this.y, w, memo?.A ?? new Float64Array(this.nSamples))
    this.factors = { w: Float64Array.from(w), A }
    return A
  }

  grad(w: RVec, lambda: RVec, batch?: Batch): Vec {
    return this.gradInto(w, lambda, new Float64Array(this.dim), batch)
  }

  hvp(w: RVec, lambda: RVec, u: RVec, batch?: Batch): Vec {
    return this.hvpInto(w, lambda, u, new Float64Array(this.dim), batch)
  }

  /** ∇²_wλ ℓ μ = μ₀ w ('scalar') or μ ⊙ w ('perFeature'); the same on every batch (eq. 15). */
  crossJvp(w: RVec, lambda: RVec, mu: RVec, batch?: Batch): Vec {
    this.checkArgs('crossJvp', w, lambda)
    assertDim(`${this.name}.crossJvp: μ`, this.hyperDim, mu.length)
    batchScale(`${this.name}.crossJvp`, this.nSamples, batch)
    const out = new Float64Array(this.dim)
    if (this.hyperDim === 1) {
      const m = mu[0]!
      for (let j = 0; j < this.dim; j++) out[j] = m * w[j]!
    } else {
      for (let j = 0; j < this.dim; j++) out[j] = mu[j]! * w[j]!
    }
    return out
  }

  /** (∇²_wλ ℓ)ᵀ v = [⟨w, v⟩] ('scalar') or w ⊙ v ('perFeature'); the same on every batch. */
  crossVjp(w: RVec, lambda: RVec, v: RVec, batch?: Batch): Vec {
    this.checkArgs('crossVjp', w, lambda)
    assertDim(`${this.name}.crossVjp: v`, this.dim, v.length)
    batchScale(`${this.name}.crossVjp`, this.nSamples, batch)
    if (this.hyperDim === 1) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0
      const p = this.dim, p4 = p - (p % 4)
      let j = 0
      for (; j < p4; j += 4) {
        a0 += w[j]! * v[j]!
        a1 += w[j + 1]! * v[j + 1]!
        a2 += w[j + 2]! * v[j + 2]!
        a3 += w[j + 3]! * v[j + 3]!
      }
      for (; j < p; j++) a0 += w[j]! * v[j]!
      return Float64Array.of((a0 + a1) + (a2 + a3))
    }
    const out = new Float64Array(this.dim)
    for (let j = 0; j < this.dim; j++) out[j] = w[j]! * v[j]!
    return out
  }

  /**
   * The dense Hessian ∇²_ww ℓ(w, λ) = Xᵀ diag(yᵢ² ψ''(yᵢxᵢᵀw)) X + diag(λ) (λ broadcast when
   * scalar), by the sparse-aware `weightedGram`: Σᵢ nnzᵢ²/2 multiply-adds (MNIST: 0.06 GFLOP,
   * against 784 Hessian-vector products). Fresh, symmetric.
   */
  hessian(w: RVec, lambda: RVec): Matrix {
    this.checkArgs('hessian', w, lambda)
    const h = gramOf(this.train.X, rowCurvatures(this.X, this.nSamples, this.dim, this.y, w, 0, EMPTY))
    const p = this.dim, g = h.data as Vec
    for (let j = 0; j < p; j++) g[j * p + j] = g[j * p + j]! + (this.hyperDim === 1 ? lambda[0]! : lambda[j]!)
    return h
  }

  /**
   * τ = min λ and L = max yᵢ² · σ_max(X_tr)²/4 + max λ (ψ'' ≤ 1/4; the label factor is 1 for
   * ±1 labels). σ_max² is the cached safe upper bound of `squaredSpectralNorm`.
   */
  curvature(lambda: RVec): { readonly tau: number; readonly L: number } {
    assertDim(`${this.name}.curvature: λ`, this.hyperDim, lambda.length)
    let lo = Infinity, hi = -Infinity
    for (let k = 0; k < lambda.length; k++) {
      lo = Math.min(lo, lambda[k]!)
      hi = Math.max(hi, lambda[k]!)
    }
    return { tau: lo, L: (this.yMaxSq * squaredSpectralNorm(this.train.X)) / 4 + hi }
  }
}

/** out += diag(λ) x (λ of length 1 broadcast). */
const addDiagInto = (p: number, lambda: RVec, x: RVec, out: Vec): void => {
  if (lambda.length === 1) {
    const l = lambda[0]!
    for (let j = 0; j < p; j++) out[j] = out[j]! + l * x[j]!
  } else {
    for (let j = 0; j < p; j++) out[j] = out[j]! + lambda[j]! * x[j]!
  }
}

/**
 * The lower objective ℓ(w, λ) = Σ_train ψ(yᵢxᵢᵀw) + R(w, λ) of SID §6, with R = (λ/2)‖w‖²
 * ('scalar') or ½wᵀdiag(λ)w ('perFeature'). Throws a RangeError when X and y disagree in shape.
 */
export const logisticObjective = (train: Dataset, regularization: Regularization): LogisticObjective =>
  new LogisticObjective(train, regularization)

/**
 * The upper objective E(w) = Σ_val ψ(yᵢxᵢᵀw) of SID §6 (no direct dependence on λ, so
 * ∇₂E = 0 ∈ R^hyperDim).
 */
export class LogisticUpper implements UpperObjective {
  readonly dim: number
  private readonly n: number
  constructor(readonly validation: Dataset, readonly hyperDim: number) {
    checkDataset('logisticUpper: validation', validation)
    if (!(Number.isInteger(hyperDim) && hyperDim >= 0)) throw new RangeError(`logisticUpper: hyperDim must be a non-negative integer, got ${hyperDim}`)
    this.dim = validation.X.cols
    this.n = validation.X.rows
  }
  value(w: RVec, lambda: RVec): number {
    assertDim('logisticUpper.value: w', this.dim, w.length)
    assertDim('logisticUpper.value: λ', this.hyperDim, lambda.length)
    return rowValue(this.validation.X.data, this.n, this.dim, this.validation.y, w, undefined, 1, 0, EMPTY, EMPTY)
  }
  /** ∇₁E(w) = Σ_val ψ'(yᵢxᵢᵀw) yᵢ xᵢ, in one pass over the validation rows. */
  gradW(w: RVec, lambda: RVec): Vec {
    assertDim('logisticUpper.gradW: w', this.dim, w.length)
    assertDim('logisticUpper.gradW: λ', this.hyperDim, lambda.length)
    return rowGradPass(this.validation.X.data, this.n, this.dim, this.validation.y, w, undefined, 1, 0, EMPTY, EMPTY, new Float64Array(this.dim))
  }
  gradLambda(w: RVec, lambda: RVec): Vec {
    assertDim('logisticUpper.gradLambda: w', this.dim, w.length)
    assertDim('logisticUpper.gradLambda: λ', this.hyperDim, lambda.length)
    return new Float64Array(this.hyperDim)
  }
}

/** The validation loss E(w) = Σ_val ψ(yᵢxᵢᵀw) (SID §6), for a λ of length hyperDim. */
export const logisticUpper = (validation: Dataset, hyperDim: number): LogisticUpper => new LogisticUpper(validation, hyperDim)

/**
 * Validate a dataset at the library boundary: shapes agree and every entry is finite.
 * Returns a 'dimension' or 'data' error naming the dataset otherwise.
 */
export const validateDataset = (what: string, d: Dataset, minRows = 0): E.Either<HypergradError, Dataset> => {
  const { rows, cols, data } = d.X
  if (data.length !== rows * cols)
    return E.left(hgError('dimension', `${what}: X is ${rows}×${cols} but holds ${data.length} entries`))
  if (d.y.length !== rows)
    return E.left(hgError('dimension', `${what}: X has ${rows} rows but y has ${d.y.length} labels`))
  if (rows < minRows) return E.left(hgError('data', `${what}: needs at least ${minRows} rows, got ${rows}`))
  for (let k = 0; k < data.length; k++)
    if (!Number.isFinite(data[k]!)) return E.left(hgError('data', `${what}: X[${Math.floor(k / cols)}, ${k % cols}] = ${data[k]} is not finite`))
  for (let i = 0; i < rows; i++)
    if (!Number.isFinite(d.y[i]!)) return E.left(hgError('data', `${what}: y[${i}] = ${d.y[i]} is not finite`))
  return E.right(d)
}

/** Check that training and validation data have the same number of features. */
export const validateSplit = (what: string, train: Dataset, validation: Dataset): E.Either<HypergradError, void> =>
  train.X.cols === validation.X.cols
    ? E.right(undefined)
    : E.left(hgError('dimension', `${what}: train has ${train.X.cols} features but validation has ${validation.X.cols}`))

/** Options of `logisticProblem`. */
export interface LogisticProblemOptions {
  readonly regularization: Regularization
  /** The step α of Φ = w − α∇ℓ; default 2/(L+τ) at the given λ (SID §6 footnote 3). */
  readonly alpha?: number
}

/**
 * The bilevel logistic-regression problem of SID §6: Φ(w, λ) = w − α∇₁ℓ(w, λ) with the lower
 * objective of `logisticObjective` and the upper objective of `logisticUpper`. Validates the
 * data (shapes, finiteness), λ (`checkLambda`) and α; α defaults to 2/(L+τ) at this λ, which
 * gives the contraction constant q = (L−τ)/(L+τ).
 */
export const logisticProblem = (
  train: Dataset, validation: Dataset, lambda: RVec, opts: LogisticProblemOptions,
): E.Either<HypergradError, ErmProblem> => {
  if (opts.regularization !== 'scalar' && opts.regularization !== 'perFeature')
    return E.left(hgError('config', `logisticProblem: regularization must be 'scalar' or 'perFeature', got ${String(opts.regularization)}`))
  const valid = pipe(
    validateDataset('logisticProblem: train', train, 1),
    E.chain(() => validateDataset('logisticProblem: validation', validation)),
    E.chain(() => validateSplit('logisticProblem', train, validation)),
  )
  if (E.isLeft(valid)) return valid
  const lower = logisticObjective(train, opts.regularization)
  const lam = lower.checkLambda(lambda)
  if (E.isLeft(lam)) return lam
  const upper = logisticUpper(validation, lower.hyperDim)
  const alpha = opts.alpha ?? optimalStep(lower.curvature(lam.right))
  return ermProblem(lower, upper, { alpha, name: lower.name })
}
