/**
 * Independent references for the problems' tests: vector norms and relative errors, central
 * differences (gradients, Jacobians, directional derivatives), seeded random vectors and
 * datasets, the exact sampling spaces of the mini-batch estimators (all subsets, all tuples),
 * dense Hessians and hypergradients, and the checks shared by the tests of the lower objectives.
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import type { Dataset } from '../data/dataset.js'
import { cholesky, choleskySolve, denseOf, luSolve, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import type { Batch, BilevelProblem } from '../problem/bilevel.js'
import type { LowerObjective } from '../problem/erm.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { gradInto, hvpInto, type FusedObjective } from './logistic.js'

export const norm = (x: RVec): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0))
export const diff = (x: RVec, y: RVec): Vec => Float64Array.from(x, (v, i) => v - y[i]!)
/** ‖x − y‖ / max(‖y‖, tiny). */
export const relErr = (x: RVec, y: RVec): number => norm(diff(x, y)) / Math.max(norm(y), 1e-300)
export const matRelErr = (a: Matrix, b: Matrix): number => relErr(a.data, b.data)
export const relErrNum = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300)
/** ‖a − b‖ ≤ rel·‖b‖ + abs (abs covers vectors whose entries cancel to near zero). */
export const within = (a: RVec, b: RVec, rel: number, abs: number): boolean => norm(diff(a, b)) <= rel * norm(b) + abs

export const axpby = (a: number, x: RVec, y: RVec): Vec => Float64Array.from(y, (v, i) => v + a * x[i]!)
export const dot = (x: RVec, y: RVec): number => x.reduce((s, v, i) => s + v * y[i]!, 0)
/** Copies, to check later that a call left its inputs as they were. */
export const snapshot = (...xs: ReadonlyArray<RVec>): ReadonlyArray<Vec> => xs.map((x) => Float64Array.from(x))
export const unit = (n: number, j: number): Vec => {
  const e = new Float64Array(n)
  e[j] = 1
  return e
}
/** x with h added to coordinate j. */
export const shift = (x: RVec, j: number, h: number): Vec => {
  const y = Float64Array.from(x)
  y[j] = y[j]! + h
  return y
}

/** Central-difference gradient of a scalar function (h a step, or a step per coordinate). */
export const fdGrad = (f: (x: RVec) => number, x: RVec, h: number | ((j: number) => number)): Vec =>
  Float64Array.from(x, (_, j) => {
    const hj = typeof h === 'number' ? h : h(j)
    return (f(shift(x, j, hj)) - f(shift(x, j, -hj))) / (2 * hj)
  })
/** Central-difference Jacobian (rows = outputs) of a vector function. */
export const fdJac = (F: (x: RVec) => RVec, x: RVec, outDim: number, h: number): Matrix => {
  const n = x.length
  const d = new Float64Array(outDim * n)
  for (let j = 0; j < n; j++) {
    const a = F(shift(x, j, h))
    const b = F(shift(x, j, -h))
    for (let i = 0; i < outDim; i++) d[i * n + j] = (a[i]! - b[i]!) / (2 * h)
  }
  return matrix(outDim, n, d)
}
/** Central difference of a vector function of one variable t at step h. */
export const cdVec = (f: (t: number) => RVec, h: number): Vec => {
  const a = f(h), b = f(-h)
  return Float64Array.from(a, (v, i) => (v - b[i]!) / (2 * h))
}
export const cdNum = (f: (t: number) => number, h: number): number => (f(h) - f(-h)) / (2 * h)

/** m standard normals (times scale) from the seed. */
export const randVec = (seed: number, m: number, scale = 1): Vec => Float64Array.from(R.normals(R.seed(seed), m)[0], (v) => scale * v)

/**
 * A ±1-labelled dataset with Gaussian features, labels the signs of x·w* + noise; optionally one
 * all-zero column (rank deficiency) and labels of magnitude in [0.5, 2] instead of 1 (to
 * exercise the yᵢ² factors).
 */
export const classificationData = (seed: number, n: number, p: number, zeroCol = false, scaledLabels = false): Dataset => {
  const [rx, rw, ry] = R.split(R.seed(seed), 3) as [R.Rng, R.Rng, R.Rng]
  const [x] = R.normals(rx, n * p)
  if (zeroCol) for (let i = 0; i < n; i++) x[i * p + (p - 1)] = 0
  const [wt] = R.normals(rw, p)
  const [e] = R.normals(ry, n)
  const y = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let j = 0; j < p; j++) s += x[i * p + j]! * wt[j]!
    y[i] = (s + e[i]! >= 0 ? 1 : -1) * (scaledLabels ? 0.5 + 1.5 * Math.abs(Math.sin(7 * i + seed)) : 1)
  }
  return { X: matrix(n, p, x), y }
}

/** All b-subsets of {0, …, n−1} (the without-replacement sampling space). */
export const subsets = (n: number, b: number): Int32Array[] => {
  const out: Int32Array[] = []
  const rec = (start: number, acc: number[]): void => {
    if (acc.length === b) {
      out.push(Int32Array.from(acc))
      return
    }
    for (let i = start; i < n; i++) rec(i + 1, [...acc, i])
  }
  rec(0, [])
  return out
}
/** All ordered b-tuples with repetition (the with-replacement sampling space). */
export const tuples = (n: number, b: number): Int32Array[] => {
  if (b === 0) return [new Int32Array(0)]
  return tuples(n, b - 1).flatMap((t) => Array.from({ length: n }, (_, i) => Int32Array.from([...t, i])))
}
export const meanVec = (vs: ReadonlyArray<RVec>): Vec => {
  const out = new Float64Array(vs[0]!.length)
  for (const v of vs) for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]!
  return out.map((x) => x / vs.length)
}

/**
 * Checks that the mini-batch estimates of a lower objective are unbiased: over all b-subsets of n
 * samples (b = 1…6) and all ordered 2- and 3-tuples, the averages of value, grad, hvp, crossJvp and
 * crossVjp equal the full sums to 1e-12.
 */
export const expectUnbiasedOverSamplingSpaces = (obj: LowerObjective, n: number, w: RVec, lam: RVec, u: RVec, v: RVec, mu: RVec): void => {
  const spaces = [1, 2, 3, 4, 5, 6].map((b) => subsets(n, b)).concat([tuples(n, 2), tuples(n, 3)])
  for (const space of spaces) {
    expect(relErrNum(space.reduce((s, b) => s + obj.value(w, lam, b), 0) / space.length, obj.value(w, lam))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.grad(w, lam, b))), obj.grad(w, lam))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.hvp(w, lam, u, b))), obj.hvp(w, lam, u))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.crossJvp(w, lam, mu, b))), obj.crossJvp(w, lam, mu))).toBeLessThan(1e-12)
    expect(relErr(meanVec(space.map((b) => obj.crossVjp(w, lam, v, b))), obj.crossVjp(w, lam, v))).toBeLessThan(1e-12)
  }
}

/** The dense Hessian of a lower objective at (w, λ) (on a batch when given), column by column from its hvp. */
export const denseHessian = (obj: LowerObjective, w: RVec, lam: RVec, batch?: Batch): Matrix => denseOf(w.length, (u) => obj.hvp(w, lam, u, batch))

/** The dense Hessian of a lower objective at (w, λ) and its eigenvalues, ascending. */
export const hessianSpectrum = (obj: LowerObjective, w: RVec, lam: RVec): { readonly H: Matrix; readonly ev: Vec } => {
  const H = denseHessian(obj, w, lam)
  return { H, ev: symmetricEigenvalues(H) }
}

/**
 * The problem's four derivative products against dense central-difference Jacobians of Φ (step
 * 1e-3, to 1e-9), each vjp against the transpose of its jvp (to 1e-14), and ∇₁E, ∇₂E against
 * central differences of E (to 1e-8). `errW` measures the ∂₁Φ errors (default: relative).
 */
export const expectProductsMatchFd = (p: BilevelProblem, w: RVec, lam: RVec, errW: (a: Matrix, b: Matrix) => number = matRelErr): void => {
  const d = w.length, m = lam.length
  const J1 = denseOf(d, (u) => p.jvpW(w, lam, u))
  expect(errW(J1, fdJac((x) => p.phi(x, lam), w, d, 1e-3))).toBeLessThan(1e-9)
  expect(errW(transpose(J1), denseOf(d, (v) => p.vjpW(w, lam, v)))).toBeLessThan(1e-14)
  const J2 = denseOf(m, (mu) => p.jvpLambda(w, lam, mu), d)
  expect(matRelErr(J2, fdJac((l) => p.phi(w, l), lam, d, 1e-3))).toBeLessThan(1e-9)
  expect(matRelErr(transpose(J2), denseOf(d, (v) => p.vjpLambda(w, lam, v), m))).toBeLessThan(1e-14)
  expect(relErr(p.gradUpperW(w, lam), fdGrad((x) => p.upper(x, lam), w, 1e-3))).toBeLessThan(1e-8)
  expect(relErr(p.gradUpperLambda(w, lam), fdGrad((l) => p.upper(w, l), lam, 1e-3))).toBeLessThan(1e-8)
}

/** w(λ) by Newton's method from w = 0 with the dense Hessian (Cholesky), until ‖∇ℓ‖ < 1e-14 (at most 50 steps). */
export const newtonSolution = (lower: LowerObjective, lam: RVec): Vec => {
  let w: Vec = new Float64Array(lower.dim)
  for (let it = 0; it < 50; it++) {
    const g = lower.grad(w, lam)
    if (norm(g) < 1e-14) break
    w = axpby(-1, choleskySolve(cholesky(denseHessian(lower, w, lam))!, g), w)
  }
  return w
}

/** ∇f = ∇₂E + ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E at w (SID eq. 4–5), by a dense LU solve through the problem's own products. */
export const denseImplicitHypergradient = (p: BilevelProblem, w: RVec, lam: RVec): Vec => {
  const d = w.length
  const JT = denseOf(d, (v) => p.vjpW(w, lam, v))
  const A = matrix(d, d, Float64Array.from(JT.data, (x, i) => (Math.floor(i / d) === i % d ? 1 : 0) - x))
  const v = luSolve(A, p.gradUpperW(w, lam))!
  const cross = p.vjpLambda(w, lam, v)
  return Float64Array.from(p.gradUpperLambda(w, lam), (x, i) => x + cross[i]!)
}

/** The lower objective's gradient agrees with central differences (step 1e-5) of its value, coordinate by coordinate. */
export const expectGradMatchesValue = (obj: LowerObjective, w: RVec, lam: RVec, b: Batch | undefined): void => {
  const g = obj.grad(w, lam, b)
  const fd = Float64Array.from({ length: w.length }, (_, j) => cdNum((t) => obj.value(shift(w, j, t), lam, b), 1e-5))
  expect(within(g, fd, 1e-7, 1e-7)).toBe(true)
}

/** ∇²ℓ u agrees with central differences (step 1e-5) of ∇ℓ along u, and ⟨∇²ℓ u, v⟩ = ⟨u, ∇²ℓ v⟩. */
export const expectHvpMatchesGrad = (obj: LowerObjective, w: RVec, lam: RVec, u: RVec, v: RVec, b: Batch | undefined): void => {
  const hu = obj.hvp(w, lam, u, b)
  expect(within(hu, cdVec((t) => obj.grad(axpby(t, u, w), lam, b), 1e-5), 1e-7, 1e-7)).toBe(true)
  const hv = obj.hvp(w, lam, v, b)
  expect(Math.abs(dot(hu, v) - dot(u, hv))).toBeLessThan(1e-12 * (1 + norm(hu) * norm(v)))
}

/**
 * crossJvp agrees with central differences (step h, tolerance tol) of ∇ℓ along μ; crossVjp has
 * μ's length and is its adjoint. Returns crossVjp(v).
 */
export const expectCrossTerms = (obj: LowerObjective, w: RVec, lam: RVec, mu: RVec, v: RVec, b: Batch | undefined, h: number, tol: number): Vec => {
  const jv = obj.crossJvp(w, lam, mu, b)
  expect(within(jv, cdVec((t) => obj.grad(w, axpby(t, mu, lam), b), h), tol, tol)).toBe(true)
  const vj = obj.crossVjp(w, lam, v, b)
  expect(vj.length).toBe(mu.length)
  expect(Math.abs(dot(jv, v) - dot(mu, vj))).toBeLessThan(1e-12 * (1 + norm(jv) * norm(v)))
  return vj
}

/** gradInto / hvpInto write into a stale `out` (NaN, then `stale`) the same bits as grad / hvp, and return it. */
export const expectIntoMatches = (obj: FusedObjective, w: RVec, lam: RVec, u: RVec, stale: Vec, b: Batch | undefined): void => {
  const out = new Float64Array(w.length).fill(Number.NaN)
  expect(gradInto(obj, w, lam, out, b)).toBe(out)
  expect(out).toEqual(obj.grad(w, lam, b))
  expect(hvpInto(obj, w, lam, u, stale, b)).toBe(stale)
  expect(stale).toEqual(obj.hvp(w, lam, u, b))
}

/** Call every method of a fused objective, on the full sum and on `batch` (for a test that its inputs are left as they were). */
export const callEveryMethod = (obj: FusedObjective, w: RVec, u: RVec, lam: RVec, mu: RVec, batch: Batch): void => {
  for (const b of [undefined, batch]) {
    obj.value(w, lam, b)
    obj.grad(w, lam, b)
    obj.hvp(w, lam, u, b)
    obj.crossJvp(w, lam, mu, b)
    obj.crossVjp(w, lam, u, b)
    obj.gradInto(w, lam, new Float64Array(w.length), b)
    obj.hvpInto(w, lam, u, new Float64Array(w.length), b)
  }
  obj.curvature(lam)
  obj.checkLambda(lam)
}

/** A drawn case of a lower objective's tests: its data, the objective at (w, λ), and a batch. */
export interface ObjectiveCase {
  readonly d: Dataset
  readonly obj: FusedObjective
  readonly w: Vec
  readonly lam: Vec
  readonly batch: Int32Array
}

/**
 * Two tests every row-pass objective passes, each a property over `cases` (20 runs), on the full
 * sum and on the case's batch: `checkValue` (the value against the file's own reference) and the
 * gradient against central differences of the value; the Hessian-vector product along
 * u = randVec(seed + 4, p) against central differences of the gradient, and symmetric (with
 * v = randVec(seed + 5, p)).
 */
export const itChecksValueGradientAndHvp = <C extends { readonly seed: number; readonly p: number }>(
  cases: fc.Arbitrary<C>, draw: (c: C) => ObjectiveCase, checkValue: (c: C, drawn: ObjectiveCase) => void,
): void => {
  it('value matches its reference; gradient = central differences of the value (full sum and minibatches)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const drawn = draw(c)
        checkValue(c, drawn)
        for (const b of [undefined, drawn.batch]) expectGradMatchesValue(drawn.obj, drawn.w, drawn.lam, b)
      }),
      { numRuns: 20 },
    )
  })
  it('Hessian-vector product = central differences of the gradient, and is symmetric', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { obj, w, lam, batch } = draw(c)
        const u = randVec(c.seed + 4, c.p), v = randVec(c.seed + 5, c.p)
        for (const b of [undefined, batch]) expectHvpMatchesGrad(obj, w, lam, u, v, b)
      }),
      { numRuns: 20 },
    )
  })
}
