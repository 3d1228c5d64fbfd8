/**
 * Properties of the deterministic solvers and hypergradient methods (AID, ITD, exact): what
 * Grazzi et al. 2020 and Ehrhardt & Roberts prove, checked against closed forms, dense direct
 * solves and explicit inequalities with every constant computed here from dense matrices.
 *
 * Notation: w* = w(λ), A = I − ∂₁Φᵀ (the AID system matrix), v* = A⁻¹∇₁E(w*), L_Φ = ‖∂₂Φ‖,
 * μ₁ = ‖∇²_{ww}E‖ (the Lipschitz constant of ∇₁E), D = ‖w₀ − w*‖.
 *
 * Condition number for conjugate gradient: for Φ = w − α∇ℓ, A = α∇²ℓ, whose condition number
 * is κ = L/τ (the extreme curvatures of ℓ) whatever α; it equals (1 + q)/(1 − q) only at
 * α = 2/(L + τ). CG is invariant to the scale α, so the right κ is L/τ; the last property
 * checks that invariance directly.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aid } from '../src/hypergrad/aid.js'
import { exact } from '../src/hypergrad/exact.js'
import {
  aNorm,
  denseAt,
  diff,
  gaussianVec,
  linearFP,
  logistic,
  norm,
  quadratic,
  relErr,
  ridge,
  right,
  snapshot,
} from '../src/hypergrad/fixtures.test-util.js'
import { itd } from '../src/hypergrad/itd.js'
import { denseOf, spectralNorm } from '../src/linalg/matrix.js'
import type { RVec } from '../src/linalg/types.js'
import type { BilevelProblem } from '../src/problem/bilevel.js'
import { quadraticProblem } from '../src/problems/quadratic.js'
import { seed as rngSeed } from '../src/random/rng.js'
import { conjugateGradient } from '../src/solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../src/solvers/linear/fixedPoint.js'
import { neumann } from '../src/solvers/linear/neumann.js'
import { linearSystemAt } from '../src/solvers/linearSystem.js'
import { fixedPointIteration } from '../src/solvers/lower/fixedPoint.js'
import { take, toArray } from '../src/stream/stream.js'
import { iter } from '../src/solvers/testing.test-util.js'
import { estimateOf } from '../src/hypergrad/fixtures.test-util.js'

const fp = fixedPointIteration()
const fpl = fixedPointLinear()
const cg = conjugateGradient()
const rng = rngSeed(0)

/** μ₁ = ‖∇²_{ww}E‖ for an upper objective quadratic in w (dense, by differences of ∇₁E). */
const upperCurvature = (p: BilevelProblem, lam: RVec): number => {
  const g0 = p.gradUpperW(new Float64Array(p.dim), lam)
  return spectralNorm(denseOf(p.dim, (u) => Float64Array.from(p.gradUpperW(u, lam), (x, i) => x - g0[i]!)))
}

const seedArb = fc.integer({ min: 1, max: 100_000 })

describe('solvers: contraction and rate inequalities on random problems', () => {
  it('fixed point (lower and linear) contracts at q; Neumann with K terms = fixed point with K steps from v₀ = 0', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 8 }), fc.double({ min: 0.1, max: 0.95, noNaN: true }), fc.integer({ min: 1, max: 30 }), (s, d, q, K) => {
        const p = linearFP(s, q, d, 2)
        const lam = gaussianVec(s + 1, 2)
        const ws = p.solution(lam)
        const w0 = gaussianVec(s + 2, d)
        const lower = toArray(take(K + 1)(iter(fp, p, lam, w0, rng)))
        lower.forEach((st, t) => expect(diff(st.w, ws)).toBeLessThanOrEqual(q ** t * diff(w0, ws) * (1 + 1e-9) + 1e-12))
        const system = linearSystemAt(p, lam, w0)
        const vs = denseAt(p, w0, lam).v
        const lin = toArray(take(K + 1)(iter(fpl, system, new Float64Array(d), rng)))
        lin.forEach((st, k) => expect(diff(st.v, vs)).toBeLessThanOrEqual(q ** k * norm(vs) * (1 + 1e-9) + 1e-12))
        // The identity, exactly as stated in neumann.ts: state K (K terms) = fixed-point state K.
        const nm = toArray(take(K + 1)(iter(neumann(), system, new Float64Array(d), rng)))
        expect(diff(nm[K]!.v, lin[K]!.v)).toBeLessThanOrEqual(1e-12 * norm(lin[K]!.v))
      }),
      { numRuns: 20 },
    )
  })
  it('conjugate gradient: ‖vₖ − v*‖_A ≤ 2((√κ−1)/(√κ+1))ᵏ‖v*‖_A from v₀ = 0, κ = L/τ', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 10 }), fc.double({ min: 2, max: 500, noNaN: true }), (s, d, kappa) => {
        const p = quadratic(s, d, 2, 1, kappa)
        const lam = gaussianVec(s + 1, 2)
        const w = gaussianVec(s + 2, d)
        const dn = denseAt(p, w, lam)
        const ev = dn.eig
        expect(ev[ev.length - 1]! / ev[0]!).toBeCloseTo(kappa, 6)
        const rho = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1)
        const e0 = aNorm(dn.A, dn.v)
        const states = toArray(iter(conjugateGradient({ tol: 1e-13 }), linearSystemAt(p, lam, w), new Float64Array(d), rng))
        states.forEach((st, k) =>
          expect(aNorm(dn.A, Float64Array.from(st.v, (x, i) => x - dn.v[i]!))).toBeLessThanOrEqual(2 * rho ** k * e0 * (1 + 1e-8) + 1e-10 * e0),
        )
      }),
      { numRuns: 20 },
    )
  })
})

describe('hypergradients: convergence at the predicted rates', () => {
  it('quadratic (affine Φ, ∂₂Φ constant): AID-FP, AID-CG and ITD obey the a priori bounds with t = k', () => {
    // ∇̂f − ∇f = ∂₂Φᵀ(vₖ − v*), vₖ from the system at wₜ, v(w) = A⁻¹∇₁E(w):
    //   ‖v(wₜ) − v*‖ ≤ μ₁‖wₜ − w*‖/(1 − q) ≤ μ₁qᵗD/(1 − q) =: δₜ,
    //   AID-FP: ‖vₖ − v(wₜ)‖ ≤ qᵏ‖v(wₜ)‖ ≤ qᵏ(‖v*‖ + δₜ),
    //   AID-CG: ‖vₖ − v(wₜ)‖ ≤ 2√κ ρᵏ(‖v*‖ + δₜ),   ρ = (√κ−1)/(√κ+1),
    // so ‖∇̂f − ∇f‖ ≤ L_Φ(δₜ + ·). ITD on an affine Φ equals AID-FP with k = t (identity below).
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 8 }), fc.double({ min: 3, max: 60, noNaN: true }), (s, d, kappa) => {
        const p = quadratic(s, d, 2, 1, kappa)
        const lam = gaussianVec(s + 1, 2)
        const truth = p.hypergradient(lam)
        const ws = p.solution(lam)
        const q = p.contraction(lam)
        const dn = denseAt(p, ws, lam)
        const mu1 = upperCurvature(p, lam)
        const D = norm(ws)
        const vs = norm(dn.v)
        const rho = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1)
        for (const t of [0, 1, 2, 5, 10, 20, 40, 80]) {
          const delta = (mu1 * q ** t * D) / (1 - q)
          const boundFP = dn.normD2 * (delta + q ** t * (vs + delta))
          const boundCG = dn.normD2 * (delta + 2 * Math.sqrt(kappa) * rho ** t * (vs + delta))
          const slack = (x: number) => x * (1 + 1e-8) + 1e-12 * norm(truth)
          expect(diff(estimateOf(aid(p, lam, { lower: fp, linear: fpl, t, k: t })).gradient, truth)).toBeLessThanOrEqual(slack(boundFP))
          expect(diff(estimateOf(aid(p, lam, { lower: fp, linear: cg, t, k: t })).gradient, truth)).toBeLessThanOrEqual(slack(boundCG))
          expect(diff(estimateOf(itd(p, lam, { t, mode: 'reverse' })).gradient, truth)).toBeLessThanOrEqual(slack(boundFP))
        }
      }),
      { numRuns: 12 },
    )
  })
  it('linear fixed point (non-symmetric, ∂₁Φ = M, ∂₂Φ = N constant): AID-FP and ITD obey the same a priori bound', () => {
    // As for the quadratic, with ‖(I − Mᵀ)⁻¹‖ ≤ 1/(1 − q) since ‖M‖ = q.
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 2, max: 8 }), fc.double({ min: 0.3, max: 0.95, noNaN: true }), (s, d, q) => {
        const p = linearFP(s, q, d, 2)
        const lam = gaussianVec(s + 1, 2)
        const truth = p.hypergradient(lam)
        const ws = p.solution(lam)
        const dn = denseAt(p, ws, lam)
        const mu1 = upperCurvature(p, lam)
        const D = norm(ws)
        for (const t of [0, 1, 3, 10, 30, 60, 120]) {
          const delta = (mu1 * q ** t * D) / (1 - q)
          const bound = dn.normD2 * (delta + q ** t * (norm(dn.v) + delta)) * (1 + 1e-8) + 1e-12 * norm(truth)
          expect(diff(estimateOf(aid(p, lam, { lower: fp, linear: fpl, t, k: t })).gradient, truth)).toBeLessThanOrEqual(bound)
          expect(diff(estimateOf(itd(p, lam, { t, mode: 'forward' })).gradient, truth)).toBeLessThanOrEqual(bound)
        }
      }),
      { numRuns: 12 },
    )
  })
  it('ridge (∂₂Φ = −α diag(w) depends on w): AID-FP, AID-CG ≤ Cqᵗ and ITD ≤ C(t+1)qᵗ, C calibrated on t ≤ 10', () => {
    // AID-CG's linear error (ρᵏ, ρ < q) is dominated by the lower level's qᵗ when k = t.
    fc.assert(
      fc.property(seedArb, (s) => {
        const { problem, lambda } = ridge(s)
        const q = problem.contraction(lambda)
        const truth = problem.hypergradient(lambda)
        const ts = [0, 2, 5, 10, 20, 40, 60, 80]
        const floor = 1e-12 * norm(truth)
        const calibrated = (errs: number[], env: (t: number) => number): void => {
          const C = Math.max(...ts.map((t, i) => (t <= 10 ? errs[i]! / env(t) : 0)))
          ts.forEach((t, i) => {
            if (t > 10) expect(errs[i]!).toBeLessThanOrEqual(2 * C * env(t) + floor)
          })
        }
        calibrated(ts.map((t) => diff(estimateOf(aid(problem, lambda, { lower: fp, linear: fpl, t, k: t })).gradient, truth)), (t) => q ** t)
        calibrated(ts.map((t) => diff(estimateOf(aid(problem, lambda, { lower: fp, linear: cg, t, k: t })).gradient, truth)), (t) => q ** t)
        calibrated(ts.map((t) => diff(estimateOf(itd(problem, lambda, { t, mode: 'reverse' })).gradient, truth)), (t) => (t + 1) * q ** t)
      }),
      { numRuns: 8 },
    )
  })
  it('logistic (nonlinear Φ): ITD error ≤ C(t+1)qᵗ and AID-FP error ≤ Cqᵗ, with C calibrated on t ≤ 30', () => {
    // The theory gives O(t qᵗ) for ITD and O(qᵗ) for AID-FP with k = t (Grazzi et al. 2020);
    // C is the largest ratio observed on the first steps, and the later errors must stay under
    // 2C times the predicted envelope: a slower decay than the theory's would break this.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (s) => {
        const { problem, lambda } = logistic(s, 40, 5, 1)
        const q = problem.contraction(lambda)
        const truth = estimateOf(exact(problem, lambda)).gradient
        const ts = [0, 5, 10, 20, 30, 60, 90, 120, 160]
        const eItd = ts.map((t) => diff(estimateOf(itd(problem, lambda, { t, mode: 'reverse' })).gradient, truth))
        const eAid = ts.map((t) => diff(estimateOf(aid(problem, lambda, { lower: fp, linear: fpl, t, k: t })).gradient, truth))
        const floor = 1e-12 * norm(truth)
        const check = (errs: number[], env: (t: number) => number): void => {
          const early = ts.map((t, i) => (t <= 30 ? errs[i]! / env(t) : 0))
          const C = Math.max(...early)
          ts.forEach((t, i) => {
            if (t > 30) expect(errs[i]!).toBeLessThanOrEqual(2 * C * env(t) + floor)
          })
        }
        check(eItd, (t) => (t + 1) * q ** t)
        check(eAid, (t) => q ** t)
        expect(eItd[eItd.length - 1]!).toBeLessThan(1e-3 * eItd[0]!)
      }),
      { numRuns: 5 },
    )
  })
  it('logistic: with the exact lower level, AID-CG error ≤ L_Φ·2√κ ρᵏ‖v*‖ with the local κ = cond(I − ∂₁Φ(w*)ᵀ)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (s) => {
        const { problem, lambda } = logistic(s, 40, 5, 0.3)
        const ex = estimateOf(exact(problem, lambda))
        const dn = denseAt(problem, ex.w, lambda)
        const kappa = dn.eig[dn.eig.length - 1]! / dn.eig[0]!
        const { tau, L } = problem.lower.curvature(lambda)
        expect(kappa).toBeLessThanOrEqual((L / tau) * (1 + 1e-9)) // the local κ never exceeds the global L/τ
        const rho = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1)
        for (let k = 0; k <= problem.dim + 2; k++) {
          const r = estimateOf(aid(problem, lambda, { lower: fp, linear: cg, t: 0, k, w0: ex.w }))
          expect(diff(r.gradient, ex.gradient)).toBeLessThanOrEqual(dn.normD2 * 2 * Math.sqrt(kappa) * rho ** k * norm(dn.v) * (1 + 1e-8) + 1e-11 * norm(ex.gradient))
        }
      }),
      { numRuns: 5 },
    )
  })
})

describe('identities (to ~1e-12 relative)', () => {
  const problems = (s: number): ReadonlyArray<{ p: BilevelProblem; lam: Float64Array; affineJac: boolean }> => {
    const r = ridge(s)
    const l = logistic(s, 30, 4, 1)
    return [
      { p: quadratic(s, 5, 2), lam: gaussianVec(s, 2), affineJac: true },
      { p: linearFP(s, 0.8, 5, 2), lam: gaussianVec(s, 2), affineJac: true },
      { p: r.problem, lam: r.lambda, affineJac: false },
      { p: l.problem, lam: l.lambda, affineJac: false },
    ]
  }
  it('ITD reverse equals ITD forward (any t, truncation, relaxation)', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 25 }), fc.constantFrom(1, 0.5, 0.8), (s, t, truncate, eta) => {
        for (const { p, lam } of problems(s)) {
          const w0 = gaussianVec(s + 7, p.dim)
          const r = estimateOf(itd(p, lam, { t, mode: 'reverse', truncate, eta, w0 }))
          const f = estimateOf(itd(p, lam, { t, mode: 'forward', truncate, eta, w0 }))
          expect(diff(f.gradient, r.gradient)).toBeLessThanOrEqual(1e-12 * Math.max(norm(r.gradient), 1e-300))
        }
      }),
      { numRuns: 15 },
    )
  })
  it('ITD with t steps = AID-FP with k = t from v₀ = 0: from any w₀ when ∂₁Φ, ∂₂Φ are constant, and from w₀ = w(λ) in general', () => {
    // Reverse ITD accumulates Σᵢ ∂₂Φ(wᵢ₋₁)ᵀ(∂₁Φᵀ)^{t−i}∇₁E(wₜ) (products at the visited
    // iterates); AID-FP gives ∂₂Φ(wₜ)ᵀ Σ_{j<t}(∂₁Φ(wₜ)ᵀ)ʲ∇₁E(wₜ). They coincide when all the
    // Jacobians are evaluated at one point: constant Jacobians (quadratic, linear fixed point),
    // or every iterate equal to w(λ).
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 0, max: 25 }), (s, t) => {
        for (const { p, lam, affineJac } of problems(s)) {
          const w0 = affineJac ? gaussianVec(s + 3, p.dim) : estimateOf(exact(p, lam)).w
          const i = estimateOf(itd(p, lam, { t, mode: 'reverse', w0 }))
          const a = estimateOf(aid(p, lam, { lower: fp, linear: fpl, t, k: t, w0 }))
          // Equal in exact arithmetic; the two sum the same terms in different orders.
          expect(diff(i.gradient, a.gradient)).toBeLessThanOrEqual(1e-11 * norm(a.gradient) + 1e-15)
          expect(i.t).toBe(t)
        }
        // And on ridge (∂₂Φ = −α diag(w) varies) from a generic w₀ the identity fails: the
        // hypothesis matters.
        const r = ridge(s)
        const w0 = gaussianVec(s + 3, r.problem.dim)
        if (t >= 2) {
          const i = estimateOf(itd(r.problem, r.lambda, { t, mode: 'reverse', w0 }))
          const a = estimateOf(aid(r.problem, r.lambda, { lower: fp, linear: fpl, t, k: t, w0 }))
          expect(diff(i.gradient, a.gradient)).toBeGreaterThan(1e-8 * norm(a.gradient))
        }
      }),
      { numRuns: 15 },
    )
  })
  it('exact equals the closed forms (quadratic, linear fixed point, ridge)', () => {
    fc.assert(
      fc.property(seedArb, (s) => {
        for (const { p, lam } of problems(s).slice(0, 3)) {
          const closed = p as unknown as { hypergradient(l: RVec): Float64Array }
          expect(relErr(estimateOf(exact(p, lam)).gradient, closed.hypergradient(lam))).toBeLessThan(1e-10)
        }
      }),
      { numRuns: 15 },
    )
  })
  it('AID-CG does not depend on the step α of Φ = w − α∇ℓ (CG sees κ = L/τ), unlike (1+q)/(1−q)', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 3, max: 8 }), (s, d) => {
        const tau = 1
        const L = 30
        const a = right(quadraticProblem({ dim: d, hyperDim: 2, nSamples: 3, seed: s, tau, L }))
        const b = right(quadraticProblem({ dim: d, hyperDim: 2, nSamples: 3, seed: s, tau, L, alpha: 1 / L }))
        const lam = gaussianVec(s, 2)
        const qa = a.contraction(lam)
        const qb = b.contraction(lam)
        expect((1 + qb) / (1 - qb)).toBeGreaterThan(1.5 * ((1 + qa) / (1 - qa)))
        const ws = a.solution(lam)
        for (let k = 0; k <= d; k++) {
          const ga = estimateOf(aid(a, lam, { lower: fp, linear: cg, t: 0, k, w0: ws })).gradient
          const gb = estimateOf(aid(b, lam, { lower: fp, linear: cg, t: 0, k, w0: ws })).gradient
          expect(relErr(gb, ga)).toBeLessThan(1e-9)
        }
      }),
      { numRuns: 10 },
    )
  })
})

describe('bad input and purity', () => {
  const badCount = fc.oneof(fc.integer({ min: -1000, max: -1 }), fc.double({ min: 0.01, max: 100, noNaN: true }).filter((x) => !Number.isInteger(x)), fc.constantFrom(NaN, Infinity, -Infinity))
  it('non-integer or negative t, k and NaN in λ give typed errors, never a throw or a NaN', () => {
    const p = quadratic(5)
    const lam = Float64Array.of(1, 2, 3)
    fc.assert(
      fc.property(badCount, fc.integer({ min: 0, max: 2 }), (x, j) => {
        const results = [
          aid(p, lam, { lower: fp, linear: fpl, t: x, k: 3 }),
          aid(p, lam, { lower: fp, linear: cg, t: 3, k: x }),
          itd(p, lam, { t: x, mode: 'reverse' }),
          itd(p, lam, { t: 3, mode: 'forward', truncate: x }),
          exact(p, lam, { maxNewton: x }),
        ]
        for (const r of results) expect(E.isLeft(r) && r.left.kind).toBe('domain')
        const nanLam = Float64Array.from(lam)
        nanLam[j] = NaN
        for (const r of [aid(p, nanLam, { lower: fp, linear: fpl, t: 1, k: 1 }), itd(p, nanLam, { t: 1, mode: 'reverse' }), exact(p, nanLam)])
          expect(E.isLeft(r) && r.left.kind).toBe('domain')
      }),
      { numRuns: 25 },
    )
  })
  it('aid, itd and exact never modify λ, w₀ or v₀', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 0, max: 10 }), (s, t) => {
        const { problem, lambda } = ridge(s)
        const w0 = gaussianVec(s + 1, problem.dim)
        const v0 = gaussianVec(s + 2, problem.dim)
        const snap = snapshot(lambda, w0, v0)
        estimateOf(aid(problem, lambda, { lower: fp, linear: cg, t, k: t, w0, v0 }))
        estimateOf(itd(problem, lambda, { t, mode: 'reverse', w0 }))
        estimateOf(itd(problem, lambda, { t, mode: 'forward', w0 }))
        estimateOf(exact(problem, lambda, { w: w0 }))
        ;[lambda, w0, v0].forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(snap[i]!)))
      }),
      { numRuns: 10 },
    )
  })
})
