// Properties of the outer optimizers (src/outer/optimizers) run by `tune` on functions whose
// minimizers are known independently: quadratics built with their minimizer, a logistic loss
// minimized here by Newton's method, box-constrained quadratics checked by the projection
// characterization of their minimizer, and one-dimensional functions with a closed-form minimizer.
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { distance, norm } from '../src/linalg/vector.js'
import type { RVec } from '../src/linalg/types.js'
import { logisticFg, quadraticFg, recordingOracle, spdMatrix, type Fg } from '../src/outer/optimizers/fixtures.test-util.js'
import { adam, box, chain, gd, hoag, lbfgs, logScale, secant, type OuterOptimizer } from '../src/outer/optimizers/index.js'
import { tune, type TuneResult } from '../src/outer/tune.js'
import * as R from '../src/random/rng.js'

const right = <A>(e: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message)
  return e.right
}

const run = (x0: RVec, fg: (x: RVec) => Fg, optimizer: OuterOptimizer, steps: number, gradTol?: number) => {
  const { oracle, calls } = recordingOracle(fg)
  const result: TuneResult = right(tune(x0, oracle, { optimizer, steps, ...(gradTol !== undefined ? { gradTol } : {}) }))
  return { result, calls }
}

describe('L-BFGS', () => {
  it('reaches the minimizer of a convex quadratic (n ≤ 8, condition ≤ 100) in at most 4n + 12 evaluations', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 8 }), fc.constantFrom(1, 10, 100), (seed, n, cond) => {
        const A = spdMatrix(seed, n, cond)
        const [xs] = R.normals(R.seed(seed + 1), n)
        const { result } = run(new Float64Array(n).fill(3), quadraticFg(A, xs), right(lbfgs()), 200, 1e-10)
        expect(result.status).toBe('converged')
        expect(distance(result.lambda, xs)).toBeLessThanOrEqual(1e-8 * (1 + norm(xs)))
        expect(result.evaluations).toBeLessThanOrEqual(4 * n + 12)
      }),
      { numRuns: 30 },
    )
  })

  it('reaches the Newton minimizer of an L2-regularized logistic loss (n = 10) in at most 40 evaluations', () => {
    for (const seed of [1, 2, 3]) {
      const { fg, xStar } = logisticFg(seed, 80, 10, 0.5)
      const { result } = run(new Float64Array(10), fg, right(lbfgs()), 100, 1e-9)
      expect(result.status).toBe('converged')
      expect(distance(result.lambda, xStar)).toBeLessThanOrEqual(1e-8 * (1 + norm(xStar)))
      expect(result.evaluations).toBeLessThanOrEqual(40)
    }
  })

  it('every trial is warm-started from the last accepted point, never from a rejected trial', () => {
    const { fg } = logisticFg(4, 60, 6, 0.1)
    const { result, calls } = run(Float64Array.of(5, -5, 5, -5, 5, -5), fg, right(lbfgs({ stepSize: 50 })), 60, 1e-9)
    const acceptedAt = new Set(result.trajectory.map((s) => s.evaluations - 1))
    expect(calls.length).toBeGreaterThan(result.trajectory.length) // some trials were rejected
    let lastAccepted: number | undefined
    calls.forEach((c, i) => {
      expect(c.request.warm.w?.[0]).toBe(lastAccepted)
      if (acceptedAt.has(i)) lastAccepted = i
    })
  })
})

describe('box', () => {
  // The minimizer of a convex f over a box is the x with x = P(x − ∇f(x)) (projection theorem).
  const kkt = (x: RVec, g: RVec, lo: number, hi: number): number => Math.hypot(...x.map((v, i) => Math.min(hi, Math.max(lo, v - g[i]!)) - v))

  it('keeps every evaluated point in the box, for every optimizer, on λ and on log λ', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 5 }), fc.double({ min: 0.05, max: 2, noNaN: true }), (seed, n, width) => {
        const lo = 1
        const hi = 1 + width
        const A = spdMatrix(seed, n, 10)
        const [z] = R.normals(R.seed(seed + 7), n)
        const xs = z.map((v) => 1 + width / 2 + 2 * v)
        const fg = quadraticFg(A, xs)
        const optimizers = [gd({ stepSize: 0.3 }), adam({ stepSize: 0.3 }), lbfgs(), hoag(), ...(n === 1 ? [secant()] : [])]
        for (const o of optimizers) {
          for (const log of [false, true]) {
            const opt = right(chain(o, ...(log ? [logScale()] : []), box(lo, hi)))
            const { result, calls } = run(new Float64Array(n).fill(lo + width / 3), fg, opt, 40)
            for (const c of calls) for (const v of c.request.lambda) expect(v >= lo && v <= hi, `${opt.name}: λ = ${v}`).toBe(true)
            for (const s of result.trajectory) for (const v of s.lambda) expect(v >= lo && v <= hi).toBe(true)
          }
        }
      }),
      { numRuns: 15 },
    )
  })

  it('L-BFGS in a box reaches the constrained minimizer (x = P(x − ∇f(x)) to 1e-9)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 8 }), (seed, n) => {
        const A = spdMatrix(seed, n, 30)
        const [z] = R.normals(R.seed(seed + 3), n)
        const xs = z.map((v) => 3 * v)
        const fg = quadraticFg(A, xs)
        const { result } = run(new Float64Array(n), fg, right(chain(lbfgs(), box(-1, 1))), 300, 1e-11)
        expect(result.status).toBe('converged')
        expect(kkt(result.lambda, fg(result.lambda).gradient, -1, 1)).toBeLessThanOrEqual(1e-9)
        expect(result.evaluations).toBeLessThanOrEqual(6 * n + 20)
      }),
      { numRuns: 25 },
    )
  })

  it('a separable quadratic in a box: L-BFGS finds the clipped minimizer, on λ and on log λ', () => {
    // f = Σ cᵢ(xᵢ − x*ᵢ)²/2 on [lo, hi]ⁿ has the minimizer clip(x*, lo, hi).
    fc.assert(
      fc.property(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 1, maxLength: 6 }), (logs) => {
        const n = logs.length
        const xs = Float64Array.from(logs, (l) => Math.exp(l))
        const c = Float64Array.from({ length: n }, (_, i) => 1 + i)
        const fg = (x: RVec): Fg => ({ value: x.reduce((s, v, i) => s + (c[i]! * (v - xs[i]!) ** 2) / 2, 0), gradient: x.map((v, i) => c[i]! * (v - xs[i]!)) })
        const [lo, hi] = [0.2, 5]
        for (const log of [false, true]) {
          const { result } = run(new Float64Array(n).fill(1), fg, right(chain(lbfgs(), ...(log ? [logScale()] : []), box(lo, hi))), 200, 1e-12)
          result.lambda.forEach((v, i) => expect(Math.abs(v - Math.min(hi, Math.max(lo, xs[i]!)))).toBeLessThanOrEqual(1e-9))
        }
      }),
      { numRuns: 25 },
    )
  })
})

describe('secant (one hyperparameter)', () => {
  // f(x) = s·(e^u − u) + (a/2)u², u = x − c: f′ = s(e^u − 1) + a·u vanishes only at x = c, f″ > 0,
  // and f‴(c) = s ≠ 0 (no symmetry that would help the secant).
  const fOf = (c: number, s: number, a: number) => (x: RVec): Fg => {
    const u = x[0]! - c
    return { value: s * (Math.exp(u) - u) + (a / 2) * u * u, gradient: Float64Array.of(s * Math.expm1(u) + a * u) }
  }

  it('converges superlinearly: below 1e-3 every error is at most the previous one to the power 1.3, and 1e-10 is reached in ≤ 14 evaluations', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.double({ min: 0.01, max: 4, noNaN: true }),
        fc.boolean(),
        (c, s, a, distance0, below) => {
          const start = below ? -distance0 : distance0
          const f = fOf(c, s, a)
          const { result, calls } = run(Float64Array.of(c + start), f, right(secant()), 60)
          expect(result.status).toBe('converged')
          const errors = calls.map((k) => Math.abs(k.request.lambda[0]! - c))
          const hit = errors.findIndex((e) => e <= 1e-10 * (1 + Math.abs(c)))
          expect(hit).toBeGreaterThanOrEqual(0)
          expect(hit + 1).toBeLessThanOrEqual(14)
          let checked = 0
          for (let k = 1; k < errors.length; k++) {
            const [e0, e1] = [errors[k - 1]!, errors[k]!]
            if (e0 < 1e-3 && e0 > 1e-9) {
              expect(e1, `step ${k}: ${e0} → ${e1}`).toBeLessThanOrEqual(e0 ** 1.3)
              checked++
            }
          }
          expect(checked).toBeGreaterThanOrEqual(1)
        },
      ),
      { numRuns: 40 },
    )
  })

  it('refuses more than one hyperparameter', () => {
    const r = tune(Float64Array.of(1, 2), recordingOracle(() => ({ value: 0, gradient: Float64Array.of(0, 0) })).oracle, { optimizer: 'secant', steps: 5 })
    expect(E.isLeft(r) && r.left.message).toMatch(/secant: one hyperparameter/)
  })
})

describe('HOAG', () => {
  // An inexact oracle: the exact f, and ∇f plus an error of norm ≤ the requested tolerance (its
  // certified bound), in a random direction.
  const inexact = (fg: (x: RVec) => Fg, seed: number) => {
    let rng = R.seed(seed)
    return (x: RVec, req: { readonly tolerance?: number }): Fg & { bound: number } => {
      const exact = fg(x)
      const eps = req.tolerance ?? 0
      const [e, next] = R.normals(rng, x.length)
      rng = next
      const ne = norm(e)
      const [u] = R.uniforms(next, 1)
      const scale = ne > 0 ? (eps * u[0]!) / ne : 0
      return { value: exact.value, gradient: exact.gradient.map((g, i) => g + scale * e[i]!), bound: eps }
    }
  }

  it('asks for tolerances that never increase and shrink geometrically, and its accepted steps decrease the true f wherever ‖ĝ‖ > 2ε certifies it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 6 }), (seed, n) => {
        const { fg, xStar } = logisticFg(seed, 40, n, 1)
        const eps0 = 0.5
        const { oracle, calls } = recordingOracle(inexact(fg, seed + 9))
        // f is exact here: the decrease test without slack (valueSlack = fNoise = 0) is the descent lemma.
        const result = right(tune(new Float64Array(n).fill(2), oracle, { optimizer: right(hoag({ initialTolerance: eps0, tolDecrease: 0.5, valueSlack: 0, fNoise: 0 })), steps: 60 }))
        const tols = calls.map((c) => c.request.tolerance!)
        for (let k = 1; k < tols.length; k++) expect(tols[k]!).toBeLessThanOrEqual(tols[k - 1]!)
        // ε_k ≤ ε₀ρᵏ over the accepted steps k (down to minTolerance = 1e-10): a summable sequence (Pedregosa 2016, Thm. 2).
        result.trajectory.forEach((s, k) => expect(s.tolerance!).toBeLessThanOrEqual(Math.max(1e-10, eps0 * 0.5 ** k * (1 + 1e-12))))
        // For an unprojected step Δ = −ηĝ the test certifies f(x₊) ≤ f(x) − ‖Δ‖(‖ĝ‖/2 − ε): a
        // decrease wherever that amount exceeds the rounding of f.
        let checked = 0
        for (let k = 1; k < result.trajectory.length; k++) {
          const prev = result.trajectory[k - 1]!
          const ghat = calls[prev.evaluations - 1]!.gradient
          const x0 = Float64Array.from(prev.lambda)
          const x1 = Float64Array.from(result.trajectory[k]!.lambda)
          const f0 = fg(x0).value
          if (distance(x1, x0) * (norm(ghat) / 2 - prev.tolerance!) > 8 * Number.EPSILON * Math.abs(f0)) {
            expect(fg(x1).value).toBeLessThan(f0)
            checked++
          }
        }
        expect(checked).toBeGreaterThan(0)
        expect(fg(result.lambda).value).toBeLessThan(fg(new Float64Array(n).fill(2)).value)
        expect(distance(result.lambda, xStar)).toBeLessThanOrEqual(1e-3 * (1 + norm(xStar)))
        // With the default slacks for inexact values, the same end.
        const loose = right(tune(new Float64Array(n).fill(2), recordingOracle(inexact(fg, seed + 9)).oracle, { optimizer: right(hoag({ initialTolerance: eps0 })), steps: 60 }))
        expect(distance(loose.lambda, xStar)).toBeLessThanOrEqual(1e-3 * (1 + norm(xStar)))
      }),
      { numRuns: 20 },
    )
  })
})
