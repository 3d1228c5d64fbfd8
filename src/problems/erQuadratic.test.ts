import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import { denseOf, spectralNorm, transpose } from '../linalg/matrix.js'
import type { RVec, Vec } from '../linalg/types.js'
import { erQuadraticProblem } from './erQuadratic.js'
import { denseImplicitHypergradient, diff, fdGrad, fdJac, hessianSpectrum, matRelErr, norm, randVec, relErr } from './reference.test-util.js'

const shapes = fc.record({
  cols: fc.integer({ min: 1, max: 6 }),
  extraRows: fc.integer({ min: 0, max: 4 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
})
const build = (s: { cols: number; extraRows: number; seed: number }) =>
  orThrow(erQuadraticProblem({ rows: s.cols + s.extraRows + 2, cols: s.cols, seed: s.seed }))

describe('erQuadraticProblem (Ehrhardt & Roberts §4.1)', () => {
  it('default shape: 1000×10 data, dim = hyperDim = 10, λ₀ = 1, noise of std 0.01', () => {
    const p = orThrow(erQuadraticProblem({ seed: 42 }))
    expect([p.dim, p.hyperDim, p.nSamples]).toEqual([10, 10, 1000])
    expect(Array.from(p.lambda0)).toEqual(new Array(10).fill(1))
    const { A, b, C, D, e, xTrue, lambdaTrue } = p.data
    let lo = Infinity
    let hi = -Infinity
    for (const M of [A, C, D]) for (const x of M.data) (lo = Math.min(lo, x)), (hi = Math.max(hi, x))
    expect(lo).toBeGreaterThanOrEqual(0)
    expect(hi).toBeLessThan(1)
    // The residuals of the generating model are the noise: sample std close to 0.01.
    const std = (r: RVec): number => Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length)
    const re = Float64Array.from(e, (ei, i) => {
      let s = ei
      for (let j = 0; j < 10; j++) s -= C.data[i * 10 + j]! * lambdaTrue[j]! + D.data[i * 10 + j]! * xTrue[j]!
      return s
    })
    const rb = Float64Array.from(b, (bi, i) => {
      let s = bi
      for (let j = 0; j < 10; j++) s -= A.data[i * 10 + j]! * xTrue[j]!
      return s
    })
    for (const r of [re, rb]) {
      expect(std(r)).toBeGreaterThan(0.009)
      expect(std(r)).toBeLessThan(0.011)
    }
    // At λ = λ_true, w(λ) recovers x_true up to the noise level.
    expect(relErr(p.solution(lambdaTrue), xTrue)).toBeLessThan(0.05)
    const w = p.solution(p.lambda0)
    expect(relErr(p.phi(w, p.lambda0), w)).toBeLessThan(1e-10)
  })

  it('rejects rows < cols and bad options', () => {
    for (const o of [{ rows: 3, cols: 4, seed: 0 }, { cols: 0, seed: 0 }, { seed: 0.5 }, { rows: 20, cols: 3, seed: 0, alpha: 10 }]) {
      const r = erQuadraticProblem(o)
      expect(E.isLeft(r) && r.left.kind).toBe('domain')
    }
  })

  it('constants agree with the dense matrices: L, μ, L_f, ‖B‖, q, L_B = L_H = 0', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build(s)
        const d = s.cols
        const lam = randVec(s.seed + 1, d)
        const w = randVec(s.seed + 2, d)
        const k = p.constants(lam)
        const { H, ev } = hessianSpectrum(p.lower, w, lam)
        expect(Math.abs(k.L - ev[d - 1]!) / k.L).toBeLessThan(1e-10)
        expect(Math.abs(k.mu - ev[0]!) / k.L).toBeLessThan(1e-10)
        expect(k.tau).toBe(k.mu)
        // Hessian of ℓ from central differences of ∇ℓ (independent of hvp).
        expect(matRelErr(H, fdJac((x) => p.lower.grad(x, lam), w, d, 1e-3))).toBeLessThan(1e-8)
        const HE = fdJac((x) => p.gradUpperW(x, lam), w, d, 1e-3)
        expect(Math.abs(spectralNorm(HE) - k.Lf) / k.Lf).toBeLessThan(1e-8)
        const Bm = fdJac((l) => p.lower.grad(w, l), lam, d, 1e-3)
        expect(Math.abs(spectralNorm(Bm) - k.normB) / k.normB).toBeLessThan(1e-8)
        // B does not move with w, H does not move with w: L_B = L_H = 0.
        const w2 = randVec(s.seed + 9, d)
        expect(matRelErr(fdJac((l) => p.lower.grad(w2, l), lam, d, 1e-3), Bm)).toBeLessThan(1e-8)
        expect([k.LB, k.LH]).toEqual([0, 0])
        const J1 = fdJac((x) => p.phi(x, lam), w, d, 1e-3)
        expect(Math.abs(spectralNorm(J1) - k.q)).toBeLessThan(1e-8)
        expect(k.q).toBeCloseTo((k.L - k.mu) / (k.L + k.mu), 12)
        expect(k.alpha).toBeCloseTo(2 / (k.L + k.mu), 14)
      }),
      { numRuns: 15 },
    )
  })

  it('solution(λ) is a fixed point; hypergradient(λ) matches central differences and the implicit formula', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (s, ls) => {
        const p = build(s)
        const d = s.cols
        const lam = randVec(ls, d)
        const w = p.solution(lam)
        expect(relErr(p.phi(w, lam), w)).toBeLessThan(1e-10)
        const f = (l: RVec): number => p.upper(p.solution(l), l)
        const g = p.hypergradient(lam)
        const fd = fdGrad(f, lam, 1e-3)
        expect(norm(diff(g, fd))).toBeLessThan(1e-6 * (norm(fd) + 1e-8 * (1 + f(lam))))
        // ∇₂E = 0 here: the implicit formula is ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E alone
        const implicit = denseImplicitHypergradient(p, w, lam)
        expect(norm(diff(g, implicit))).toBeLessThan(1e-8 * (norm(implicit) + 1e-10))
      }),
      { numRuns: 20 },
    )
  })

  it('derivative products: gradients by central differences, adjoint pairs, unbiased minibatches', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build(s)
        const d = s.cols
        const n = p.nSamples
        const lam = randVec(s.seed + 3, d)
        const w = randVec(s.seed + 4, d)
        const v = randVec(s.seed + 5, d)
        for (const b of [undefined, Int32Array.of(0), Int32Array.of(n - 1, 1, n - 1)]) {
          const g = p.lower.grad(w, lam, b)
          expect(norm(diff(g, fdGrad((x) => p.lower.value(x, lam, b), w, 1e-4)))).toBeLessThan(1e-6 * (1 + norm(g)))
          const Cx = denseOf(d, (mu) => p.lower.crossJvp(w, lam, mu, b))
          expect(matRelErr(Cx, fdJac((l) => p.lower.grad(w, l, b), lam, d, 1e-3))).toBeLessThan(1e-8)
          expect(matRelErr(transpose(Cx), denseOf(d, (u) => p.lower.crossVjp(w, lam, u, b)))).toBeLessThan(1e-14)
        }
        expect(matRelErr(transpose(denseOf(d, (u) => p.jvpW(w, lam, u))), denseOf(d, (u) => p.vjpW(w, lam, u)))).toBeLessThan(1e-14)
        expect(matRelErr(transpose(denseOf(d, (u) => p.jvpLambda(w, lam, u))), denseOf(d, (u) => p.vjpLambda(w, lam, u)))).toBeLessThan(1e-14)
        expect(relErr(p.gradUpperW(w, lam), fdGrad((x) => p.upper(x, lam), w, 1e-4))).toBeLessThan(1e-7)
        const avg = (F: (b: Int32Array) => RVec): Vec => {
          const out = new Float64Array(d)
          for (let i = 0; i < n; i++) F(Int32Array.of(i)).forEach((x, k) => (out[k] = out[k]! + x / n))
          return out
        }
        // With cols = 1, ∂₁Φ = 1 − αL = 0 exactly: measure errors against the size of the inputs too.
        const close = (a: RVec, ref: RVec, scale: number): void => expect(norm(diff(a, ref))).toBeLessThan(1e-12 * (norm(ref) + scale))
        close(avg((b) => p.phiHat(w, lam, b)), p.phi(w, lam), norm(w))
        close(avg((b) => p.vjpWHat(w, lam, b, v)), p.vjpW(w, lam, v), norm(v))
        close(avg((b) => p.vjpLambdaHat(w, lam, b, v)), p.vjpLambda(w, lam, v), 0)
        expect(p.separable).toBe(false)
      }),
      { numRuns: 15 },
    )
  })

  it('checkLambda rejects wrong length and NaN naming the entry; nothing is mutated', () => {
    const p = orThrow(erQuadraticProblem({ rows: 8, cols: 3, seed: 5 }))
    const short = p.checkLambda(new Float64Array(2))
    expect(E.isLeft(short) && short.left.kind).toBe('dimension')
    const nan = p.checkLambda(Float64Array.of(1, 1, Number.NaN))
    expect(E.isLeft(nan) && nan.left.message).toContain('λ[2]')
    const w = randVec(1, 3)
    const lam = randVec(2, 3)
    const u = randVec(3, 3)
    const b = Int32Array.of(7, 2)
    const snap = [w, lam, u].map((x) => Array.from(x))
    const dataSnap = Object.values(p.data).map((x) => Array.from('data' in x ? x.data : x))
    p.phi(w, lam), p.jvpW(w, lam, u), p.vjpW(w, lam, u), p.jvpLambda(w, lam, u), p.vjpLambda(w, lam, u)
    p.phiHat(w, lam, b), p.vjpWHat(w, lam, b, u), p.vjpLambdaHat(w, lam, b, u)
    p.solution(lam), p.hypergradient(lam), p.constants(lam), p.upper(w, lam), p.gradUpperW(w, lam)
    expect([w, lam, u].map((x) => Array.from(x))).toEqual(snap)
    expect(Array.from(b)).toEqual([7, 2])
    expect(Object.values(p.data).map((x) => Array.from('data' in x ? x.data : x))).toEqual(dataSnap)
    expect(() => p.phiHat(w, lam, Int32Array.of(8))).toThrow(RangeError)
  })
})
