/**
 * σ_max(X)² = λ_max(XᵀX) of a dense or CSR design matrix, safely over-estimated and cached per
 * matrix: the smoothness constant of every generalized linear model's data term (logistic:
 * L = σ_max²/4 + max λ; softmax: σ_max²/2 + max λ). Computed by power iteration on XᵀX with the
 * row passes, so it costs O(nnz) memory and time per step: no p × p matrix is ever formed.
 */
import { isCsr, type DesignMatrix } from '../linalg/csr.js'
import { gradPass } from '../linalg/rows/passes.js'
import type { RVec, Vec } from '../linalg/types.js'
import { normals, seed } from '../random/rng.js'

/** Relative accuracy to which the power iteration resolves σ_max(X)². */
export const SPECTRAL_TOL = 1e-10
/** Multiplicative safety margin applied to the power-iteration estimate (covers rounding). */
export const SPECTRAL_SAFETY = 1 + 1e-9
// Iteration cap: at least 1000 steps, more on small matrices (up to ~2e8 multiply-adds).
const SPECTRAL_MIN_ITER = 1000
const SPECTRAL_MAX_ITER = 100_000
const SPECTRAL_WORK = 2e8

interface Cached {
  readonly rows: number
  readonly cols: number
  readonly indptr: unknown
  readonly value: number
}

const spectralCache = new WeakMap<object, Cached>()

/**
 * A safe upper bound on σ_max(X)² = λ_max(XᵀX), computed once per design matrix and cached
 * (keyed by its value array: the dense data or the CSR values; datasets are treated as
 * immutable). A CSR matrix and the dense matrix with the same entries give the same bits.
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
export const squaredSpectralNorm = (X: DesignMatrix): number => {
  const key = isCsr(X) ? X.values : X.data
  const indptr = isCsr(X) ? X.indptr : undefined
  const hit = spectralCache.get(key)
  if (hit !== undefined && hit.rows === X.rows && hit.cols === X.cols && hit.indptr === indptr) return hit.value
  const value = computeSquaredSpectralNorm(X)
  spectralCache.set(key, { rows: X.rows, cols: X.cols, indptr, value })
  return value
}

/** ‖X‖_F² and min over the two norms ‖X‖₁‖X‖_∞ (column and row sums of |x|), in row-major order. */
const crudeBounds = (X: DesignMatrix): { readonly fro: number; readonly oneInf: number } => {
  const n = X.rows, p = X.cols
  const colSum = new Float64Array(p)
  let fro = 0
  let rowMax = 0
  if (isCsr(X)) {
    const { indptr, indices, values } = X
    for (let k = 0; k < indptr[n]!; k++) fro += values[k]! * values[k]!
    for (let i = 0; i < n; i++) {
      let r = 0
      for (let q = indptr[i]!; q < indptr[i + 1]!; q++) {
        const x = Math.abs(values[q]!)
        r += x
        colSum[indices[q]!] = colSum[indices[q]!]! + x
      }
      rowMax = Math.max(rowMax, r)
    }
  } else {
    const a = X.data
    if (a.length !== n * p) throw new RangeError(`squaredSpectralNorm: data against rows·cols: expected length ${n * p}, got ${a.length}`)
    for (let k = 0; k < a.length; k++) fro += a[k]! * a[k]!
    for (let i = 0; i < n; i++) {
      let r = 0
      for (let j = 0; j < p; j++) {
        const x = Math.abs(a[i * p + j]!)
        r += x
        colSum[j] = colSum[j]! + x
      }
      rowMax = Math.max(rowMax, r)
    }
  }
  let colMax = 0
  for (let j = 0; j < p; j++) colMax = Math.max(colMax, colSum[j]!)
  return { fro, oneInf: rowMax * colMax }
}

const computeSquaredSpectralNorm = (X: DesignMatrix): number => {
  const n = X.rows, p = X.cols
  const { fro, oneInf } = crudeBounds(X)
  if (!(fro > 0)) return fro === 0 ? 0 : Number.NaN
  // The rigorous fallback: λ_max(XᵀX) ≤ min(‖X‖_F², ‖X‖₁‖X‖_∞).
  const crude = Math.min(fro, oneInf)

  let v: Vec = normals(seed(0x5eed), p)[0]
  let nv = 0
  for (let j = 0; j < p; j++) nv += v[j]! * v[j]!
  nv = Math.sqrt(nv)
  for (let j = 0; j < p; j++) v[j] = v[j]! / nv
  let z: Vec = new Float64Array(p)
  // ρ = ‖Xv‖², summed four rows at a time as ((z₀² + z₁²) + z₂²) + z₃² per block; XᵀXv by the block axpy.
  let rho = 0
  const coef = (dots: RVec, _s: RVec, c: Vec): void => {
    let ss = 0
    const m = dots.length
    for (let k = 0; k < m; k += 4) {
      let t = dots[k]! * dots[k]!
      if (k + 1 < m) t = t + dots[k + 1]! * dots[k + 1]!
      if (k + 2 < m) t = t + dots[k + 2]! * dots[k + 2]!
      if (k + 3 < m) t = t + dots[k + 3]! * dots[k + 3]!
      ss += t
    }
    for (let k = 0; k < m; k++) c[k] = dots[k]!
    rho = ss
  }
  const maxIter = Math.max(SPECTRAL_MIN_ITER, Math.min(SPECTRAL_MAX_ITER, Math.floor(SPECTRAL_WORK / (n * p))))
  for (let it = 0; it < maxIter; it++) {
    gradPass(X, v, undefined, coef, z)
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
