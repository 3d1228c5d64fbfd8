import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { orThrow } from '../../errors.js'
import { aNorm, denseAt, denseSystem, diff, gaussianVec, linearFP, norm, quadratic } from '../../hypergrad/fixtures.test-util.js'
import { matrix } from '../../linalg/types.js'
import { seed } from '../../random/rng.js'
import { take, toArray } from '../../stream/stream.js'
import { linearSystemAt } from '../linearSystem.js'
import { runLinear } from '../run.js'
import { conjugateGradient } from './conjugateGradient.js'
import { iter, refusal } from '../testing.test-util.js'
import { unfold } from '../solver.js'

const rng = seed(0)
const p = quadratic(31, 8, 2, 1, 100)
const lambda = Float64Array.of(0.4, -0.4)
const w = gaussianVec(6, p.dim)
const system = linearSystemAt(p, lambda, w)
const dense = denseAt(p, w, lambda)

describe('conjugateGradient', () => {
  it('meets ‖vₖ − v*‖_A ≤ 2((√κ−1)/(√κ+1))ᵏ‖v₀ − v*‖_A with κ = cond(I − ∂₁Φᵀ) = L/τ', () => {
    // I − ∂₁Φᵀ = α∇²ℓ: its condition number is L/τ whatever α (here α = 2/(L+τ), where it
    // also equals (1+q)/(1−q)).
    const kappa = dense.eig[dense.eig.length - 1]! / dense.eig[0]!
    expect(kappa).toBeCloseTo(100, 8)
    const q = p.contraction(lambda)
    expect(kappa).toBeCloseTo((1 + q) / (1 - q), 8)
    const rho = (Math.sqrt(kappa) - 1) / (Math.sqrt(kappa) + 1)
    const v0 = gaussianVec(7, p.dim)
    const e0 = aNorm(dense.A, Float64Array.from(v0, (x, i) => x - dense.v[i]!))
    const states = toArray(iter(conjugateGradient({ tol: 1e-13 }), system, v0, rng))
    states.forEach((s, k) => {
      const ek = aNorm(dense.A, Float64Array.from(s.v, (x, i) => x - dense.v[i]!))
      expect(ek).toBeLessThanOrEqual(2 * rho ** k * e0 * (1 + 1e-8) + 1e-11 * e0)
    })
  })
  it('terminates (to rounding) within d steps plus a few, at the dense solution', () => {
    const states = toArray(iter(conjugateGradient({ tol: 1e-12 }), system, new Float64Array(p.dim), rng))
    const last = states[states.length - 1]!
    expect(last.stop).toBe('converged')
    expect(last.iter).toBeLessThanOrEqual(p.dim + 4)
    expect(diff(last.v, dense.v)).toBeLessThan(1e-9 * norm(dense.v))
  })
  it('returns the iterate that met the tolerance, never a stale one', () => {
    const tol = 1e-6
    const bn = norm(system.rhs)
    const r = orThrow(runLinear(conjugateGradient({ tol }), system, new Float64Array(p.dim), rng, { maxIter: 100 }))
    expect(r.status).toBe('converged')
    expect(r.state.residual!).toBeLessThanOrEqual(tol * bn)
    expect(r.residuals[r.iterations - 1]!).toBeGreaterThan(tol * bn)
    // The recursive residual tracks the true one at this level.
    expect(r.trueResidual!).toBeLessThanOrEqual(tol * bn * (1 + 1e-4))
    // The returned iterate is the last one computed: one product per step.
    expect(r.counts.jacW).toBe(r.iterations)
  })
  it('ends at iter 0 when the start already solves the system', () => {
    const s = toArray(iter(conjugateGradient(), system, dense.v, rng))
    expect(s.length).toBe(1)
    expect(s[0]!.stop).toBe('converged')
    const zero = toArray(iter(conjugateGradient(), denseSystem(matrix(2, 2, Float64Array.of(0.5, 0, 0, 0.5)), new Float64Array(2), true), new Float64Array(2), rng))
    expect(zero.map((x) => [x.iter, x.stop])).toEqual([[0, 'converged']])
  })
  it('refuses a non-symmetric system: check() and runLinear are a domain error, the raw stream a single diverged state', () => {
    const lp = linearFP(2)
    const l = Float64Array.of(1, 1, 1)
    const cg = conjugateGradient()
    const c = cg.check({ stochastic: false, symmetric: false }, 10)
    expect(E.isLeft(c) && c.left.kind).toBe('domain')
    expect(E.isRight(cg.check({ stochastic: false, symmetric: true }, 10))).toBe(true)
    const sys = linearSystemAt(lp, l, new Float64Array(lp.dim))
    const r = runLinear(cg, sys, new Float64Array(lp.dim), rng, { maxIter: 50 })
    expect(E.isLeft(r) && r.left.message).toMatch(/not symmetric/)
    const raw = toArray(unfold(cg, sys, new Float64Array(lp.dim), rng))
    expect(raw.map((x) => [x.iter, x.stop])).toEqual([[0, 'diverged']])
  })
  it('flags a breakdown (pᵀAp ≤ 0: I − ∂₁Φᵀ indefinite) as diverged, keeping the last good iterate', () => {
    // ∂₁Φᵀ = diag(1.5, 0.2), b = e₁: p₀ = e₁, Ap₀ = −0.5e₁, pᵀAp = −0.5.
    const sys = denseSystem(matrix(2, 2, Float64Array.of(1.5, 0, 0, 0.2)), Float64Array.of(1, 0), true, 0.9)
    const r = orThrow(runLinear(conjugateGradient(), sys, new Float64Array(2), rng, { maxIter: 10 }))
    expect([r.status, r.divergedAt]).toEqual(['diverged', 1])
    expect(r.reason).toMatch(/pᵀAp = -0.5/)
    expect(Array.from(r.state.v)).toEqual([0, 0])
  })
  it('is replayable; a warm start costs one extra product', () => {
    const v0 = gaussianVec(2, p.dim)
    const s = iter(conjugateGradient(), system, v0, rng)
    expect(toArray(take(5)(s)).map((x) => Array.from(x.v))).toEqual(toArray(take(5)(s)).map((x) => Array.from(x.v)))
    expect(toArray(take(3)(s)).map((x) => x.counts.jacW)).toEqual([1, 2, 3])
    expect(refusal(conjugateGradient({ tol: -1 }), { stochastic: false, symmetric: true })).toBe('domain')
  })
})
