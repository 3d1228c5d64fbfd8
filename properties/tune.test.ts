// Properties of the outer loop (src/outer/tune.ts) driven by the library's hypergradient
// methods: convergence to the minimizer of the closed-form validation loss of ridge regression,
// warm starts that change the work but not the answer, and adaptive inner accuracy whose
// certificates hold against the exact hypergradient at every step.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Dataset } from '../src/data/dataset.js'
import { aid } from '../src/hypergrad/aid.js'
import { exact } from '../src/hypergrad/exact.js'
import type { HypergradResult } from '../src/hypergrad/types.js'
import { cholesky, choleskySolve } from '../src/linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../src/linalg/types.js'
import { aidAdaptive } from '../src/outer/adaptive.js'
import { tune, type HyperOracle, type OracleRequest, type TuneOptions } from '../src/outer/tune.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { ridgeProblem } from '../src/problems/ridge.js'
import * as R from '../src/random/rng.js'
import { conjugateGradient } from '../src/solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../src/solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../src/solvers/lower/fixedPoint.js'

const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

/** The estimate of a result that did not diverge (a diverged result fails the test). */
const estimate = (r: HypergradResult): { readonly gradient: Vec; readonly value: number } => {
  if (r.status === 'diverged') throw new Error(`diverged: ${JSON.stringify(r.divergedAt)}`)
  return { gradient: r.gradient, value: r.value }
}

/**
 * Train and validation sets drawn from ONE linear model w* with noise (so that the validation
 * loss has an interior minimum in λ): X ~ N(0, 1), y = Xw* + noise·ε.
 */
const regression = (seed: number, n: number, nVal: number, p: number, noise: number): { train: Dataset; validation: Dataset } => {
  const [r1, r2, r3, r4, r5] = R.split(R.seed(seed), 5) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [wStar] = R.normals(r1, p)
  const labels = (x: Float64Array, e: Float64Array, m: number) =>
    Float64Array.from({ length: m }, (_, i) => {
      let z = 0
      for (let j = 0; j < p; j++) z += x[i * p + j]! * wStar[j]!
      return z + noise * e[i]!
    })
  const [xt] = R.normals(r2, n * p)
  const [xv] = R.normals(r3, nVal * p)
  const [et] = R.normals(r4, n)
  const [ev] = R.normals(r5, nVal)
  return { train: { X: matrix(n, p, xt), y: labels(xt, et, n) }, validation: { X: matrix(nVal, p, xv), y: labels(xv, ev, nVal) } }
}

/**
 * The closed forms of scalar-λ ridge, computed here from the data with dense Cholesky solves
 * (independently of the problem's code): w(λ) = (XᵀX + λI)⁻¹Xᵀy, the validation loss
 * f(λ) = ½‖X_val w(λ) − y_val‖², and its derivative f′(λ) = r_valᵀX_val w′(λ), with
 * r_val = X_val w − y_val and w′(λ) = −(XᵀX + λI)⁻¹w(λ).
 */
const ridgeClosedForm = (train: Dataset, validation: Dataset) => {
  const { rows: n, cols: p, data: X } = train.X
  const G = new Float64Array(p * p)
  const b = new Float64Array(p)
  for (let i = 0; i < n; i++)
    for (let a = 0; a < p; a++) {
      b[a] = b[a]! + X[i * p + a]! * train.y[i]!
      for (let c = 0; c < p; c++) G[a * p + c] = G[a * p + c]! + X[i * p + a]! * X[i * p + c]!
    }
  const factor = (lambda: number) => {
    const H = Float64Array.from(G)
    for (let a = 0; a < p; a++) H[a * p + a] = H[a * p + a]! + lambda
    return cholesky(matrix(p, p, H))!
  }
  /** X_val u, row by row. */
  const apply = (u: RVec): Float64Array =>
    Float64Array.from({ length: validation.X.rows }, (_, i) => {
      let z = 0
      for (let a = 0; a < p; a++) z += validation.X.data[i * p + a]! * u[a]!
      return z
    })
  return {
    loss: (lambda: number): number => {
      const z = apply(choleskySolve(factor(lambda), b))
      return z.reduce((s, zi, i) => s + (zi - validation.y[i]!) ** 2, 0) / 2
    },
    derivative: (lambda: number): number => {
      const L = factor(lambda)
      const w = choleskySolve(L, b)
      const z = apply(w)
      const dz = apply(choleskySolve(L, w).map((x) => -x))
      return z.reduce((s, zi, i) => s + (zi - validation.y[i]!) * dz[i]!, 0)
    },
  }
}
const closedFormLoss = (train: Dataset, validation: Dataset) => ridgeClosedForm(train, validation).loss

/** The zero of f′ in [lo, hi] (f′(lo) < 0 < f′(hi)) by bisection on log λ, to 1e-14 in log λ. */
const rootByBisection = (fPrime: (l: number) => number, lo: number, hi: number): number => {
  let [a, b] = [Math.log(lo), Math.log(hi)]
  if (!(fPrime(lo) < 0 && fPrime(hi) > 0)) throw new Error(`no sign change of f′ in [${lo}, ${hi}]`)
  while (b - a > 1e-14) {
    const m = (a + b) / 2
    if (fPrime(Math.exp(m)) < 0) a = m
    else b = m
  }
  return Math.exp((a + b) / 2)
}

/**
 * argmin f over λ ∈ [1e-4, 1e4]: a dense search on 4001 log-spaced points (which must find a
 * single interior local minimum), refined by golden-section search in log λ between the grid
 * neighbours of the best point, down to a bracket of 1e-13 in log λ.
 */
const argminByGoldenSection = (f: (l: number) => number): { lambda: number; localMinima: number; interior: boolean } => {
  const N = 4001
  const logs = Array.from({ length: N }, (_, i) => -4 * Math.LN10 + (8 * Math.LN10 * i) / (N - 1))
  const vals = logs.map((x) => f(Math.exp(x)))
  let best = 0
  let localMinima = 0
  for (let i = 0; i < N; i++) if (vals[i]! < vals[best]!) best = i
  for (let i = 1; i < N - 1; i++) if (vals[i]! < vals[i - 1]! && vals[i]! <= vals[i + 1]!) localMinima++
  let a = logs[Math.max(0, best - 1)]!
  let b = logs[Math.min(N - 1, best + 1)]!
  const g = (Math.sqrt(5) - 1) / 2
  let c = b - g * (b - a)
  let d = a + g * (b - a)
  let fc_ = f(Math.exp(c))
  let fd = f(Math.exp(d))
  while (b - a > 1e-13) {
    if (fc_ < fd) {
      b = d
      d = c
      fd = fc_
      c = b - g * (b - a)
      fc_ = f(Math.exp(c))
    } else {
      a = c
      c = d
      fc_ = fd
      d = a + g * (b - a)
      fd = f(Math.exp(d))
    }
  }
  return { lambda: Math.exp((a + b) / 2), localMinima, interior: best > 0 && best < N - 1 }
}

/**
 * The scalar-λ ridge problem with one step α valid on the whole box Λ = [lo, hi]
 * (α = 2/(L_hi + τ_lo) keeps q < 1 there), so that the linear-system solution v, which scales
 * with 1/α, is comparable from one outer step to the next (warm starts).
 */
const ridgeOnBox = (train: Dataset, validation: Dataset, lo: number, hi: number) => {
  const base = right(ridgeProblem(train, validation, Float64Array.of(1), { regularization: 'scalar' }))
  const alpha = 2 / (base.lower.curvature(Float64Array.of(hi)).L + base.lower.curvature(Float64Array.of(lo)).tau)
  return right(ridgeProblem(train, validation, Float64Array.of(1), { regularization: 'scalar', alpha }))
}

/** The exact hypergradient of scalar-λ ridge at each λ asked (dense direct solves, hypergrad/exact.ts). */
const exactRidgeOracle = (train: Dataset, validation: Dataset): HyperOracle => ({ lambda }) =>
  E.flatMap(ridgeProblem(train, validation, lambda, { regularization: 'scalar' }), (p) => exact(p, lambda))

describe('tune on ridge regression (scalar λ)', () => {
  const fixtures = [1, 2, 3, 4].map((seed) => {
    const { train, validation } = regression(seed, 20, 40, 8, 3)
    return { seed, train, validation, truth: argminByGoldenSection(closedFormLoss(train, validation)) }
  })

  it('the fixtures have one interior minimum of the closed-form validation loss', () => {
    for (const f of fixtures) {
      expect(f.truth.localMinima, `seed ${f.seed}`).toBe(1)
      expect(f.truth.interior, `seed ${f.seed}`).toBe(true)
    }
  })

  it('from any start in [1e-3, 1e4], Adam then gradient descent on log λ reach the minimizer to 1e-4 relative', () => {
    fc.assert(
      fc.property(fc.constantFrom(...fixtures), fc.double({ min: -3, max: 4, noNaN: true }), (f, log10Start) => {
        const oracle = exactRidgeOracle(f.train, f.validation)
        const coarse = right(tune(Float64Array.of(10 ** log10Start), oracle, { optimizer: 'adam', steps: 300, stepSize: 0.1, logScale: true }))
        const fine = right(tune(coarse.lambda, oracle, { optimizer: 'gd', steps: 5000, stepSize: 0.05, logScale: true, gradTol: 1e-8 }))
        expect(fine.status).toBe('converged')
        expect(Math.abs(fine.lambda[0]! / f.truth.lambda - 1)).toBeLessThan(1e-4)
        // The loss reported with the final λ is the closed-form loss there.
        const fv = closedFormLoss(f.train, f.validation)(fine.lambda[0]!)
        expect(Math.abs(fine.value - fv)).toBeLessThanOrEqual(1e-9 * fv)
      }),
      { numRuns: 12 },
    )
  })

  // The zero of the closed-form f′ next to the golden-section minimizer: accurate to ~1e-14 where
  // values of f, flat at the minimum, resolve λ only to ~1e-7.
  const roots = fixtures.map((f) => rootByBisection(ridgeClosedForm(f.train, f.validation).derivative, f.truth.lambda / 1.5, f.truth.lambda * 1.5))

  it('L-BFGS and the secant method on log λ reach the zero of f′ to 1e-6 relative in at most 16 oracle calls, from any start in [1e-3, 1e4]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: fixtures.length - 1 }), fc.double({ min: -3, max: 4, noNaN: true }), (i, log10Start) => {
        const f = fixtures[i]!
        const oracle = exactRidgeOracle(f.train, f.validation)
        for (const optimizer of ['lbfgs', 'secant'] as const) {
          const r = right(tune(Float64Array.of(10 ** log10Start), oracle, { optimizer, steps: 100, logScale: true }))
          const hit = r.trajectory.find((s) => Math.abs(s.lambda[0]! / roots[i]! - 1) <= 1e-6)
          expect(hit, `${optimizer} from 10^${log10Start}: ${r.reason}`).toBeDefined()
          expect(hit!.evaluations).toBeLessThanOrEqual(16)
          expect(Math.abs(r.lambda[0]! / roots[i]! - 1)).toBeLessThanOrEqual(1e-6)
        }
      }),
      { numRuns: 20 },
    )
  })

  it('AID-CG as the oracle (tolerances 1e-10, warm-started) converges to the same minimizer', () => {
    for (const f of fixtures.slice(0, 2)) {
      const problem = ridgeOnBox(f.train, f.validation, 1e-3, 1e3)
      const oracle: HyperOracle = ({ lambda, warm }) =>
        aid(problem, lambda, {
          lower: fixedPointIteration(),
          linear: conjugateGradient(),
          t: 1_000_000,
          k: 1000,
          tolLower: 1e-11,
          tolLinear: 1e-11,
          ...(warm.w !== undefined ? { w0: warm.w } : {}),
          ...(warm.v !== undefined ? { v0: warm.v } : {}),
        })
      const r = right(tune(Float64Array.of(1), oracle, { optimizer: 'gd', steps: 5000, stepSize: 0.05, logScale: true, gradTol: 1e-8, bounds: [1e-3, 1e3] }))
      expect(r.status).toBe('converged')
      expect(Math.abs(r.lambda[0]! / f.truth.lambda - 1)).toBeLessThan(1e-4)
    }
  })
})

describe('warm starts', () => {
  const { train, validation } = regression(3, 20, 40, 8, 3)
  const truth = argminByGoldenSection(closedFormLoss(train, validation)).lambda
  const [lo, hi] = [0.01, 1000] as const
  const problem = ridgeOnBox(train, validation, lo, hi)

  // [name, options, agreement of the warm and cold final λ]. This oracle ignores the accuracy
  // HOAG asks for; HOAG's last steps are judged on values of f̂ at the oracle's noise level (its
  // gradient error, from ‖Φ(w) − w‖ ≤ 1e-10 at q ≈ 1, is ~1e-5), so its two runs end ~1e-6 apart.
  const outers: ReadonlyArray<readonly [string, Pick<TuneOptions, 'optimizer' | 'stepSize' | 'steps'>, number]> = [
    ['gd', { optimizer: 'gd', stepSize: 0.05, steps: 100 }, 1e-6],
    ['lbfgs', { optimizer: 'lbfgs', steps: 30 }, 1e-6],
    ['secant', { optimizer: 'secant', steps: 30 }, 1e-6],
    ['hoag', { optimizer: 'hoag', steps: 100 }, 1e-5],
  ]
  for (const [outerName, outer, agreement] of outers) {
    for (const linear of [conjugateGradient(), fixedPointLinear()]) {
      it(`${outerName} on AID(gd, ${linear.name}) with tolerances: the same final λ as cold starts, with fewer inner iterations`, () => {
      const oracle: HyperOracle = ({ lambda, warm }) =>
        aid(problem, lambda, {
          lower: fixedPointIteration(),
          linear,
          t: 1_000_000,
          k: 1_000_000,
          tolLower: 1e-10,
          tolLinear: 1e-10,
          ...(warm.w !== undefined ? { w0: warm.w } : {}),
          ...(warm.v !== undefined ? { v0: warm.v } : {}),
        })
      const run = (warmStart: boolean) => right(tune(Float64Array.of(100), oracle, { ...outer, logScale: true, warmStart, bounds: [lo, hi] }))
      const warm = run(true)
      const cold = run(false)
      const total = (r: typeof warm, f: (s: (typeof warm.trajectory)[number]) => number) => r.trajectory.reduce((a, s) => a + f(s), 0)
      // Same fixed point reached (both are the closed-form minimizer), up to the inner tolerances.
      expect(Math.abs(warm.lambda[0]! / cold.lambda[0]! - 1)).toBeLessThan(agreement)
      expect(Math.abs(warm.lambda[0]! / truth - 1)).toBeLessThan(1e-4)
      expect(Math.abs(cold.lambda[0]! / truth - 1)).toBeLessThan(1e-4)
      // Less work: fewer lower-level iterations, and fewer inner iterations in all.
      expect(total(warm, (s) => s.t)).toBeLessThan(total(cold, (s) => s.t))
      expect(total(warm, (s) => s.t + s.k)).toBeLessThan(total(cold, (s) => s.t + s.k))
      // The first step is the same cold solve in both runs.
      expect(warm.trajectory[0]!.t).toBe(cold.trajectory[0]!.t)
    })
    }
  }
})

describe('adaptive inner accuracy (aidAdaptive inside tune)', () => {
  // Logistic regression with one λ per feature on a small random problem; α fixed for the box.
  const [rx, ry, rv, rvy] = R.split(R.seed(11), 4) as [R.Rng, R.Rng, R.Rng, R.Rng]
  const n = 40
  const p = 5
  const [xt] = R.normals(rx, n * p)
  const [xv] = R.normals(rv, n * p)
  const [nt] = R.normals(ry, n)
  const [nv] = R.normals(rvy, n)
  const lab = (x: Float64Array, e: Float64Array) =>
    Float64Array.from({ length: n }, (_, i) => (x[i * p]! - 0.5 * x[i * p + 1]! + 0.8 * e[i]! >= 0 ? 1 : -1))
  const train = { X: matrix(n, p, xt), y: lab(xt, nt) }
  const validation = { X: matrix(n, p, xv), y: lab(xv, nv) }
  const [lo, hi] = [0.05, 50] as const
  const probe = right(logisticProblem(train, validation, new Float64Array(p).fill(1), { regularization: 'perFeature' }))
  const alpha = 2 / (probe.lower.curvature(new Float64Array(p).fill(hi)).L + lo)
  const problem = right(logisticProblem(train, validation, new Float64Array(p).fill(1), { regularization: 'perFeature', alpha }))
  /** AID run until its a posteriori bound meets the tolerance, warm-started. */
  const certified = (lambda: RVec, warm: OracleRequest['warm'], tolerance: number) =>
    aidAdaptive(problem, lambda, {
      lower: fixedPointIteration(),
      linear: conjugateGradient(),
      tolerance,
      maxT: 200_000,
      maxK: 10_000,
      ...(warm.w !== undefined ? { w0: warm.w } : {}),
      ...(warm.v !== undefined ? { v0: warm.v } : {}),
    })

  it('every recorded a posteriori bound is ≥ the true hypergradient error and ≤ the step’s tolerance', () => {
    const seen: Array<{ lambda: RVec; result: HypergradResult & { bound: number }; tolerance: number }> = []
    const oracle: HyperOracle = ({ lambda, warm, tolerance }) => {
      if (tolerance === undefined) throw new Error('adaptive mode must pass a tolerance')
      const r = certified(lambda, warm, tolerance)
      if (E.isRight(r)) seen.push({ lambda: Float64Array.from(lambda), result: r.right, tolerance })
      return r
    }
    const out = right(
      tune(new Float64Array(p).fill(0.1), oracle, {
        optimizer: 'adam',
        steps: 25,
        stepSize: 0.1,
        logScale: true,
        bounds: [lo, hi],
        tolerance: 'adaptive',
        adaptiveFactor: 1e-3,
        initialTolerance: 1e-1,
      }),
    )
    expect(out.trajectory).toHaveLength(25)
    expect(seen).toHaveLength(25)
    let previousGradNorm = Infinity
    out.trajectory.forEach((s, i) => {
      const rec = seen[i]!
      // The tolerance of step i is min(initial, 10⁻³·‖∇̂f‖ of step i − 1), and the certificate meets it.
      expect(s.tolerance).toBe(Math.min(1e-1, 1e-3 * previousGradNorm))
      expect(s.bound).toBe(rec.result.bound)
      expect(s.bound!).toBeLessThanOrEqual(s.tolerance!)
      expect(s.status).toBe('converged')
      // The certificate holds against the exact hypergradient at the recorded λ.
      const truth = estimate(right(exact(problem, rec.lambda))).gradient
      let err = 0
      for (let j = 0; j < p; j++) err += (estimate(rec.result).gradient[j]! - truth[j]!) ** 2
      expect(s.bound! * (1 + 1e-9) + 1e-13).toBeGreaterThanOrEqual(Math.sqrt(err))
      previousGradNorm = s.gradNorm
    })
    // The adaptive rule, not the initial tolerance, set most of the tolerances, and they vary.
    const tols = out.trajectory.map((s) => s.tolerance!)
    expect(tols.filter((x) => x < 1e-1).length).toBe(24)
    expect(new Set(tols).size).toBeGreaterThan(20)
  })

  it('HOAG asks the certified oracle for tolerances (on ∇_θ f) that never increase; each certificate meets its tolerance, and f falls', () => {
    const seen: Array<{ readonly tolerance: number; readonly thetaTolerance: number; readonly bound: number; readonly status: string }> = []
    const oracle: HyperOracle = ({ lambda, warm, tolerance }) => {
      if (tolerance === undefined) throw new Error('hoag must pass a tolerance')
      const r = certified(lambda, warm, tolerance)
      // HOAG runs on θ = log λ: its accuracy there is the accuracy asked on ∇_λ f times ‖λ‖_∞.
      if (E.isRight(r)) seen.push({ tolerance, thetaTolerance: tolerance * Math.max(...lambda), bound: r.right.bound, status: r.right.status })
      return r
    }
    const out = right(
      tune(new Float64Array(p).fill(0.1), oracle, { optimizer: 'hoag', steps: 25, logScale: true, bounds: [lo, hi], initialTolerance: 1e-1, adaptiveFactor: 1e-2 }),
    )
    expect(seen.length).toBe(out.evaluations)
    for (let i = 0; i < seen.length; i++) {
      // A certificate meets its tolerance unless aidAdaptive hit its caps (the bound has a floor near 6e-9 here).
      if (seen[i]!.status === 'converged') expect(seen[i]!.bound).toBeLessThanOrEqual(seen[i]!.tolerance)
      if (i > 0) expect(seen[i]!.thetaTolerance).toBeLessThanOrEqual(seen[i - 1]!.thetaTolerance * (1 + 1e-12))
    }
    expect(seen.filter((x) => x.status === 'converged').length).toBeGreaterThan(10)
    // The exact f falls from the start to the end.
    const fAt = (l: ReadonlyArray<number>) => estimate(right(exact(problem, Float64Array.from(l)))).value
    expect(fAt(out.trajectory[out.trajectory.length - 1]!.lambda)).toBeLessThan(fAt(out.trajectory[0]!.lambda))
    expect(out.trajectory.length).toBeGreaterThan(5)
  })
})

describe('oracle calls to the minimizer: scalar-λ logistic regression (300 × 30, exact hypergradients)', () => {
  // Breast-cancer-sized data: train and validation labels from ONE linear model w* with noise,
  // so that the validation loss has an interior minimum in λ.
  const [n, p] = [300, 30]
  const [r1, r2, r3, r4, r5] = R.split(R.seed(1), 5) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [wStar] = R.normals(r1, p)
  const sample = (rx: R.Rng, re: R.Rng): Dataset => {
    const [x] = R.normals(rx, n * p)
    const [e] = R.normals(re, n)
    const y = Float64Array.from({ length: n }, (_, i) => {
      let z = 0
      for (let j = 0; j < p; j++) z += x[i * p + j]! * wStar[j]!
      return (3 * z) / Math.sqrt(p) + 2 * e[i]! >= 0 ? 1 : -1
    })
    return { X: matrix(n, p, x), y }
  }
  const train = sample(r2, r4)
  const validation = sample(r3, r5)
  const oracle: HyperOracle = ({ lambda, warm }) =>
    E.flatMap(logisticProblem(train, validation, lambda, { regularization: 'scalar' }), (pr) => exact(pr, lambda, warm.w !== undefined ? { w: warm.w } : {}))
  const gradAt = (l: number): number => estimate(right(oracle({ lambda: Float64Array.of(l), warm: {}, step: 0, evaluation: 0 }))).gradient[0]!
  // The truth: the zero of the exact f′ by bisection on log λ in a bracket found on a coarse grid.
  const grid = Array.from({ length: 33 }, (_, i) => 10 ** (-4 + i / 4))
  const k = grid.findIndex((l) => gradAt(l) > 0)
  const lambdaStar = rootByBisection(gradAt, grid[k - 1]!, grid[k]!)

  const callsTo = (r: { readonly trajectory: ReadonlyArray<{ readonly lambda: ReadonlyArray<number>; readonly evaluations: number }> }, tol: number): number =>
    r.trajectory.find((s) => Math.abs(s.lambda[0]! / lambdaStar - 1) <= tol)?.evaluations ?? Infinity

  it('L-BFGS and the secant method on log λ: 1e-3 in ≤ 10 calls, 1e-6 in ≤ 12; Adam needs 5 times as many calls as L-BFGS just for 1e-2', () => {
    expect(k).toBeGreaterThan(0)
    const starts = [0.01, 1, 100]
    let lbfgsTotal = 0
    let adamTotal = 0
    for (const l0 of starts) {
      for (const optimizer of ['lbfgs', 'secant'] as const) {
        const r = right(tune(Float64Array.of(l0), oracle, { optimizer, steps: 50, logScale: true }))
        expect(callsTo(r, 1e-3), `${optimizer} from ${l0}`).toBeLessThanOrEqual(10)
        expect(callsTo(r, 1e-6), `${optimizer} from ${l0}`).toBeLessThanOrEqual(12)
        if (optimizer === 'lbfgs') lbfgsTotal += callsTo(r, 1e-3)
      }
      const a = right(tune(Float64Array.of(l0), oracle, { optimizer: 'adam', stepSize: 0.1, steps: 100, logScale: true }))
      adamTotal += callsTo(a, 1e-2)
    }
    expect(adamTotal).toBeGreaterThanOrEqual(5 * lbfgsTotal)
  })
})
