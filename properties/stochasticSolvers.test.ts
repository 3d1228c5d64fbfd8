/**
 * Properties of the stochastic solvers over random instances of the quadratic test bed:
 *  - SID Thm 4.1 (constant step) and Thm 4.2 (ηₜ = β/(γ+t)) for the stochastic fixed-point
 *    iteration (17), on the lower problem (`sgd`, eq. 28) and on the linear system
 *    (`stochasticFixedPoint`, eq. 29): Monte Carlo MSE ≤ the theorem's bound (+ 3 standard errors);
 *  - linear convergence of the variance-reduced solvers (svrg, saga, svrgLinear) on finite sums;
 *  - unbiasedness of the stochastic Neumann estimator for its truncated series, by enumeration.
 *
 * The constants of Assumption D for single-sample draws (b = 1) are computed exactly. Both maps
 * are affine, T̂ᵢ(x) = Gᵢx + hᵢ with mean T(x) = Gx + h, so with x* = T(x*):
 *   V[T̂(x)] = E‖(Gᵢ − G)(x − x*) + (T̂ᵢ(x*) − x*)‖² ≤ 2V[T̂(x*)] + 2 maxᵢ‖Gᵢ − G‖² ‖x − x*‖²,
 * and ‖x − x*‖ ≤ ‖T(x) − x‖/(1 − q), hence σ₁ = 2V[T̂(x*)], σ₂ = 2 maxᵢ‖Gᵢ − G‖²/(1 − q)²
 * (the argument of SID Thm 4.3 with the spread of the Jacobians in place of L_T̂² + q²).
 * For Φ̂ᵢ = w − αAᵢw + …, Gᵢ − G = −α(Aᵢ − A) on both subproblems (∂₁Φ is symmetric).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { LowerSolver } from '../src/solvers/types.js'
import { orThrow } from '../src/errors.js'
import { spectralNorm } from '../src/linalg/matrix.js'
import { matrix } from '../src/linalg/types.js'
import { distance, norm } from '../src/linalg/vector.js'
import { quadraticProblem, type QuadraticProblem } from '../src/problems/quadratic.js'
import { seed } from '../src/random/rng.js'
import { constantOrThrow, decreasingOrThrow, type Schedule } from '../src/schedule/schedule.js'
import { take, toArray } from '../src/stream/stream.js'
import { neumannProduct, stochasticNeumann } from '../src/solvers/linear/stochasticNeumann.js'
import { stochasticFixedPoint } from '../src/solvers/linear/stochasticFixedPoint.js'
import { svrgLinear } from '../src/solvers/linear/svrgLinear.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import { saga } from '../src/solvers/lower/saga.js'
import { sgd } from '../src/solvers/lower/sgd.js'
import { svrg } from '../src/solvers/lower/svrg.js'
import type { LinearSystem } from '../src/solvers/types.js'
import { iter } from '../src/solvers/testing.test-util.js'

const instance = fc.record({
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  dim: fc.integer({ min: 2, max: 4 }),
  nSamples: fc.integer({ min: 4, max: 9 }),
  separable: fc.boolean(),
})
type Instance = { readonly seed: number; readonly dim: number; readonly nSamples: number; readonly separable: boolean }

const build = (i: Instance): { p: QuadraticProblem; lambda: Float64Array } => {
  const p = orThrow(quadraticProblem({ ...i, hyperDim: 2 }))
  return { p, lambda: Float64Array.of(0.5, -0.5) }
}

/** maxᵢ ‖α(Aᵢ − A)‖₂: the spread of the per-sample Jacobians. */
const jacobianSpread = (p: QuadraticProblem, lambda: Float64Array): number => {
  const c = p.constants(lambda)
  let best = 0
  for (const s of c.perSample) best = Math.max(best, spectralNorm(matrix(c.A.rows, c.A.cols, s.A.data.map((x, j) => c.alpha * (x - c.A.data[j]!)))))
  return best
}

interface TheoremSetting {
  readonly q: number
  readonly sigma1: number
  readonly sigma2: number
  readonly mse0: number
  /** The MSE of `steps` iterates, one run per seed: returns ‖xₜ − x*‖² for t in checkpoints. */
  readonly run: (schedule: Schedule, s: number, checkpoints: ReadonlyArray<number>) => number[]
}

const lowerSetting = (p: QuadraticProblem, lambda: Float64Array): TheoremSetting => {
  const ws = p.solution(lambda)
  const n = p.nSamples
  let v = 0
  for (let i = 0; i < n; i++) v += distance(p.phiHat(ws, lambda, Int32Array.of(i)), ws) ** 2 / n
  const q = p.contraction(lambda)
  const w0 = new Float64Array(p.dim)
  return {
    q,
    sigma1: 2 * v,
    sigma2: (2 * jacobianSpread(p, lambda) ** 2) / (1 - q) ** 2,
    mse0: distance(w0, ws) ** 2,
    run: (schedule, s, cps) => {
      const st = toArray(take(cps[cps.length - 1]! + 1)(iter(sgd({ schedule, batchSize: 1 }), p, lambda, w0, seed(s))))
      return cps.map((t) => distance(st[t]!.w, ws) ** 2)
    },
  }
}

const linearSetting = (p: QuadraticProblem, lambda: Float64Array): TheoremSetting => {
  const system = linearSystemAt(p, lambda, p.solution(lambda))
  const c = p.constants(lambda)
  // v* = (I − ∂₁Φᵀ)⁻¹b = (αA)⁻¹b: solve with the closed-form machinery (A⁻¹ via the solution map).
  const vs = solveDense(system)
  const n = p.nSamples
  let v = 0
  const jv = system.complement!(vs)
  for (let i = 0; i < n; i++) v += distance(system.complementHat!(Int32Array.of(i), vs), jv) ** 2 / n
  const q = c.q
  const v0 = new Float64Array(p.dim)
  return {
    q,
    sigma1: 2 * v,
    sigma2: (2 * jacobianSpread(p, lambda) ** 2) / (1 - q) ** 2,
    mse0: distance(v0, vs) ** 2,
    run: (schedule, s, cps) => {
      const st = toArray(take(cps[cps.length - 1]! + 1)(iter(stochasticFixedPoint({ schedule, batchSize: 1 }), system, v0, seed(s))))
      return cps.map((k) => distance(st[k]!.v, vs) ** 2)
    },
  }
}

/** Gaussian elimination with partial pivoting on (I − ∂₁Φᵀ)v = b, the matrix built column by column. */
const solveDense = (s: LinearSystem): Float64Array => {
  const d = s.dim
  const a: number[][] = Array.from({ length: d }, () => new Array<number>(d + 1).fill(0))
  for (let j = 0; j < d; j++) {
    const e = new Float64Array(d)
    e[j] = 1
    const col = s.complement!(e)
    for (let i = 0; i < d; i++) a[i]![j] = e[i]! - col[i]!
  }
  for (let i = 0; i < d; i++) a[i]![d] = s.rhs[i]!
  for (let c = 0; c < d; c++) {
    let piv = c
    for (let r = c + 1; r < d; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r
    ;[a[c], a[piv]] = [a[piv]!, a[c]!]
    for (let r = c + 1; r < d; r++) {
      const f = a[r]![c]! / a[c]![c]!
      for (let k = c; k <= d; k++) a[r]![k] = a[r]![k]! - f * a[c]![k]!
    }
  }
  const x = new Float64Array(d)
  for (let r = d - 1; r >= 0; r--) {
    let acc = a[r]![d]!
    for (let k = r + 1; k < d; k++) acc -= a[r]![k]! * x[k]!
    x[r] = acc / a[r]![r]!
  }
  return x
}

/** Monte Carlo mean and standard error of the squared errors at each checkpoint. */
const monteCarlo = (st: TheoremSetting, schedule: Schedule, cps: ReadonlyArray<number>, runs: number, base: number): { mean: number[]; se: number[] } => {
  const sum = cps.map(() => 0)
  const sq = cps.map(() => 0)
  for (let r = 0; r < runs; r++) {
    st.run(schedule, base + r, cps).forEach((e, j) => {
      sum[j] = sum[j]! + e
      sq[j] = sq[j]! + e * e
    })
  }
  const mean = sum.map((s) => s / runs)
  return { mean, se: sq.map((s, j) => Math.sqrt(Math.max(0, s / runs - mean[j]! ** 2) / runs)) }
}

const checkTheorem41 = (st: TheoremSetting, base: number): void => {
  const eta = 1 / (1 + st.sigma2)
  const rate = 1 - eta * (1 - st.q * st.q)
  const r = (eta * st.sigma1) / (1 - st.q * st.q)
  const cps = [1, 5, 20, 80]
  const { mean, se } = monteCarlo(st, constantOrThrow(eta), cps, 150, base)
  cps.forEach((t, j) => expect(mean[j]!).toBeLessThanOrEqual(rate ** t * (st.mse0 - r) + r + 3 * se[j]! + 1e-12))
}

const checkTheorem42 = (st: TheoremSetting, base: number): void => {
  const beta = 2 / (1 - st.q * st.q)
  const gamma = beta * (1 + st.sigma2)
  const c = Math.max(gamma * st.mse0, (beta * beta * st.sigma1) / (beta * (1 - st.q * st.q) - 1))
  const cps = [1, 10, 100, 300]
  const { mean, se } = monteCarlo(st, decreasingOrThrow(beta, gamma), cps, 100, base)
  cps.forEach((t, j) => expect(mean[j]!).toBeLessThanOrEqual(c / (gamma + t) + 3 * se[j]! + 1e-12))
}

describe('stochastic fixed-point iteration (SID §4–5) on random quadratic instances', () => {
  it('sgd (eq. 28) obeys Thm 4.1 (η = 1/(1+σ₂)) and Thm 4.2 (β = 2/(1−q²), γ = β(1+σ₂)) in Monte Carlo mean square', () => {
    fc.assert(
      fc.property(instance, (i) => {
        const { p, lambda } = build(i)
        const st = lowerSetting(p, lambda)
        checkTheorem41(st, 1000)
        checkTheorem42(st, 2000)
      }),
      { numRuns: 4 },
    )
  })

  it('stochasticFixedPoint (eq. 29) obeys Thm 4.1 and Thm 4.2 on the linear system at w(λ)', () => {
    fc.assert(
      fc.property(instance, (i) => {
        const { p, lambda } = build(i)
        const st = linearSetting(p, lambda)
        checkTheorem41(st, 3000)
        checkTheorem42(st, 4000)
      }),
      { numRuns: 4 },
    )
  })
})

describe('variance-reduced solvers converge linearly on finite sums (random instances)', () => {
  /**
   * Fit error ≤ C·ρᵗ: ρ is the mean rate per step from e₀ to the first error below `floor`, and C
   * the smallest constant with eₜ ≤ C·ρᵗ up to there. Returns ρ and C/e₀ (the transient).
   */
  const geometricFit = (errors: ReadonlyArray<number>, floor: number): { rho: number; transient: number } => {
    let T = errors.findIndex((e) => e < floor)
    if (T < 0) T = errors.length - 1
    const rho = (errors[T]! / errors[0]!) ** (1 / T)
    let C = 0
    for (let t = 0; t <= T; t++) C = Math.max(C, errors[t]! / rho ** t)
    return { rho, transient: C / errors[0]! }
  }

  it('svrg and saga reach w(λ) to 1e-10 along error ≤ C·ρᵗ, ρ < 1, C within 100× the start', () => {
    fc.assert(
      fc.property(instance, fc.integer({ min: 0, max: 1000 }), (i, s) => {
        const { p, lambda } = build(i)
        const ws = p.solution(lambda)
        const n = p.nSamples
        const w0 = new Float64Array(p.dim)
        for (const m of [svrg({ batchSize: 1 }), saga({ batchSize: 1 })] as ReadonlyArray<LowerSolver<any>>) {
          const T = 120 * n
          const e = toArray(take(T + 1)(iter(m, p, lambda, w0, seed(s)))).map((x) => distance(x.w, ws))
          expect(e[T]!).toBeLessThan(1e-10 * Math.max(1, norm(ws)))
          const { rho, transient } = geometricFit(e, 1e-11 * Math.max(1, norm(ws)))
          expect(rho).toBeLessThan(1)
          expect(transient).toBeLessThan(100)
        }
      }),
      { numRuns: 6 },
    )
  })

  it('svrgLinear reaches the dense solution of (I − ∂₁Φᵀ)v = ∇₁E to 1e-10 along error ≤ C·ρᵗ', () => {
    fc.assert(
      fc.property(instance, fc.integer({ min: 0, max: 1000 }), (i, s) => {
        const { p, lambda } = build(i)
        const system = linearSystemAt(p, lambda, new Float64Array(p.dim).fill(0.3))
        const vs = solveDense(system)
        const T = 80 * p.nSamples
        const e = toArray(take(T + 1)(iter(svrgLinear({ batchSize: 1 }), system, new Float64Array(p.dim), seed(s)))).map((x) => distance(x.v, vs))
        expect(e[T]!).toBeLessThan(1e-10 * Math.max(1, norm(vs)))
        const { rho, transient } = geometricFit(e, 1e-11 * Math.max(1, norm(vs)))
        expect(rho).toBeLessThan(1)
        expect(transient).toBeLessThan(100)
      }),
      { numRuns: 6 },
    )
  })
})

describe('stochastic Neumann estimator (random instances)', () => {
  it('its exact expectation (enumerated over K and the batches) is the truncated series; its averages replay', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.double({ min: 0.2, max: 1, noNaN: true }),
        (s, N, eta) => {
          const p = orThrow(quadraticProblem({ dim: 3, hyperDim: 1, nSamples: 2, seed: s }))
          const system = linearSystemAt(p, Float64Array.of(0.5), Float64Array.of(1, 0, -1))
          const mean = new Float64Array(3)
          for (let K = 0; K < N; K++)
            for (let code = 0; code < 2 ** K; code++) {
              const est = orThrow(neumannProduct(system, Array.from({ length: K }, (_, b) => Int32Array.of((code >> b) & 1)), eta, N))
              for (let j = 0; j < 3; j++) mean[j] = mean[j]! + est[j]! / N / 2 ** K
            }
          const want = new Float64Array(3)
          let u = Float64Array.from(system.rhs)
          for (let i = 0; i < N; i++) {
            for (let j = 0; j < 3; j++) want[j] = want[j]! + eta * u[j]!
            const ju = system.complement!(u)
            u = u.map((x, j) => x - eta * (x - ju[j]!))
          }
          expect(distance(mean, want)).toBeLessThan(1e-11 * (1 + norm(want)))
          const m = stochasticNeumann({ maxTerms: N, eta, batchSize: 1 })
          const a = toArray(take(6)(iter(m, system, new Float64Array(3), seed(s))))
          const b = toArray(take(6)(iter(m, system, new Float64Array(3), seed(s))))
          a.forEach((x, k) => expect(Array.from(x.v)).toEqual(Array.from(b[k]!.v)))
        },
      ),
      { numRuns: 10 },
    )
  })
})
