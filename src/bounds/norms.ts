/**
 * Spectral norms of linear maps known only by their products x ↦ Ax and y ↦ Aᵀy, without the
 * dense matrix: the bounds need ‖∂₂Φ(w)‖, ‖B(w)‖ = ‖∇²_{wλ}ℓ(w)‖ and per-sample ‖∂₁Φ̂ᵢ(w)‖, whose
 * sides are the number of parameters d and of hyperparameters m — both 10⁵–10⁶ for per-feature
 * regularization on text data, where a dense d × m matrix does not fit in memory.
 *
 * `operatorNorm` works on the Gram matrix of the smaller side, n = min(d, m):
 *  - n ≤ `GRAM_SIDE`: the n × n Gram matrix from n products each way, and its largest eigenvalue
 *    (cyclic Jacobi): exact up to rounding, O(n²) memory;
 *  - otherwise power iteration on the Gram operator (O(d + m) memory, two products a step) from a
 *    fixed pseudo-random start. With ρ = vᵀGv at a unit iterate v and r = ‖Gv − ρv‖, some
 *    eigenvalue of G lies in [ρ − r, ρ + r] (the residual bound for symmetric matrices); once the
 *    iterate has locked on the top eigenvector, that eigenvalue is λ_max(G) = ‖A‖². The loop stops
 *    at r ≤ `tol`·ρ and returns √(ρ + r)·(1 + 1e-9) (the factor covers the rounding of the
 *    sums). If the iteration cap is reached first (the top eigenvalues nearly equal), it returns
 *    the Frobenius norm instead, from n more products: always an upper bound, possibly loose.
 * The same argument and tolerances as `squaredSpectralNorm` of problems/logistic.ts, for a map
 * given by products instead of a design matrix.
 */
import { symmetricEigenvalues } from '../linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../linalg/types.js'
import { normals, seed } from '../random/rng.js'

/** A linear map A: R^cols → R^rows by its two products. */
export interface LinearMapProducts {
  readonly rows: number
  readonly cols: number
  /** A x (length cols → rows). */
  apply(x: RVec): RVec
  /** Aᵀ y (length rows → cols). */
  applyT(y: RVec): RVec
}

/** The largest side of the Gram matrix that `operatorNorm` builds densely (32 KiB). */
export const GRAM_SIDE = 64

/** Options of `operatorNorm`. */
export interface OperatorNormOptions {
  /** Relative residual r/ρ at which power iteration stops (default 1e-10). */
  readonly tol?: number
  /** Power-iteration cap (default 5000 steps). */
  readonly maxIter?: number
  /** Largest Gram side built densely (default `GRAM_SIDE`; 0 forces power iteration). */
  readonly gramSide?: number
}

const SAFETY = 1 + 1e-9

const unit = (n: number, j: number): Vec => {
  const e = new Float64Array(n)
  e[j] = 1
  return e
}

const sumSquares = (x: RVec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return s
}

/**
 * ‖A‖₂ of a map given by its products (see the module comment): exact up to rounding when the
 * smaller side is at most `gramSide`, otherwise an upper bound √(ρ + r)(1 + 1e-9) from a
 * converged power iteration (Frobenius norm when it does not converge). 0 for an empty map;
 * NaN when a product is not finite. Never allocates more than O(d + m + gramSide²).
 */
export const operatorNorm = (a: LinearMapProducts, opts: OperatorNormOptions = {}): number => {
  const { rows, cols } = a
  if (rows === 0 || cols === 0) return 0
  // The Gram operator on the smaller side: AᵀA on R^cols, or AAᵀ on R^rows.
  const onCols = cols <= rows
  const n = onCols ? cols : rows
  const first = (x: RVec): RVec => (onCols ? a.apply(x) : a.applyT(x))
  const gram = (x: RVec): RVec => (onCols ? a.applyT(a.apply(x)) : a.apply(a.applyT(x)))
  if (n === 1) return Math.sqrt(sumSquares(first(unit(1, 0))))
  if (n <= (opts.gramSide ?? GRAM_SIDE)) {
    const g = new Float64Array(n * n)
    for (let j = 0; j < n; j++) {
      const col = gram(unit(n, j))
      for (let i = 0; i < n; i++) g[i * n + j] = col[i]!
    }
    if (!g.every(Number.isFinite)) return Number.NaN
    // Symmetrize the rounding, so that Jacobi sees a symmetric matrix.
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++) {
        const s = 0.5 * (g[i * n + j]! + g[j * n + i]!)
        g[i * n + j] = s
        g[j * n + i] = s
      }
    const ev = symmetricEigenvalues(matrix(n, n, g))
    return Math.sqrt(Math.max(0, ev[n - 1]!))
  }
  const tol = opts.tol ?? 1e-10
  const maxIter = opts.maxIter ?? 5000
  let v: Vec = normals(seed(0x5eed), n)[0]
  const nv = Math.sqrt(sumSquares(v))
  for (let i = 0; i < n; i++) v[i] = v[i]! / nv
  for (let it = 0; it < maxIter; it++) {
    const z = gram(v)
    let rho = 0
    for (let i = 0; i < n; i++) rho += v[i]! * z[i]!
    let r2 = 0
    for (let i = 0; i < n; i++) r2 += (z[i]! - rho * v[i]!) ** 2
    const nz = Math.sqrt(sumSquares(z))
    if (!Number.isFinite(nz)) return Number.NaN
    if (nz === 0) return 0
    const r = Math.sqrt(r2)
    if (r <= tol * rho) return Math.sqrt(rho + r) * SAFETY
    v = Float64Array.from(z, (x) => x / nz)
  }
  let fro = 0
  for (let j = 0; j < n; j++) fro += sumSquares(first(unit(n, j)))
  return Math.sqrt(fro) * SAFETY
}
