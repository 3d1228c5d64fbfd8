import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import { spectralNorm, transpose } from '../linalg/matrix.js'
import type { Matrix, RVec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { linearFixedPointProblem } from './linearFixedPoint.js'
import { denseImplicitHypergradient, diff, expectProductsMatchFd, fdGrad, fdJac, matRelErr, norm, randVec, relErr } from './reference.test-util.js'

/** Error relative to 1 + ‖b‖: for finite-difference comparisons where b may be (near) zero (q ≈ 0). */
const mixedErr = (a: Matrix, b: Matrix): number => norm(diff(a.data, b.data)) / (1 + norm(b.data))

const shapes = fc.record({
  dim: fc.integer({ min: 1, max: 8 }),
  hyperDim: fc.integer({ min: 1, max: 5 }),
  q: fc.double({ min: 0, max: 0.99, noNaN: true }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
})

describe('linearFixedPointProblem', () => {
  it('rejects q ∉ [0, 1) and non-integer sizes', () => {
    for (const o of [
      { dim: 3, hyperDim: 2, q: 1, seed: 0 },
      { dim: 3, hyperDim: 2, q: -0.1, seed: 0 },
      { dim: 3, hyperDim: 2, q: Number.NaN, seed: 0 },
      { dim: 0, hyperDim: 2, q: 0.5, seed: 0 },
      { dim: 3, hyperDim: 2.5, q: 0.5, seed: 0 },
    ]) {
      const r = linearFixedPointProblem(o)
      expect(E.isLeft(r) && r.left.kind).toBe('domain')
    }
  })

  it('‖∂₁Φ‖₂ = q exactly, ∂₁Φ is not symmetric, and the constants are the dense norms', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = orThrow(linearFixedPointProblem(s))
        const w = randVec(s.seed + 1, s.dim)
        const lam = randVec(s.seed + 2, s.hyperDim)
        const J1 = fdJac((x) => p.phi(x, lam), w, s.dim, 1e-3)
        expect(Math.abs(spectralNorm(J1) - s.q)).toBeLessThan(1e-9)
        expect(p.contraction(lam)).toBe(s.q)
        expect(p.symmetric).toBe(false)
        if (s.dim > 1 && s.q > 0.05) expect(matRelErr(J1, transpose(J1))).toBeGreaterThan(1e-3)
        const k = p.constants(lam)
        const J2 = fdJac((l) => p.phi(w, l), lam, s.dim, 1e-3)
        expect(Math.abs(spectralNorm(J2) - k.LPhi) / k.LPhi).toBeLessThan(1e-8)
        const HE = fdJac((x) => p.gradUpperW(x, lam), w, s.dim, 1e-3)
        expect(Math.abs(spectralNorm(HE) - k.mu1) / k.mu1).toBeLessThan(1e-8)
        expect([k.nu1, k.nu2, k.mu2]).toEqual([0, 0, 0])
      }),
    )
  })

  it('derivative products match central differences and are adjoint pairs', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = orThrow(linearFixedPointProblem(s))
        expectProductsMatchFd(p, randVec(s.seed + 3, s.dim), randVec(s.seed + 4, s.hyperDim), mixedErr)
      }),
    )
  })

  it('solution(λ) is a fixed point and hypergradient(λ) matches central differences of f', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (s, ls) => {
        const p = orThrow(linearFixedPointProblem({ ...s, upperReg: 0.2 }))
        const lam = randVec(ls, s.hyperDim, 2)
        const w = p.solution(lam)
        expect(relErr(p.phi(w, lam), w)).toBeLessThan(1e-10)
        const f = (l: RVec): number => p.upper(p.solution(l), l)
        expect(relErr(p.hypergradient(lam), fdGrad(f, lam, 1e-3))).toBeLessThan(1e-7)
      }),
    )
  })

  it('hypergradient(λ) equals ∇₂E + ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E by a dense solve (SID eq. 4–5)', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = orThrow(linearFixedPointProblem(s))
        const lam = randVec(s.seed, s.hyperDim)
        expect(relErr(p.hypergradient(lam), denseImplicitHypergradient(p, p.solution(lam), lam))).toBeLessThan(1e-9)
      }),
    )
  })

  it('upperLipschitz bounds the gradient of E on the ball and is exact at radius 0', () => {
    const p = orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.7, seed: 9 }))
    const lam = randVec(1, 2)
    const w0 = p.solution(lam)
    expect(p.upperLipschitz(lam, 0)).toBeCloseTo(norm(p.gradUpperW(w0, lam)), 12)
    const bound = p.upperLipschitz(lam, 1.5)
    let rng = R.seed(3)
    for (let k = 0; k < 100; k++) {
      const [z, r1] = R.normals(rng, 4)
      const [t, r2] = R.uniform(r1)
      rng = r2
      const x = Float64Array.from(w0, (v, i) => v + (1.5 * t * z[i]!) / norm(z))
      expect(norm(p.gradUpperW(x, lam))).toBeLessThanOrEqual(bound)
    }
  })

  it('checkLambda rejects wrong length and NaN naming the entry; nothing is mutated', () => {
    const p = orThrow(linearFixedPointProblem({ dim: 3, hyperDim: 2, q: 0.5, seed: 1 }))
    const bad = p.checkLambda(new Float64Array(3))
    expect(E.isLeft(bad) && bad.left.kind).toBe('dimension')
    const nan = p.checkLambda(Float64Array.of(0, Number.NaN))
    expect(E.isLeft(nan) && nan.left.message).toMatch(/λ\[1\]/)
    const w = randVec(1, 3)
    const lam = randVec(2, 2)
    const u = randVec(3, 3)
    const snap = [w, lam, u].map((x) => Array.from(x))
    const M = Array.from(p.M.data)
    p.phi(w, lam), p.jvpW(w, lam, u), p.vjpW(w, lam, u), p.jvpLambda(w, lam, lam), p.vjpLambda(w, lam, u)
    p.solution(lam), p.hypergradient(lam), p.constants(lam), p.upper(w, lam), p.gradUpperW(w, lam), p.gradUpperLambda(w, lam)
    expect([w, lam, u].map((x) => Array.from(x))).toEqual(snap)
    expect(Array.from(p.M.data)).toEqual(M)
    expect(() => p.phi(new Float64Array(2), lam)).toThrow(RangeError)
  })
})
