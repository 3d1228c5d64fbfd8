/**
 * Test beds and helpers for the SID bound properties (properties/sidBounds.test.ts) and the
 * tightness script (properties/sidTightness.ts):
 *
 *  - `finiteSumQuadratic`: ℓ̂ᵢ(w, λ) = ½wᵀHᵢw − wᵀ(bᵢ + Cᵢλ), Φ̂ = w − α∇ℓ̂ (affine in w and λ),
 *    with a Lipschitz upper objective (logistic loss on validation points), so that every
 *    constant of the SID paper is known: q, τ, L from the eigenvalues of H̄; L_Φ̂ = maxᵢ‖I − αHᵢ‖;
 *    ν₁ = ν₂ = 0; μ₁ = ‖AᵀA‖/(4J); μ₂ = 0; L_Φ = α‖C̄‖; L_E = min((1/J)Σ‖aⱼ‖, ‖A‖/√J);
 *    m₂ = V_F[αC_B] exactly. `separable: true` takes Cᵢ = C for all i (eq. 15, m₂ = 0).
 *  - `smallLogistic`: ℓ̂ᵢ(w, λ) = ψ(yᵢxᵢᵀw) + (λ/2)‖w‖² (SID eq. 26, one hyperparameter λ > 0),
 *    the same upper objective; w(λ) by Newton's method, ∇f(λ) by a dense solve.
 *  - `enumerateBatches`, `affineMaps`, `exactAffineMse`: the exact E‖xₜ − x*‖² of iteration (17)
 *    for an affine stochastic map, by propagating second moments over every batch.
 *  - `runIteration17`, `inlineSid`: iteration (17) and Algorithm 1 written out in a few lines.
 *
 * Built on the core ERM problem (src/problem/erm.ts): Φ̂ on a batch is the batch average.
 */
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../src/errors.js'
import { choleskySolve, cholesky, denseOf, matrix, spectralNorm, symmetricEigenvalues, type Matrix, type RVec, type Vec } from '../src/linalg/index.js'
import type { Batch, ClosedForm } from '../src/problem/bilevel.js'
import { ermProblem, optimalStep, type ErmProblem, type LowerObjective, type UpperObjective } from '../src/problem/erm.js'
import { hgError } from '../src/errors.js'
import { minibatch, normals, seed as seedRng, split, uniforms, type Rng } from '../src/random/rng.js'

// ─── small dense helpers (local; the fixtures own their buffers) ─────────────────────────────

const matVecInto = (a: Matrix, x: RVec, out: Vec): Vec => {
  for (let i = 0; i < a.rows; i++) {
    let s = 0
    for (let j = 0; j < a.cols; j++) s += a.data[i * a.cols + j]! * x[j]!
    out[i] = s
  }
  return out
}
const matTVecInto = (a: Matrix, x: RVec, out: Vec): Vec => {
  out.fill(0)
  for (let i = 0; i < a.rows; i++) {
    const xi = x[i]!
    for (let j = 0; j < a.cols; j++) out[j] = out[j]! + a.data[i * a.cols + j]! * xi
  }
  return out
}
const normOf = (x: RVec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!
  return Math.sqrt(s)
}
const distSq = (x: RVec, y: RVec): number => {
  let s = 0
  for (let i = 0; i < x.length; i++) s += (x[i]! - y[i]!) ** 2
  return s
}
const meanMatrix = (ms: ReadonlyArray<Matrix>): Matrix => {
  const r = ms[0]!.rows
  const c = ms[0]!.cols
  const d = new Float64Array(r * c)
  for (const m of ms) for (let i = 0; i < d.length; i++) d[i] = d[i]! + m.data[i]!
  for (let i = 0; i < d.length; i++) d[i] = d[i]! / ms.length
  return matrix(r, c, d)
}
/** Batch membership counts (duplicates count twice, as in a batch average with replacement). */
const forBatch = (batch: Batch | undefined, n: number, f: (i: number) => void): number => {
  if (batch === undefined) {
    for (let i = 0; i < n; i++) f(i)
    return n
  }
  for (let k = 0; k < batch.length; k++) f(batch[k]!)
  return batch.length
}

// ─── the logistic loss ψ(u) = log(1 + e^{−u}) ────────────────────────────────────────────────

/** ψ(u) = log(1 + e^{−u}), stably. */
export const psi = (u: number): number => (u > 0 ? Math.log1p(Math.exp(-u)) : -u + Math.log1p(Math.exp(u)))
/** ψ′(u) = −1/(1 + eᵘ) ∈ (−1, 0): ψ is 1-Lipschitz. */
export const dpsi = (u: number): number => -1 / (1 + Math.exp(u))
/** ψ″(u) = s(1−s), s = 1/(1+e^{−u}) ∈ (0, 1/4]. */
export const d2psi = (u: number): number => {
  const s = 1 / (1 + Math.exp(-u))
  return s * (1 - s)
}
/** sup |ψ‴| = 1/(6√3) (the maximum of s(1−s)|1−2s|). */
export const PSI3_MAX = 1 / (6 * Math.sqrt(3))

/** The upper objective E(w, λ) = (1/J) Σⱼ ψ(yⱼ aⱼᵀw) (independent of λ), and its constants. */
const logisticUpper = (A: Matrix, y: RVec, hyperDim: number): { upper: UpperObjective; LE: number; mu1: number } => {
  const J = A.rows
  const margins = (w: RVec): Vec => {
    const u = matVecInto(A, w, new Float64Array(J))
    for (let j = 0; j < J; j++) u[j] = u[j]! * y[j]!
    return u
  }
  const upper: UpperObjective = {
    value: (w) => {
      const u = margins(w)
      let s = 0
      for (let j = 0; j < J; j++) s += psi(u[j]!)
      return s / J
    },
    gradW: (w) => {
      const u = margins(w)
      const r = new Float64Array(J)
      for (let j = 0; j < J; j++) r[j] = (dpsi(u[j]!) * y[j]!) / J
      return matTVecInto(A, r, new Float64Array(A.cols))
    },
    gradLambda: () => new Float64Array(hyperDim),
  }
  let sumNorms = 0
  for (let j = 0; j < J; j++) sumNorms += normOf(A.data.subarray(j * A.cols, (j + 1) * A.cols))
  const normA = spectralNorm(A)
  // ‖∇E‖ = ‖Aᵀr‖ with |rⱼ| ≤ 1/J: at most (1/J)Σ‖aⱼ‖ and at most ‖A‖‖r‖ ≤ ‖A‖/√J.
  return { upper, LE: Math.min(sumNorms / J, normA / Math.sqrt(J)), mu1: (normA * normA) / (4 * J) }
}

/** Every constant of SID Assumptions A, B (and Thm 3.1–3.4, 5.1) for a fixture at λ. */
export interface SidConstants {
  readonly q: number
  readonly tau: number
  readonly L: number
  readonly alpha: number
  /** L_{Φ,λ} = ‖∂₂Φ(w(λ), λ)‖. */
  readonly LPhi: number
  /** L_{Φ̂,λ}: a bound on ‖∂₁Φ̂(w, λ, B)‖ for all w and batches. */
  readonly LPhiHat: number
  readonly nu1: number
  readonly nu2: number
  readonly mu1: number
  readonly mu2: number
  readonly LE: number
}

export interface Fixture extends ClosedForm {
  readonly problem: ErmProblem
  constants(lambda: RVec): SidConstants
}

// ─── the finite-sum quadratic ────────────────────────────────────────────────────────────────

export interface QuadraticOptions {
  readonly dim: number
  readonly hyperDim: number
  readonly nSamples: number
  readonly seed: number
  /** Cᵢ = C for every sample (eq. 15: m₂ = 0). Default false. */
  readonly separable?: boolean
  /** Scale of the per-sample part of Hᵢ (0: every Hᵢ equal). Default 0.3. */
  readonly heterogeneity?: number
  /** Scale of the per-sample offsets bᵢ (drives σ₁). Default 1. */
  readonly noise?: number
  /** Number of validation points of the upper objective. Default 6. */
  readonly nVal?: number
}

export interface QuadraticFixture extends Fixture {
  readonly H: ReadonlyArray<Matrix>
  readonly Hbar: Matrix
  readonly C: ReadonlyArray<Matrix>
  readonly Cbar: Matrix
}

/**
 * A well-mixed stream from an integer seed. The first draws of `seed(s)` itself are poorly
 * mixed for small s (its first uniform is ≈ 1 − 1e-6, so its first normal is ≈ −5.5): one jump
 * of `split` first avoids that.
 */
export const fixtureRng = (s: number): Rng => split(seedRng(s), 1)[0]!

const randomMatrix = (r: Rng, rows: number, cols: number, scale: number): readonly [Matrix, Rng] => {
  const [z, next] = normals(r, rows * cols)
  for (let i = 0; i < z.length; i++) z[i] = z[i]! * scale
  return [matrix(rows, cols, z), next]
}

/** The finite-sum quadratic test bed (see the file comment); α = 2/(L+τ) of H̄. */
export const finiteSumQuadratic = (o: QuadraticOptions): QuadraticFixture => {
  const { dim: d, hyperDim: m, nSamples: n } = o
  const het = o.heterogeneity ?? 0.3
  const noise = o.noise ?? 1
  const J = o.nVal ?? 6
  let r = fixtureRng(o.seed)
  let G: Matrix
  ;[G, r] = randomMatrix(r, d, d, 1 / Math.sqrt(d))
  const H: Matrix[] = []
  const bs: Vec[] = []
  const Cs: Matrix[] = []
  let C0: Matrix
  ;[C0, r] = randomMatrix(r, d, m, 1)
  for (let i = 0; i < n; i++) {
    let N: Matrix
    ;[N, r] = randomMatrix(r, d, d, Math.sqrt(het / d))
    const h = new Float64Array(d * d)
    for (let a = 0; a < d; a++)
      for (let c = 0; c < d; c++) {
        let s = a === c ? 0.5 : 0
        for (let k = 0; k < d; k++) s += G.data[a * d + k]! * G.data[c * d + k]! + N.data[a * d + k]! * N.data[c * d + k]!
        h[a * d + c] = s
      }
    H.push(matrix(d, d, h))
    let bi: Vec
    ;[bi, r] = normals(r, d)
    for (let k = 0; k < d; k++) bi[k] = bi[k]! * noise
    bs.push(bi)
    if (o.separable) Cs.push(C0)
    else {
      let D: Matrix
      ;[D, r] = randomMatrix(r, d, m, 0.7)
      Cs.push(matrix(d, m, Float64Array.from(C0.data, (x, k) => x + D.data[k]!)))
    }
  }
  let A: Matrix
  ;[A, r] = randomMatrix(r, J, d, 1)
  const [yu] = uniforms(r, J)
  const yv = Float64Array.from(yu, (u) => (u < 0.5 ? -1 : 1))
  const Hbar = meanMatrix(H)
  const Cbar = meanMatrix(Cs)
  const bbar = new Float64Array(d)
  for (const bi of bs) for (let k = 0; k < d; k++) bbar[k] = bbar[k]! + bi[k]! / n
  const ev = symmetricEigenvalues(Hbar)
  const tau = ev[0]!
  const L = ev[d - 1]!
  const lower: LowerObjective = {
    name: 'finite-sum quadratic',
    dim: d,
    hyperDim: m,
    nSamples: n,
    separable: o.separable ?? false,
    checkLambda: (lambda) =>
      lambda.length === m && Array.from(lambda).every(Number.isFinite)
        ? E.right(lambda)
        : E.left(hgError('domain', `quadratic: λ must be ${m} finite numbers`)),
    value: (w, lambda, batch) => {
      let s = 0
      const hw = new Float64Array(d)
      const cl = new Float64Array(d)
      const cnt = forBatch(batch, n, (i) => {
        matVecInto(H[i]!, w, hw)
        matVecInto(Cs[i]!, lambda, cl)
        for (let k = 0; k < d; k++) s += 0.5 * w[k]! * hw[k]! - w[k]! * (bs[i]![k]! + cl[k]!)
      })
      return s / cnt
    },
    grad: (w, lambda, batch) => {
      const g = new Float64Array(d)
      const hw = new Float64Array(d)
      const cl = new Float64Array(d)
      const cnt = forBatch(batch, n, (i) => {
        matVecInto(H[i]!, w, hw)
        matVecInto(Cs[i]!, lambda, cl)
        for (let k = 0; k < d; k++) g[k] = g[k]! + hw[k]! - bs[i]![k]! - cl[k]!
      })
      for (let k = 0; k < d; k++) g[k] = g[k]! / cnt
      return g
    },
    hvp: (_w, _lambda, u, batch) => {
      const g = new Float64Array(d)
      const hu = new Float64Array(d)
      const cnt = forBatch(batch, n, (i) => {
        matVecInto(H[i]!, u, hu)
        for (let k = 0; k < d; k++) g[k] = g[k]! + hu[k]!
      })
      for (let k = 0; k < d; k++) g[k] = g[k]! / cnt
      return g
    },
    crossJvp: (_w, _lambda, mu, batch) => {
      const g = new Float64Array(d)
      const cm = new Float64Array(d)
      const cnt = forBatch(batch, n, (i) => {
        matVecInto(Cs[i]!, mu, cm)
        for (let k = 0; k < d; k++) g[k] = g[k]! - cm[k]!
      })
      for (let k = 0; k < d; k++) g[k] = g[k]! / cnt
      return g
    },
    crossVjp: (_w, _lambda, v, batch) => {
      const g = new Float64Array(m)
      const ct = new Float64Array(m)
      const cnt = forBatch(batch, n, (i) => {
        matTVecInto(Cs[i]!, v, ct)
        for (let k = 0; k < m; k++) g[k] = g[k]! - ct[k]!
      })
      for (let k = 0; k < m; k++) g[k] = g[k]! / cnt
      return g
    },
    curvature: () => ({ tau, L }),
  }
  const up = logisticUpper(A, yv, m)
  const alpha = optimalStep({ tau, L })
  const problem = orThrow(ermProblem(lower, up.upper, { alpha, name: 'finite-sum quadratic' }))
  const chol = cholesky(Hbar)!
  const solution = (lambda: RVec): Vec => {
    const rhs = matVecInto(Cbar, lambda, new Float64Array(d))
    for (let k = 0; k < d; k++) rhs[k] = rhs[k]! + bbar[k]!
    return choleskySolve(chol, rhs)
  }
  // ∇f = ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E = αC̄ᵀ(αH̄)⁻¹∇₁E(w(λ)) = C̄ᵀH̄⁻¹∇₁E(w(λ)).
  const hypergradient = (lambda: RVec): Vec =>
    matTVecInto(Cbar, choleskySolve(chol, up.upper.gradW(solution(lambda), lambda)), new Float64Array(m))
  let LPhiHat = 0
  for (const h of H) {
    const M = matrix(d, d, Float64Array.from(h.data, (x, k) => (k % (d + 1) === 0 ? 1 : 0) - alpha * x))
    LPhiHat = Math.max(LPhiHat, spectralNorm(M))
  }
  const q = (L - tau) / (L + tau)
  const LPhi = alpha * spectralNorm(Cbar)
  const constants = (): SidConstants => ({ q, tau, L, alpha, LPhi, LPhiHat, nu1: 0, nu2: 0, mu1: up.mu1, mu2: 0, LE: up.LE })
  return { problem, solution, hypergradient, constants, H, Hbar, C: Cs, Cbar }
}

// ─── a small ridge-regularized logistic regression (SID eq. 26) ──────────────────────────────

export interface LogisticOptions {
  readonly nTrain: number
  readonly features: number
  readonly seed: number
  readonly nVal?: number
}

export interface LogisticFixture extends Fixture {
  readonly X: Matrix
  readonly y: RVec
}

/** Logistic regression with ridge penalty λ/2‖w‖² (one hyperparameter), α = 2/(L+τ). */
export const smallLogistic = (o: LogisticOptions, lambdaForStep: number): LogisticFixture => {
  const n = o.nTrain
  const p = o.features
  const J = o.nVal ?? 6
  let r = fixtureRng(o.seed)
  let X: Matrix
  ;[X, r] = randomMatrix(r, n, p, 1 / Math.sqrt(p))
  let wTrue: Vec
  ;[wTrue, r] = normals(r, p)
  let u: Vec
  ;[u, r] = uniforms(r, n)
  const xw = matVecInto(X, wTrue, new Float64Array(n))
  const y = Float64Array.from(u, (ui, i) => (ui < 1 / (1 + Math.exp(-2 * xw[i]!)) ? 1 : -1))
  let A: Matrix
  ;[A, r] = randomMatrix(r, J, p, 1 / Math.sqrt(p))
  const [yu] = uniforms(r, J)
  const yv = Float64Array.from(yu, (t) => (t < 0.5 ? -1 : 1))
  const row = (i: number): RVec => X.data.subarray(i * p, (i + 1) * p)
  const margin = (w: RVec, i: number): number => {
    const x = row(i)
    let s = 0
    for (let k = 0; k < p; k++) s += x[k]! * w[k]!
    return y[i]! * s
  }
  const normXtX = spectralNorm(X) ** 2
  const curvature = (lambda: RVec) => ({ tau: lambda[0]!, L: lambda[0]! + normXtX / (4 * n) })
  const lower: LowerObjective = {
    name: 'ridge logistic regression',
    dim: p,
    hyperDim: 1,
    nSamples: n,
    separable: true,
    checkLambda: (lambda) =>
      lambda.length === 1 && Number.isFinite(lambda[0]!) && lambda[0]! > 0
        ? E.right(lambda)
        : E.left(hgError('domain', 'logistic: λ must be one positive number')),
    value: (w, lambda, batch) => {
      let s = 0
      const cnt = forBatch(batch, n, (i) => (s += psi(margin(w, i))))
      return s / cnt + 0.5 * lambda[0]! * normOf(w) ** 2
    },
    grad: (w, lambda, batch) => {
      const g = new Float64Array(p)
      const cnt = forBatch(batch, n, (i) => {
        const c = dpsi(margin(w, i)) * y[i]!
        const x = row(i)
        for (let k = 0; k < p; k++) g[k] = g[k]! + c * x[k]!
      })
      for (let k = 0; k < p; k++) g[k] = g[k]! / cnt + lambda[0]! * w[k]!
      return g
    },
    hvp: (w, lambda, v, batch) => {
      const g = new Float64Array(p)
      const cnt = forBatch(batch, n, (i) => {
        const x = row(i)
        let xv = 0
        for (let k = 0; k < p; k++) xv += x[k]! * v[k]!
        const c = d2psi(margin(w, i)) * xv
        for (let k = 0; k < p; k++) g[k] = g[k]! + c * x[k]!
      })
      for (let k = 0; k < p; k++) g[k] = g[k]! / cnt + lambda[0]! * v[k]!
      return g
    },
    // ∇²_{wλ} ℓ̂ = w (a p×1 matrix), the same on every batch: Φ̂ separates (eq. 15).
    crossJvp: (w, _lambda, mu) => Float64Array.from(w, (wk) => wk * mu[0]!),
    crossVjp: (w, _lambda, v) => {
      let s = 0
      for (let k = 0; k < p; k++) s += w[k]! * v[k]!
      return Float64Array.of(s)
    },
    curvature,
  }
  const up = logisticUpper(A, yv, 1)
  const alpha = optimalStep(curvature(Float64Array.of(lambdaForStep)))
  const problem = orThrow(ermProblem(lower, up.upper, { alpha, name: 'ridge logistic regression' }))
  const hessian = (w: RVec, lambda: RVec): Matrix => denseOf(p, (v) => lower.hvp(w, lambda, v))
  /** w(λ) by damped Newton's method to ‖∇ℓ‖ ≤ 1e-13. */
  const solution = (lambda: RVec): Vec => {
    let w: Vec = new Float64Array(p)
    for (let it = 0; it < 100; it++) {
      const g = lower.grad(w, lambda)
      if (normOf(g) <= 1e-13) break
      const step = choleskySolve(cholesky(hessian(w, lambda))!, g)
      let s = 1
      const f0 = lower.value(w, lambda)
      let next = Float64Array.from(w, (wk, k) => wk - s * step[k]!)
      while (lower.value(next, lambda) > f0 + 1e-15 && s > 1e-8) {
        s /= 2
        next = Float64Array.from(w, (wk, k) => wk - s * step[k]!)
      }
      w = next
    }
    return w
  }
  // ∇f = ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E with ∂₂Φ = −αw, I − ∂₁Φ = α∇²ℓ: ∇f = −wᵀ(∇²ℓ)⁻¹∇₁E.
  const hypergradient = (lambda: RVec): Vec => {
    const w = solution(lambda)
    const z = choleskySolve(cholesky(hessian(w, lambda))!, up.upper.gradW(w, lambda))
    let s = 0
    for (let k = 0; k < p; k++) s -= w[k]! * z[k]!
    return Float64Array.of(s)
  }
  let maxSq = 0
  let meanCube = 0
  for (let i = 0; i < n; i++) {
    const nx = normOf(row(i))
    maxSq = Math.max(maxSq, nx * nx)
    meanCube += nx ** 3 / n
  }
  const constants = (lambda: RVec): SidConstants => {
    const { tau, L } = curvature(lambda)
    const lam = lambda[0]!
    const q = Math.max(Math.abs(1 - alpha * tau), Math.abs(1 - alpha * L))
    return {
      q,
      tau,
      L,
      alpha,
      // eig(∂₁Φ̂ᵢ) = 1 − α(λ + ψ″·(xᵢᵀ·)²) ∈ [1 − α(λ + ‖xᵢ‖²/4), 1 − αλ].
      LPhiHat: Math.max(Math.abs(1 - alpha * lam), Math.abs(1 - alpha * (lam + maxSq / 4))),
      // ‖∇²ℓ(w₁) − ∇²ℓ(w₂)‖ ≤ sup|ψ‴|·(1/n)Σ‖xᵢ‖³·‖w₁ − w₂‖.
      nu1: alpha * PSI3_MAX * meanCube,
      // ∂₂Φ(w, λ) = −αw.
      nu2: alpha,
      mu1: up.mu1,
      mu2: 0,
      LE: up.LE,
      LPhi: alpha * normOf(solution(lambda)),
    }
  }
  return { problem, solution, hypergradient, constants, X, y }
}

// ─── exact second moments of iteration (17) for affine maps ──────────────────────────────────

/** Every batch of size b from n samples, equally likely: b-subsets (without replacement) or ordered b-tuples (with). */
export const enumerateBatches = (n: number, b: number, replace: boolean): Int32Array[] => {
  const out: Int32Array[] = []
  const cur = new Int32Array(b)
  const rec = (pos: number, start: number): void => {
    if (pos === b) {
      out.push(Int32Array.from(cur))
      return
    }
    for (let i = replace ? 0 : start; i < n; i++) {
      cur[pos] = i
      rec(pos + 1, i + 1)
    }
  }
  rec(0, 0)
  return out
}

/** A random affine map x ↦ A x + c, one per batch (equally likely). */
export interface AffineMap {
  readonly A: Matrix
  readonly c: RVec
}

/** The affine maps Φ̂(·, λ, B) of a problem whose Φ̂ is affine in w, for every batch (probed at 0 and eⱼ). */
export const lowerAffineMaps = (fx: Fixture, lambda: RVec, batches: ReadonlyArray<Batch>): AffineMap[] => {
  const d = fx.problem.dim
  const zero = new Float64Array(d)
  return batches.map((B) => {
    const c = fx.problem.phiHat(zero, lambda, B)
    return { A: denseOf(d, (u) => fx.problem.jvpWHat(zero, lambda, B, u)), c }
  })
}

/** The affine maps Ψ̂_w(·, B) = ∂₁Φ̂(w, λ, B)ᵀ · + ∇₁E(w, λ) of the linear system (29), for every batch. */
export const linearAffineMaps = (fx: Fixture, w: RVec, lambda: RVec, batches: ReadonlyArray<Batch>): AffineMap[] => {
  const d = fx.problem.dim
  const rhs = fx.problem.gradUpperW(w, lambda)
  return batches.map((B) => ({ A: denseOf(d, (v) => fx.problem.vjpWHat(w, lambda, B, v)), c: rhs }))
}

/**
 * The exact E‖xₜ − x*‖², t = 0..T, of xₜ₊₁ = xₜ + ηₜ(T̂(xₜ, Bₜ) − xₜ) with T̂(·, B) = A_B · + c_B,
 * B uniform over `maps`, independent across steps. With eₜ = xₜ − x* and zₜ = (eₜ, 1):
 * zₜ₊₁ = M_B zₜ, M_B = [[(1−η)I + ηA_B, η(A_B x* + c_B − x*)], [0, 1]], so the second moment
 * Sₜ = E[zₜzₜᵀ] obeys Sₜ₊₁ = mean_B M_B Sₜ M_Bᵀ, and E‖eₜ‖² is the trace of its d×d block.
 */
export const exactAffineMse = (maps: ReadonlyArray<AffineMap>, xStar: RVec, x0: RVec, step: (t: number) => number, T: number): Float64Array => {
  const d = xStar.length
  const D = d + 1
  let S = new Float64Array(D * D)
  for (let i = 0; i < D; i++)
    for (let j = 0; j < D; j++) S[i * D + j] = (i < d ? x0[i]! - xStar[i]! : 1) * (j < d ? x0[j]! - xStar[j]! : 1)
  const shifts = maps.map(({ A, c }) => {
    const s = matVecInto(A, xStar, new Float64Array(d))
    for (let k = 0; k < d; k++) s[k] = s[k]! + c[k]! - xStar[k]!
    return s
  })
  const out = new Float64Array(T + 1)
  const trace = (S: Float64Array): number => {
    let s = 0
    for (let i = 0; i < d; i++) s += S[i * D + i]!
    return s
  }
  out[0] = trace(S)
  const M = new Float64Array(D * D)
  const MS = new Float64Array(D * D)
  for (let t = 0; t < T; t++) {
    const eta = step(t)
    const next = new Float64Array(D * D)
    for (let b = 0; b < maps.length; b++) {
      const A = maps[b]!.A
      const sh = shifts[b]!
      M.fill(0)
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) M[i * D + j] = eta * A.data[i * d + j]! + (i === j ? 1 - eta : 0)
        M[i * D + d] = eta * sh[i]!
      }
      M[d * D + d] = 1
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          let s = 0
          for (let k = 0; k < D; k++) s += M[i * D + k]! * S[k * D + j]!
          MS[i * D + j] = s
        }
      for (let i = 0; i < D; i++)
        for (let j = 0; j < D; j++) {
          let s = 0
          for (let k = 0; k < D; k++) s += MS[i * D + k]! * M[j * D + k]!
          next[i * D + j] = next[i * D + j]! + s / maps.length
        }
    }
    S = next
    out[t + 1] = trace(S)
  }
  return out
}

// ─── iteration (17) and Algorithm 1, written out ─────────────────────────────────────────────

/** How minibatches are drawn: size b from the problem's n samples, with or without replacement. */
export interface BatchSpec {
  readonly b: number
  readonly replace: boolean
}

/**
 * Iteration (17), xₜ₊₁ = xₜ + ηₜ(T̂(xₜ, Bₜ) − xₜ) from x₀ with Bₜ drawn from `rng`; returns
 * ‖xₜ − x*‖² at each checkpoint t (sorted ascending).
 */
export const runIteration17 = (
  That: (x: RVec, batch: Batch) => Vec,
  n: number,
  spec: BatchSpec,
  x0: RVec,
  xStar: RVec,
  step: (t: number) => number,
  checkpoints: ReadonlyArray<number>,
  rng: Rng,
): Float64Array => {
  const out = new Float64Array(checkpoints.length)
  let x = Float64Array.from(x0)
  let r = rng
  let c = 0
  const T = checkpoints[checkpoints.length - 1]!
  for (let t = 0; t <= T; t++) {
    while (c < checkpoints.length && checkpoints[c] === t) out[c++] = distSq(x, xStar)
    if (t === T) break
    const [B, next] = minibatch(r, n, spec.b, spec.replace)
    r = next
    const tx = That(x, B)
    const eta = step(t)
    for (let k = 0; k < x.length; k++) x[k] = x[k]! + eta * (tx[k]! - x[k]!)
  }
  return out
}

export interface InlineSidOptions {
  readonly t: number
  readonly k: number
  readonly spec: BatchSpec
  /** Batch size of the final ∂₂Φ̂ draw (default spec.b). */
  readonly finalBatch?: number
  readonly lowerStep: (i: number) => number
  readonly linearStep: (i: number) => number
}

/**
 * SID Algorithm 1 with the solvers (28) and (29), w₀ = v₀ = 0, three independent streams split
 * from `rng` (lower, linear, final draw). Returns ∇̂f(λ) (eq. 8) and the lower iterate wₜ.
 */
export const inlineSid = (fx: Fixture, lambda: RVec, o: InlineSidOptions, rng: Rng): { readonly grad: Vec; readonly w: Vec } => {
  const P = fx.problem
  const [rw, rest] = split(rng, 2) as [Rng, Rng]
  const w = new Float64Array(P.dim)
  let r = rw
  for (let i = 0; i < o.t; i++) {
    const [B, next] = minibatch(r, P.nSamples, o.spec.b, o.spec.replace)
    r = next
    const phi = P.phiHat(w, lambda, B)
    const eta = o.lowerStep(i)
    for (let j = 0; j < w.length; j++) w[j] = w[j]! + eta * (phi[j]! - w[j]!)
  }
  return { grad: sidFromW(fx, lambda, w, o, rest), w }
}

/**
 * Steps 2–3 of Algorithm 1 at a given lower iterate w: k steps of (29) from v₀ = 0 on a stream
 * split from `rng`, then ∇₂E(w) + ∂₂Φ̂(w, λ, ζ)ᵀv_k with ζ an independent batch.
 */
export const sidFromW = (fx: Fixture, lambda: RVec, w: RVec, o: Omit<InlineSidOptions, 't' | 'lowerStep'>, rng: Rng): Vec => {
  const P = fx.problem
  const n = P.nSamples
  const d = P.dim
  const [rv, rz] = split(rng, 2) as [Rng, Rng]
  const rhs = P.gradUpperW(w, lambda)
  const v = new Float64Array(d)
  let r = rv
  for (let i = 0; i < o.k; i++) {
    const [B, next] = minibatch(r, n, o.spec.b, o.spec.replace)
    r = next
    const jt = P.vjpWHat(w, lambda, B, v)
    const eta = o.linearStep(i)
    for (let j = 0; j < d; j++) v[j] = v[j]! + eta * (jt[j]! + rhs[j]! - v[j]!)
  }
  const [Bz] = minibatch(rz, n, o.finalBatch ?? o.spec.b, o.spec.replace)
  const g = P.gradUpperLambda(w, lambda)
  const cross = P.vjpLambdaHat(w, lambda, Bz, v)
  for (let j = 0; j < g.length; j++) g[j] = g[j]! + cross[j]!
  return g
}

/** Squared distance ‖x − y‖² (exported for the properties). */
export const squaredDistance = distSq
/** Euclidean norm (exported for the properties). */
export const euclideanNorm = normOf
