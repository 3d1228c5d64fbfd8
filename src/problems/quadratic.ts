/**
 * The quadratic test bed: a stochastic ERM problem (SID eq. 2–3) on which every constant the
 * papers' bounds need is known exactly, and the fixed point and hypergradient have closed forms.
 *
 * Lower level, a finite sum over i = 0..n−1:
 *   ℓ̂ᵢ(w, λ) = ½ wᵀAᵢw − wᵀ(Bᵢλ + cᵢ),   ℓ = (1/n) Σᵢ ℓ̂ᵢ = ½ wᵀAw − wᵀ(Bλ + c),
 * with A, B, c the means of Aᵢ, Bᵢ, cᵢ. A minibatch estimate is the mean of ℓ̂ᵢ over the batch
 * (repeated indices counted as often as they occur), so its expectation over uniform batches is ℓ.
 *
 * Construction (all from one seed):
 *  - A = Q diag(s) Qᵀ with Q a random orthogonal matrix and s evenly spaced from τ to L, so that
 *    the extreme eigenvalues τ and L are attained exactly.
 *  - Aᵢ = A + Sᵢ with Sᵢ symmetric, Σᵢ Sᵢ = 0, and ‖Sᵢ‖₂ ≤ ‖Sᵢ‖_F ≤ spread·τ: each Aᵢ is then
 *    symmetric positive definite with λ_min(Aᵢ) ≥ (1 − spread)τ (so PSD, as SID Remark 4.2 asks).
 *  - Bᵢ = B + (centred Gaussian), or Bᵢ = B for all i when `separable` (then
 *    Φ̂ᵢ = (w − αAᵢw + αcᵢ) + αBλ separates as SID eq. 15 and m₂ = 0).
 *  - cᵢ = c + (centred Gaussian).
 *
 * Upper level: E(w, λ) = ½‖Cw − e‖² + (upperReg/2)‖λ‖², C (d×d) and e seeded random.
 *
 * Closed forms: w(λ) = A⁻¹(Bλ + c) and, by SID eq. 4–5 with ∂₁Φ = I − αA, ∂₂Φ = αB,
 *   ∇f(λ) = upperReg·λ + Bᵀ A⁻¹ Cᵀ(C w(λ) − e)   (α cancels).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { axpy, dot, gemv, gemvT } from '../linalg/kernels.js'
import { matMul, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { assertDim, matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import type { Batch, ClosedForm } from '../problem/bilevel.js'
import { ErmProblem, ermProblem, gdContraction, optimalStep, type LowerObjective, type UpperObjective } from '../problem/erm.js'
import * as R from '../random/rng.js'

// ───────────────────────────── shared helpers (used by the other test problems) ─────────────

/** A rows×cols matrix of independent N(0, scale²) entries, and the next Rng. */
export const gaussianMatrix = (rng: R.Rng, rows: number, cols: number, scale = 1): readonly [Matrix, R.Rng] => {
  const [z, next] = R.normals(rng, rows * cols)
  if (scale !== 1) for (let i = 0; i < z.length; i++) z[i] = scale * z[i]!
  return [matrix(rows, cols, z), next]
}

/**
 * A random n×n orthogonal matrix (Haar distributed): the Q factor, with positive diagonal R, of
 * a Gaussian matrix, computed by modified Gram–Schmidt with one re-orthogonalization pass so
 * that QᵀQ = I to rounding.
 */
export const randomOrthogonal = (rng: R.Rng, n: number): readonly [Matrix, R.Rng] => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`randomOrthogonal: size must be a positive integer, got ${n}`)
  for (let attempt = 0, r = rng; ; attempt++) {
    const [g, next] = R.normals(r, n * n)
    // Columns of q are the columns of g; work column-major in `cols` for locality.
    const cols: Float64Array[] = []
    let ok = true
    for (let j = 0; j < n && ok; j++) {
      const v = new Float64Array(n)
      for (let i = 0; i < n; i++) v[i] = g[i * n + j]!
      const norm0 = Math.sqrt(dot(n, v, 1, 0, v, 1, 0))
      for (let pass = 0; pass < 2; pass++) {
        for (const u of cols) axpy(n, -dot(n, u, 1, 0, v, 1, 0), u, 1, 0, v, 1, 0)
      }
      const nv = Math.sqrt(dot(n, v, 1, 0, v, 1, 0))
      if (!(nv > 1e-8 * norm0)) ok = false // (probability zero) degenerate draw: redraw
      for (let i = 0; i < n; i++) v[i] = v[i]! / nv
      cols.push(v)
    }
    if (ok || attempt > 10) {
      const q = new Float64Array(n * n)
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) q[i * n + j] = cols[j]![i]!
      return [matrix(n, n, q), next]
    }
    r = next
  }
}

/** Q diag(s) Qᵀ for orthogonal Q, fresh (symmetrized exactly). */
export const spectralMatrix = (q: Matrix, s: RVec): Matrix => {
  const n = q.rows
  assertDim('spectralMatrix: eigenvalues against Q', n, s.length)
  const out = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let acc = 0
      for (let k = 0; k < n; k++) acc += q.data[i * n + k]! * s[k]! * q.data[j * n + k]!
      out[i * n + j] = acc
      out[j * n + i] = acc
    }
  }
  return matrix(n, n, out)
}

/**
 * Check a hyperparameter vector against its length and finiteness: the whole domain of the
 * test problems whose λ ranges over all of Rᵐ. Messages name the problem and the entry at fault.
 */
export const checkRealLambda = (name: string, m: number, lambda: RVec): E.Either<HypergradError, RVec> => {
  if (lambda.length !== m) return E.left(hgError('dimension', `${name}: λ has length ${lambda.length}, expected ${m}`))
  for (let i = 0; i < m; i++) {
    const v = lambda[i]!
    if (!Number.isFinite(v)) return E.left(hgError('domain', `${name}: λ[${i}] = ${v} is not finite`))
  }
  return E.right(lambda)
}

/** Throws a RangeError, naming `name`, when a batch is empty or holds an index outside 0..n−1. */
export const checkBatch = (name: string, n: number, batch: Batch): void => {
  if (batch.length === 0) throw new RangeError(`${name}: empty batch`)
  for (let k = 0; k < batch.length; k++) {
    const i = batch[k]!
    if (!(i >= 0 && i < n)) throw new RangeError(`${name}: batch index ${i} at position ${k} outside 0..${n - 1}`)
  }
}

/**
 * The sizes of a finite-sum lower objective `name` (w ∈ Rᵈ, λ ∈ Rᵐ, n samples) and the shape
 * checks of its methods' arguments, shared by the test problems: each check throws a RangeError
 * naming the method `what`.
 */
export const finiteSumShape = (name: string, d: number, m: number, n: number) => {
  const w = (what: string, x: RVec): void => assertDim(`${name}.${what}: w`, d, x.length)
  const lambda = (what: string, l: RVec): void => assertDim(`${name}.${what}: λ`, m, l.length)
  return {
    sizes: { name, dim: d, hyperDim: m, nSamples: n },
    w,
    lambda,
    /** w and λ. */
    args: (what: string, x: RVec, l: RVec): void => {
      w(what, x)
      lambda(what, l)
    },
    batch: (what: string, batch: Batch): void => checkBatch(`${name}.${what}`, n, batch),
  }
}

/**
 * The closed forms of a problem whose fixed point is affine in λ, w(λ) = K(Nλ + c), with K the
 * d×d inverse of the fixed-point system and N d×m: w(λ), and (SID eq. 4–5)
 * ∇f(λ) = ∇₂E(w, λ) + Nᵀ Kᵀ ∇₁E(w, λ) at w = w(λ). When K is symmetric (`kSymmetric`, as A⁻¹ of
 * the quadratic test bed) K itself multiplies ∇₁E, row by row.
 */
export const affineSolution = (K: Matrix, N: Matrix, c: RVec, lambda: RVec): Vec => {
  const d = K.rows
  const rhs = gemv(d, N.cols, 1, N.data, N.cols, 0, lambda, 1, 0, 0, new Float64Array(d), 1, 0)
  axpy(d, 1, c, 1, 0, rhs, 1, 0)
  return gemv(d, d, 1, K.data, d, 0, rhs, 1, 0, 0, new Float64Array(d), 1, 0)
}
export const affineHypergradient = (K: Matrix, N: Matrix, kSymmetric: boolean, upper: UpperObjective, w: RVec, lambda: RVec): Vec => {
  const d = K.rows
  const g = upper.gradW(w, lambda)
  const v = kSymmetric ? gemv(d, d, 1, K.data, d, 0, g, 1, 0, 0, new Float64Array(d), 1, 0) : gemvT(d, d, 1, K.data, d, 0, g, 1, 0, 0, new Float64Array(d), 1, 0)
  const out = upper.gradLambda(w, lambda)
  return gemvT(d, N.cols, 1, N.data, N.cols, 0, v, 1, 0, 1, out, 1, 0)
}

/**
 * The upper objective E(w, λ) = ½‖Cw − e‖² + (reg/2)‖λ‖², shared by the quadratic and the
 * linear fixed-point problems: ∇₁E = Cᵀ(Cw − e) (Lipschitz with μ₁ = ‖CᵀC‖), ∇₂E = reg·λ (μ₂ = reg).
 */
export const quadraticUpper = (C: Matrix, e: RVec, reg: number): UpperObjective => {
  assertDim('quadraticUpper: e against C.rows', C.rows, e.length)
  const residual = (w: RVec): Vec => {
    assertDim('quadraticUpper: w against C.cols', C.cols, w.length)
    const r = gemv(C.rows, C.cols, 1, C.data, C.cols, 0, w, 1, 0, 0, new Float64Array(C.rows), 1, 0)
    return axpy(C.rows, -1, e, 1, 0, r, 1, 0)
  }
  return {
    value: (w, lambda) => {
      const r = residual(w)
      return 0.5 * dot(r.length, r, 1, 0, r, 1, 0) + 0.5 * reg * dot(lambda.length, lambda, 1, 0, lambda, 1, 0)
    },
    gradW: (w) => {
      const r = residual(w)
      return gemvT(C.rows, C.cols, 1, C.data, C.cols, 0, r, 1, 0, 0, new Float64Array(C.cols), 1, 0)
    },
    gradLambda: (_w, lambda) => {
      const g = new Float64Array(lambda.length)
      for (let i = 0; i < g.length; i++) g[i] = reg * lambda[i]!
      return g
    },
  }
}

// ───────────────────────────── the quadratic lower objective ───────────────────────────────

/** One sample of the finite sum: ℓ̂ᵢ(w, λ) = ½ wᵀAᵢw − wᵀ(Bᵢλ + cᵢ). */
export interface QuadraticSample {
  readonly A: Matrix
  readonly B: Matrix
  readonly c: RVec
}

/** The data of a quadratic lower objective: the means and the per-sample terms. */
export interface QuadraticData {
  /** A = mean Aᵢ (d×d, symmetric positive definite). */
  readonly A: Matrix
  /** B = mean Bᵢ (d×m). */
  readonly B: Matrix
  /** c = mean cᵢ (d). */
  readonly c: RVec
  readonly perSample: ReadonlyArray<QuadraticSample>
  /** The extreme eigenvalues of A (exact). */
  readonly tau: number
  readonly L: number
  /** True when every Bᵢ equals B (SID eq. 15). */
  readonly separable: boolean
}

/**
 * The lower objective ℓ(w, λ) = ½ wᵀAw − wᵀ(Bλ + c) of the quadratic test bed, with its
 * minibatch estimates (the mean of ℓ̂ᵢ over the batch). The full-sum methods use the means
 * A, B, c directly, so curvature(λ) = {τ, L} is exact.
 */
export const quadraticLower = (data: QuadraticData, name = 'quadratic'): LowerObjective => {
  const { A, B, c, perSample } = data
  const d = A.rows
  const m = B.cols
  const n = perSample.length
  if (A.cols !== d || B.rows !== d || c.length !== d)
    throw new RangeError(`${name}: A is ${A.rows}×${A.cols}, B is ${B.rows}×${B.cols}, c has length ${c.length}`)
  if (n < 1) throw new RangeError(`${name}: no samples`)
  for (const s of perSample) {
    if (s.A.rows !== d || s.A.cols !== d || s.B.rows !== d || s.B.cols !== m || s.c.length !== d)
      throw new RangeError(`${name}: a sample has A ${s.A.rows}×${s.A.cols}, B ${s.B.rows}×${s.B.cols}, c ${s.c.length}; expected ${d}×${d}, ${d}×${m}, ${d}`)
  }
  const shape = finiteSumShape(name, d, m, n)
  /** The (possibly batch-averaged) terms, as a list of (weight, sample). */
  const terms = (batch: Batch | undefined, what: string): ReadonlyArray<QuadraticSample> | undefined => {
    if (batch === undefined) return undefined
    shape.batch(what, batch)
    return Array.from(batch, (i) => perSample[i]!)
  }
  /**
   * The product `what` of a second derivative: sign·mean over the terms of Pₜx, P = A (the
   * Hessian) or B (the cross term, with sign −1), or of Pₜᵀx when `transposed`.
   */
  const termProduct = (what: string, w: RVec, x: RVec, xName: string, batch: Batch | undefined, pick: 'A' | 'B', sign: number, transposed: boolean): Vec => {
    shape.w(what, w)
    const cols = pick === 'A' ? d : m
    assertDim(`${name}.${what}: ${xName}`, transposed ? d : cols, x.length)
    const ts = terms(batch, what) ?? [{ A, B, c }]
    const s = sign * (1 / ts.length)
    const out = new Float64Array(transposed ? cols : d)
    for (const t of ts) {
      if (transposed) gemvT(d, cols, s, t[pick].data, cols, 0, x, 1, 0, 1, out, 1, 0)
      else gemv(d, cols, s, t[pick].data, cols, 0, x, 1, 0, 1, out, 1, 0)
    }
    return out
  }

  return {
    ...shape.sizes,
    separable: data.separable,
    checkLambda: (lambda) => checkRealLambda(name, m, lambda),
    value: (w, lambda, batch) => {
      shape.args('value', w, lambda)
      const ts = terms(batch, 'value') ?? [{ A, B, c }]
      const aw = new Float64Array(d)
      const bl = new Float64Array(d)
      let acc = 0
      for (const t of ts) {
        gemv(d, d, 1, t.A.data, d, 0, w, 1, 0, 0, aw, 1, 0)
        gemv(d, m, 1, t.B.data, m, 0, lambda, 1, 0, 0, bl, 1, 0)
        axpy(d, 1, t.c, 1, 0, bl, 1, 0)
        acc += 0.5 * dot(d, w, 1, 0, aw, 1, 0) - dot(d, w, 1, 0, bl, 1, 0)
      }
      return acc / ts.length
    },
    grad: (w, lambda, batch) => {
      shape.args('grad', w, lambda)
      const ts = terms(batch, 'grad') ?? [{ A, B, c }]
      const s = 1 / ts.length
      const g = new Float64Array(d)
      for (const t of ts) {
        gemv(d, d, s, t.A.data, d, 0, w, 1, 0, 1, g, 1, 0)
        gemv(d, m, -s, t.B.data, m, 0, lambda, 1, 0, 1, g, 1, 0)
        axpy(d, -s, t.c, 1, 0, g, 1, 0)
      }
      return g
    },
    hvp: (w, _lambda, u, batch) => termProduct('hvp', w, u, 'u', batch, 'A', 1, false),
    crossJvp: (w, _lambda, mu, batch) => termProduct('crossJvp', w, mu, 'μ', batch, 'B', -1, false),
    crossVjp: (w, _lambda, v, batch) => termProduct('crossVjp', w, v, 'v', batch, 'B', -1, true),
    curvature: () => ({ tau: data.tau, L: data.L }),
  }
}

// ───────────────────────────── the problem ─────────────────────────────────────────────────

/** Options of `quadraticProblem`. */
export interface QuadraticOptions {
  /** d, the size of w (≥ 1; with d = 1 the single eigenvalue forces τ = L). */
  readonly dim: number
  /** m, the number of hyperparameters. */
  readonly hyperDim: number
  /** n, the number of samples of the finite sum. */
  readonly nSamples: number
  readonly seed: number
  /** Smallest eigenvalue of A (strong convexity of ℓ), default 1. */
  readonly tau?: number
  /** Largest eigenvalue of A (smoothness of ℓ), default 10. */
  readonly L?: number
  /** When true, Bᵢ = B for all i (SID eq. 15, m₂ = 0). Default false. */
  readonly separable?: boolean
  /** The weight of (1/2)‖λ‖² in E, default 0.1. */
  readonly upperReg?: number
  /** The step α of Φ = w − α∇ℓ, default 2/(L+τ); must lie in (0, 2/L) so that q < 1. */
  readonly alpha?: number
  /** Size of the per-sample perturbations of A: ‖Aᵢ − A‖₂ ≤ spread·τ, in [0, 1), default 0.5. */
  readonly spread?: number
  /** Scale of the per-sample perturbations of B (when not separable) and of c, default 1. */
  readonly noise?: number
}

/**
 * Every constant the papers' bounds need, exact for the quadratic test bed (SID Assumptions A,
 * B, E and Theorems 3.1–3.4, 5.1; Grazzi et al. 2020 bounds).
 */
export interface QuadraticConstants {
  /** q = ‖∂₁Φ‖ = max(|1 − ατ|, |1 − αL|) (Assumption A(i)). */
  readonly q: number
  readonly tau: number
  readonly L: number
  readonly alpha: number
  /** L_Φ = ‖∂₂Φ‖ = α‖B‖ (constant in w). */
  readonly LPhi: number
  /** ν₁, ν₂: Lipschitz constants of ∂₁Φ, ∂₂Φ in w (Assumption A(ii)); 0, Φ is affine. */
  readonly nu1: number
  readonly nu2: number
  /** μ₁ = ‖CᵀC‖: Lipschitz constant of ∇₁E(·, λ) (Assumption A(iii)). */
  readonly mu1: number
  /**
   * μ₂: Lipschitz constant of ∇₂E(·, λ) in w (Assumption A(iii)). ∇₂E = upperReg·λ does not
   * depend on w, so μ₂ = 0 exactly (upperReg is the Lipschitz constant of ∇₂E in λ, not in w).
   */
  readonly mu2: number
  /**
   * m₂ = E‖∂₂Φ̂(w, λ, ζ) − ∂₂Φ(w, λ)‖₂² = α² · meanᵢ ‖Bᵢ − B‖₂² for ζ one uniform sample
   * (SID Assumption B(iv), spectral norm); 0 when separable.
   */
  readonly m2: number
  /** L_Φ̂ = maxᵢ ‖I − αAᵢ‖₂: Lipschitz constant of every Φ̂ᵢ (SID Assumption E; B(iii)). */
  readonly LPhiHat: number
  /** The mean terms and the per-sample terms, read-only (for variances by enumeration). */
  readonly A: Matrix
  readonly B: Matrix
  readonly c: RVec
  readonly perSample: ReadonlyArray<QuadraticSample>
  /** The upper objective's data: E = ½‖Cw − e‖² + (upperReg/2)‖λ‖². */
  readonly C: Matrix
  readonly e: RVec
  readonly upperReg: number
}

/** The quadratic test bed: an ERM problem with closed forms and exact constants. */
export class QuadraticProblem extends ErmProblem implements ClosedForm {
  #perSampleConstants: { readonly LPhiHat: number; readonly m2: number } | undefined
  private readonly normB: number
  private readonly normCtC: number
  /** A⁻¹ = Q diag(1/s) Qᵀ, exact up to rounding. */
  private readonly aInv: Matrix

  constructor(
    lower: LowerObjective,
    upper: UpperObjective,
    alpha: number,
    name: string,
    readonly data: QuadraticData,
    readonly C: Matrix,
    readonly e: RVec,
    readonly upperReg: number,
    q: Matrix,
    eigenvalues: RVec,
  ) {
    super(lower, upper, alpha, name)
    this.normB = spectralNorm(data.B)
    const ctc = matMul(transpose(C), C)
    const ev = symmetricEigenvalues(ctc)
    this.normCtC = Math.max(0, ev[ev.length - 1]!)
    this.aInv = spectralMatrix(q, eigenvalues.map((x) => 1 / x))
  }

  /** w(λ) = A⁻¹(Bλ + c), the exact fixed point of Φ(·, λ). */
  solution(lambda: RVec): Vec {
    assertDim(`${this.name}.solution: λ`, this.hyperDim, lambda.length)
    return affineSolution(this.aInv, this.data.B, this.data.c, lambda)
  }

  /** ∇f(λ) = upperReg·λ + Bᵀ A⁻¹ Cᵀ(C w(λ) − e) (SID eq. 4–5). */
  hypergradient(lambda: RVec): Vec {
    return affineHypergradient(this.aInv, this.data.B, true, this.upperObjective, this.solution(lambda), lambda)
  }

  /**
   * The constants of the papers' bounds at λ (none depends on λ here). L_Φ̂ and m₂ need the
   * spectrum of every Aᵢ and Bᵢ − B: they are computed on the first call (2n small dense
   * eigenproblems, O(n·d³)) and kept.
   */
  constants(lambda: RVec): QuadraticConstants {
    assertDim(`${this.name}.constants: λ`, this.hyperDim, lambda.length)
    const { tau, L } = this.data
    const alpha = this.alpha
    if (this.#perSampleConstants === undefined) {
      let best = 0
      let m2 = 0
      const { B, perSample } = this.data
      for (const s of perSample) {
        const ev = symmetricEigenvalues(s.A)
        best = Math.max(best, gdContraction(alpha, { tau: ev[0]!, L: ev[ev.length - 1]! }))
        if (s.B !== B) {
          const diff = Float64Array.from(s.B.data)
          axpy(diff.length, -1, B.data, 1, 0, diff, 1, 0)
          m2 += spectralNorm(matrix(B.rows, B.cols, diff)) ** 2
        }
      }
      this.#perSampleConstants = { LPhiHat: best, m2: (alpha * alpha * m2) / perSample.length }
    }
    return {
      q: gdContraction(alpha, { tau, L }),
      tau,
      L,
      alpha,
      LPhi: alpha * this.normB,
      nu1: 0,
      nu2: 0,
      mu1: this.normCtC,
      mu2: 0,
      m2: this.#perSampleConstants.m2,
      LPhiHat: this.#perSampleConstants.LPhiHat,
      A: this.data.A,
      B: this.data.B,
      c: this.data.c,
      perSample: this.data.perSample,
      C: this.C,
      e: this.e,
      upperReg: this.upperReg,
    }
  }

  /**
   * A Lipschitz constant of E(·, λ) on the ball of the given radius around w(λ):
   * ‖∇₁E(w(λ), λ)‖ + μ₁·radius. E is quadratic, hence not globally Lipschitz (SID Assumption
   * A(iv) fails on Rᵈ); the SID bounds use L_E on a ball that contains the iterates, and this is
   * the constant to pass them. Exact (attained) at radius 0; a safe over-estimate otherwise.
   */
  upperLipschitz(lambda: RVec, radius: number): number {
    if (!(radius >= 0 && Number.isFinite(radius))) throw new RangeError(`${this.name}.upperLipschitz: radius must be finite and ≥ 0, got ${radius}`)
    const w = this.solution(lambda)
    const g = this.upperObjective.gradW(w, lambda)
    return Math.sqrt(dot(g.length, g, 1, 0, g, 1, 0)) + this.normCtC * radius
  }
}

const posInt = (name: string, x: number): E.Either<HypergradError, number> =>
  Number.isInteger(x) && x >= 1 ? E.right(x) : E.left(hgError('domain', `quadraticProblem: ${name} must be a positive integer, got ${x}`))

/** Centre a list of equally-shaped arrays in place so that they sum to zero exactly up to rounding. */
const centre = (xs: Float64Array[]): void => {
  const n = xs.length
  const len = xs[0]!.length
  for (let j = 0; j < len; j++) {
    let s = 0
    for (const x of xs) s += x[j]!
    const mean = s / n
    for (const x of xs) x[j] = x[j]! - mean
  }
}

/**
 * Build the quadratic test bed (see the module comment for the construction). Returns a
 * `QuadraticProblem`: the ErmProblem with Φ = w − α∇ℓ, its closed forms (`solution`,
 * `hypergradient`), its exact constants (`constants`) and `upperLipschitz`.
 */
export const quadraticProblem = (opts: QuadraticOptions): E.Either<HypergradError, QuadraticProblem> => {
  const tau = opts.tau ?? 1
  const L = opts.L ?? 10
  const upperReg = opts.upperReg ?? 0.1
  const separable = opts.separable ?? false
  const spread = opts.spread ?? 0.5
  const noise = opts.noise ?? 1
  const checks = [posInt('dim', opts.dim), posInt('hyperDim', opts.hyperDim), posInt('nSamples', opts.nSamples)]
  for (const c of checks) if (E.isLeft(c)) return c
  const { dim: d, hyperDim: m, nSamples: n } = opts
  if (!Number.isInteger(opts.seed)) return E.left(hgError('domain', `quadraticProblem: seed must be an integer, got ${opts.seed}`))
  if (!(Number.isFinite(tau) && tau > 0)) return E.left(hgError('domain', `quadraticProblem: τ must be positive and finite, got ${tau}`))
  if (!(Number.isFinite(L) && L >= tau)) return E.left(hgError('domain', `quadraticProblem: L must be finite and ≥ τ = ${tau}, got ${L}`))
  if (d === 1 && L !== tau)
    return E.left(hgError('domain', `quadraticProblem: with dim 1, A has one eigenvalue, so τ (${tau}) and L (${L}) must be equal`))
  if (!(Number.isFinite(upperReg) && upperReg >= 0)) return E.left(hgError('domain', `quadraticProblem: upperReg must be finite and ≥ 0, got ${upperReg}`))
  if (!(spread >= 0 && spread < 1)) return E.left(hgError('domain', `quadraticProblem: spread must lie in [0, 1), got ${spread}`))
  if (!(Number.isFinite(noise) && noise >= 0)) return E.left(hgError('domain', `quadraticProblem: noise must be finite and ≥ 0, got ${noise}`))
  const alpha = opts.alpha ?? optimalStep({ tau, L })
  if (!(Number.isFinite(alpha) && alpha > 0 && alpha < 2 / L))
    return E.left(hgError('domain', `quadraticProblem: step α must lie in (0, 2/L) = (0, ${2 / L}) for Φ to contract, got ${alpha}`))

  const [rQ, rS, rB, rBi, rC0, rCi, rUp, rE] = R.split(R.seed(opts.seed), 8) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]

  // A = Q diag(s) Qᵀ with s evenly spaced on [τ, L].
  const [Q] = randomOrthogonal(rQ, d)
  const s = new Float64Array(d)
  for (let k = 0; k < d; k++) s[k] = d === 1 ? tau : tau + ((L - tau) * k) / (d - 1)
  s[d - 1] = L
  const A = spectralMatrix(Q, s)

  // Aᵢ = A + Sᵢ, Sᵢ symmetric, centred, ‖Sᵢ‖_F ≤ spread·τ.
  const S: Float64Array[] = []
  let rs = rS
  for (let i = 0; i < n; i++) {
    const [g, next] = R.normals(rs, d * d)
    rs = next
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) {
      const v = 0.5 * (g[a * d + b]! + g[b * d + a]!)
      g[a * d + b] = v
      g[b * d + a] = v
    }
    S.push(g)
  }
  centre(S)
  let maxF = 0
  for (const x of S) maxF = Math.max(maxF, Math.sqrt(dot(x.length, x, 1, 0, x, 1, 0)))
  const sScale = maxF > 0 ? (spread * tau) / maxF : 0
  const Ai = S.map((x) => {
    const out = Float64Array.from(A.data)
    axpy(out.length, sScale, x, 1, 0, out, 1, 0)
    for (let a = 0; a < d; a++) for (let b = a + 1; b < d; b++) out[b * d + a] = out[a * d + b]!
    return matrix(d, d, out)
  })

  // B and Bᵢ.
  const [B] = gaussianMatrix(rB, d, m)
  let Bi: Matrix[]
  if (separable) Bi = Array.from({ length: n }, () => B)
  else {
    const P: Float64Array[] = []
    let rb = rBi
    for (let i = 0; i < n; i++) {
      const [p, next] = R.normals(rb, d * m)
      rb = next
      P.push(p)
    }
    centre(P)
    Bi = P.map((p) => {
      const out = Float64Array.from(B.data)
      axpy(out.length, noise, p, 1, 0, out, 1, 0)
      return matrix(d, m, out)
    })
  }

  // c and cᵢ.
  const [c] = R.normals(rC0, d)
  const Pc: Float64Array[] = []
  let rc = rCi
  for (let i = 0; i < n; i++) {
    const [p, next] = R.normals(rc, d)
    rc = next
    Pc.push(p)
  }
  centre(Pc)
  const ci = Pc.map((p) => axpy(d, 1, c, 1, 0, Float64Array.from(p, (x) => noise * x), 1, 0))

  // Upper: C (d×d, entries N(0, 1/d)), e.
  const [C] = gaussianMatrix(rUp, d, d, 1 / Math.sqrt(d))
  const [e] = R.normals(rE, d)

  const perSample: QuadraticSample[] = Ai.map((Ai_, i) => ({ A: Ai_, B: Bi[i]!, c: ci[i]! }))
  const data: QuadraticData = { A, B, c, perSample, tau, L, separable }
  const name = `quadratic(d=${d}, m=${m}, n=${n}${separable ? ', separable' : ''})`
  const lower = quadraticLower(data, name)
  const upper = quadraticUpper(C, e, upperReg)
  return E.map(() => new QuadraticProblem(lower, upper, alpha, name, data, C, e, upperReg, Q, s))(ermProblem(lower, upper, { alpha, name }))
}
