/**
 * Small problems and deliberately broken variants, to test the laws themselves: a law that
 * passes on everything proves nothing, so each law must fail on a problem made to violate it.
 *
 * `tinyQuadratic` is ridge regression with one penalty per coordinate (an ERM problem, SID eq. 3):
 *   ℓ̂(w, λ, B) = (1/|B|) Σ_{i∈B} ½(xᵢᵀw − yᵢ)² + ½ Σⱼ λⱼ wⱼ²,   λ > 0,
 *   E(w, λ)     = (1/(2n_v)) ‖X_v w − y_v‖² + (c/2)‖λ‖²,
 * with H(λ) = XᵀX/n + diag(λ), w(λ) = H⁻¹Xᵀy/n and, from SID eq. (4)–(5) with
 * ∂₂Φ = −α diag(w) and I − ∂₁Φ = αH:  ∇f(λ) = cλ − w(λ) ⊙ H⁻¹ ∇₁E(w(λ), λ).
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Dataset } from '../src/data/dataset.js'
import { hgError } from '../src/errors.js'
import { cholesky, choleskySolve, matTVec, matVec, symmetricEigenvalues } from '../src/linalg/matrix.js'
import { matrix, type Matrix, type RVec, type Vec } from '../src/linalg/types.js'
import type { Batch, ClosedForm, StochasticBilevelProblem } from '../src/problem/bilevel.js'
import { ErmProblem, gdContraction, optimalStep, type LowerObjective, type UpperObjective } from '../src/problem/erm.js'
import * as rng from '../src/random/rng.js'

/** A dataset of n rows and p features with normal entries, y = X w₀ + noise (or ±1 labels when `labels`). */
export const syntheticDataset = (seed: number, n: number, p: number, labels = false): Dataset => {
  const [x, r1] = rng.normals(rng.seed(seed), n * p)
  const [w0, r2] = rng.normals(r1, p)
  const [noise] = rng.normals(r2, n)
  const X = matrix(n, p, x)
  const y = matVec(X, w0)
  for (let i = 0; i < n; i++) y[i] = labels ? (y[i]! + 0.5 * noise[i]! >= 0 ? 1 : -1) : y[i]! + 0.1 * noise[i]!
  return { X, y }
}

const rowsOf = (n: number, batch?: Batch): ArrayLike<number> => {
  if (batch !== undefined) return batch
  const all = new Int32Array(n)
  for (let i = 0; i < n; i++) all[i] = i
  return all
}

/** H = XᵀX/n + diag(λ) as a dense matrix. */
const hessian = (X: Matrix, lambda: RVec): Matrix => {
  const { rows: n, cols: p } = X
  const h = new Float64Array(p * p)
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) h[a * p + b] = h[a * p + b]! + (X.data[i * p + a]! * X.data[i * p + b]!) / n
  for (let a = 0; a < p; a++) h[a * p + a] = h[a * p + a]! + lambda[a]!
  return matrix(p, p, h)
}

const ridgeLower = (train: Dataset): LowerObjective => {
  const { X, y } = train
  const n = X.rows
  const p = X.cols
  const residualTerms = (w: RVec, batch: Batch | undefined, f: (i: number, r: number) => void): number => {
    const rows = rowsOf(n, batch)
    for (let k = 0; k < rows.length; k++) {
      const i = rows[k]!
      let s = -y[i]!
      for (let j = 0; j < p; j++) s += X.data[i * p + j]! * w[j]!
      f(i, s)
    }
    return rows.length
  }
  return {
    name: 'tinyQuadratic',
    dim: p,
    hyperDim: p,
    nSamples: n,
    separable: true,
    checkLambda: (lambda) =>
      lambda.length === p && lambda.every((l) => Number.isFinite(l) && l > 0)
        ? E.right(lambda)
        : E.left(hgError('domain', `tinyQuadratic: λ must be ${p} positive numbers`)),
    value: (w, lambda, batch) => {
      let s = 0
      const m = residualTerms(w, batch, (_i, r) => (s += 0.5 * r * r))
      let reg = 0
      for (let j = 0; j < p; j++) reg += 0.5 * lambda[j]! * w[j]! * w[j]!
      return s / m + reg
    },
    grad: (w, lambda, batch) => {
      const g = new Float64Array(p)
      const m = residualTerms(w, batch, (i, r) => {
        for (let j = 0; j < p; j++) g[j] = g[j]! + X.data[i * p + j]! * r
      })
      for (let j = 0; j < p; j++) g[j] = g[j]! / m + lambda[j]! * w[j]!
      return g
    },
    hvp: (_w, lambda, u, batch) => {
      const g = new Float64Array(p)
      const rows = rowsOf(n, batch)
      for (let k = 0; k < rows.length; k++) {
        const i = rows[k]!
        let s = 0
        for (let j = 0; j < p; j++) s += X.data[i * p + j]! * u[j]!
        for (let j = 0; j < p; j++) g[j] = g[j]! + X.data[i * p + j]! * s
      }
      for (let j = 0; j < p; j++) g[j] = g[j]! / rows.length + lambda[j]! * u[j]!
      return g
    },
    crossJvp: (w, _lambda, mu) => w.map((wj, j) => wj * mu[j]!),
    crossVjp: (w, _lambda, v) => w.map((wj, j) => wj * v[j]!),
    curvature: (lambda) => {
      const ev = symmetricEigenvalues(hessian(X, lambda))
      return { tau: ev[0]!, L: ev[ev.length - 1]! }
    },
  }
}

const ridgeUpper = (val: Dataset, c: number): UpperObjective => {
  const { X, y } = val
  const n = X.rows
  const resid = (w: RVec): Vec => {
    const r = matVec(X, w)
    for (let i = 0; i < n; i++) r[i] = r[i]! - y[i]!
    return r
  }
  return {
    value: (w, lambda) => {
      const r = resid(w)
      let s = 0
      for (let i = 0; i < n; i++) s += r[i]! * r[i]!
      let l2 = 0
      for (let j = 0; j < lambda.length; j++) l2 += lambda[j]! * lambda[j]!
      return s / (2 * n) + (c / 2) * l2
    },
    gradW: (w) => matTVec(X, resid(w)).map((g) => g / n),
    gradLambda: (_w, lambda) => lambda.map((l) => c * l),
  }
}

/** The tiny per-coordinate ridge problem with its closed form (see the module comment). */
export class TinyQuadratic extends ErmProblem implements ClosedForm {
  constructor(
    readonly train: Dataset,
    readonly validation: Dataset,
    readonly c: number,
    alpha: number,
  ) {
    super(ridgeLower(train), ridgeUpper(validation, c), alpha, 'tinyQuadratic')
  }
  solution(lambda: RVec): Vec {
    const l = cholesky(hessian(this.train.X, lambda))
    if (l === undefined) throw new RangeError('tinyQuadratic: H(λ) is not positive definite')
    return choleskySolve(l, matTVec(this.train.X, this.train.y).map((g) => g / this.train.X.rows))
  }
  hypergradient(lambda: RVec): Vec {
    const w = this.solution(lambda)
    const l = cholesky(hessian(this.train.X, lambda))!
    const z = choleskySolve(l, this.gradUpperW(w, lambda))
    return lambda.map((lj, j) => this.c * lj - w[j]! * z[j]!)
  }
}

/** A 3-dimensional instance: n = 8 training rows, 5 validation rows, λ₀ = (0.5, 1, 2), α = 2/(L+τ) at λ₀. */
export const tinyQuadratic = (seed = 7, p = 3): { problem: TinyQuadratic; lambda0: Vec; data: { train: Dataset; validation: Dataset } } => {
  const train = syntheticDataset(seed, 8, p)
  const validation = syntheticDataset(seed + 1, 5, p)
  const lambda0 = Float64Array.from({ length: p }, (_, j) => 0.5 * 2 ** j)
  // α from λ₀'s curvature, shrunk a little so that Φ still contracts at λ₀·exp(±0.1).
  const curv = ridgeLower(train).curvature(lambda0)
  const alpha = 0.8 * optimalStep(curv)
  return { problem: new TinyQuadratic(train, validation, 0.01, alpha), lambda0, data: { train, validation } }
}

/** q = max|1 − α·eig(H)| of the fixture, computed directly (for tests of `contraction`). */
export const tinyContraction = (p: TinyQuadratic, lambda: RVec): number => {
  const ev = symmetricEigenvalues(hessian(p.train.X, lambda))
  return gdContraction(p.alpha, { tau: ev[0]!, L: ev[ev.length - 1]! })
}

/**
 * A copy of a problem with some functions replaced (the rest inherited through the prototype
 * chain, so `this` still reaches the original's fields).
 */
export const tamper = <P extends object>(problem: P, overrides: Partial<Record<keyof P, unknown>> & Record<string, unknown>): P =>
  Object.assign(Object.create(problem) as P, overrides)

/** The fixture's stochastic interface, typed (TinyQuadratic is an ErmProblem, hence stochastic). */
export const asStochastic = (p: TinyQuadratic): StochasticBilevelProblem => p
