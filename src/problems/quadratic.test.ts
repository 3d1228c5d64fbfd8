import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import { denseOf, matMul, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import type { RVec, Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { quadraticProblem, randomOrthogonal, type QuadraticOptions, type QuadraticProblem } from './quadratic.js'
import { denseImplicitHypergradient, diff, expectProductsMatchFd, fdGrad, fdJac, hessianSpectrum, matRelErr, norm, randVec, relErr } from './reference.test-util.js'

// ── independent truths: finite differences, dense algebra ───────────────────────────────────
const build = (o: QuadraticOptions): QuadraticProblem => orThrow(quadraticProblem(o))

const shapes = fc.record({
  dim: fc.integer({ min: 2, max: 8 }),
  hyperDim: fc.integer({ min: 1, max: 5 }),
  nSamples: fc.integer({ min: 1, max: 10 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  separable: fc.boolean(),
})

describe('quadraticProblem: construction', () => {
  it('rejects invalid options with a domain error', () => {
    const base = { dim: 3, hyperDim: 2, nSamples: 4, seed: 1 }
    const bad: QuadraticOptions[] = [
      { ...base, dim: 0 },
      { ...base, hyperDim: 1.5 },
      { ...base, nSamples: 0 },
      { ...base, tau: 0 },
      { ...base, tau: 2, L: 1 },
      { ...base, dim: 1 },
      { ...base, alpha: 2 / 10 },
      { ...base, alpha: -1 },
      { ...base, upperReg: Number.NaN },
      { ...base, spread: 1 },
    ]
    for (const o of bad) {
      const r = quadraticProblem(o)
      expect(E.isLeft(r) && r.left.kind).toBe('domain')
    }
    expect(E.isRight(quadraticProblem({ ...base, dim: 1, tau: 2, L: 2 }))).toBe(true)
  })

  it('is reproducible from its seed, and different seeds give different problems', () => {
    const a = build({ dim: 4, hyperDim: 2, nSamples: 3, seed: 7 })
    const b = build({ dim: 4, hyperDim: 2, nSamples: 3, seed: 7 })
    const c = build({ dim: 4, hyperDim: 2, nSamples: 3, seed: 8 })
    const lam = randVec(1, 2)
    expect(Array.from(a.solution(lam))).toEqual(Array.from(b.solution(lam)))
    expect(relErr(a.solution(lam), c.solution(lam))).toBeGreaterThan(1e-3)
  })

  it('randomOrthogonal gives QᵀQ = I', () => {
    for (const n of [1, 2, 5, 8]) {
      const [q] = randomOrthogonal(R.seed(n), n)
      const qtq = matMul(transpose(q), q)
      const id = denseOf(n, (v) => Float64Array.from(v))
      expect(matRelErr(qtq, id)).toBeLessThan(1e-13)
    }
  })
})

describe('quadraticProblem: spectrum and constants against dense matrices', () => {
  it('A has extreme eigenvalues exactly τ and L, and q, L_Φ, μ₁, L_Φ̂, m₂ are the dense norms', () => {
    fc.assert(
      fc.property(shapes, fc.double({ min: 0.1, max: 3, noNaN: true }), fc.double({ min: 1.5, max: 30, noNaN: true }), (s, tau, ratio) => {
        const L = tau * ratio
        const p = build({ ...s, tau, L })
        const d = s.dim
        const m = s.hyperDim
        const w = randVec(s.seed + 1, d)
        const lam = randVec(s.seed + 2, m)
        const k = p.constants(lam)
        // Hessian of ℓ from the derivative product, eigenvalues by Jacobi.
        const { H, ev } = hessianSpectrum(p.lower, w, lam)
        expect(Math.abs(ev[0]! - tau) / tau).toBeLessThan(1e-10)
        expect(Math.abs(ev[d - 1]! - L) / L).toBeLessThan(1e-10)
        expect(matRelErr(H, k.A)).toBeLessThan(1e-12)
        // q = ‖∂₁Φ‖ with ∂₁Φ from central differences of Φ.
        const J1 = fdJac((x) => p.phi(x, lam), w, d, 1e-3)
        expect(Math.abs(spectralNorm(J1) - k.q)).toBeLessThan(1e-8)
        expect(k.q).toBeCloseTo((L - tau) / (L + tau), 12)
        expect(p.contraction(lam)).toBe(k.q)
        // L_Φ = ‖∂₂Φ‖.
        const J2 = fdJac((l) => p.phi(w, l), lam, d, 1e-3)
        expect(Math.abs(spectralNorm(J2) - k.LPhi) / k.LPhi).toBeLessThan(1e-8)
        // μ₁ = Lipschitz constant of ∇₁E: the norm of its (constant) Jacobian.
        const HE = fdJac((x) => p.gradUpperW(x, lam), w, d, 1e-3)
        expect(Math.abs(spectralNorm(HE) - k.mu1) / k.mu1).toBeLessThan(1e-8)
        // ∇₂E = upperReg·λ does not move with w: μ₂ = 0.
        expect(relErr(p.gradUpperLambda(randVec(9, d), lam), p.gradUpperLambda(w, lam))).toBe(0)
        expect(k.mu2).toBe(0)
        // L_Φ̂ = max over samples of ‖∂₁Φ̂ᵢ‖ (Φ̂ᵢ affine), m₂ = E‖∂₂Φ̂ − ∂₂Φ‖².
        let lhat = 0
        let m2 = 0
        for (let i = 0; i < s.nSamples; i++) {
          const bi = Int32Array.of(i)
          lhat = Math.max(lhat, spectralNorm(fdJac((x) => p.phiHat(x, lam, bi), w, d, 1e-3)))
          const dev = denseOf(d, (v) => diff(p.vjpLambdaHat(w, lam, bi, v), p.vjpLambda(w, lam, v)), m)
          m2 += spectralNorm(dev) ** 2 / s.nSamples
        }
        expect(Math.abs(lhat - k.LPhiHat)).toBeLessThan(1e-8)
        expect(k.LPhiHat).toBeGreaterThanOrEqual(k.q - 1e-12) // Φ is the mean of the Φ̂ᵢ
        expect(Math.abs(m2 - k.m2)).toBeLessThan(1e-10 * (1 + k.m2))
        if (s.separable) expect(k.m2).toBe(0)
      }),
      { numRuns: 15 },
    )
  })

  it('each Aᵢ is symmetric positive definite, and the samples average to A, B, c', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build({ ...s, spread: 0.9 })
        const k = p.constants(new Float64Array(s.hyperDim))
        const n = s.nSamples
        const meanA = new Float64Array(s.dim * s.dim)
        const meanB = new Float64Array(s.dim * s.hyperDim)
        const meanC = new Float64Array(s.dim)
        for (const smp of k.perSample) {
          expect(matRelErr(smp.A, transpose(smp.A))).toBe(0)
          expect(symmetricEigenvalues(smp.A)[0]!).toBeGreaterThanOrEqual((1 - 0.9) * 1 - 1e-12)
          smp.A.data.forEach((v, i) => (meanA[i] = meanA[i]! + v / n))
          smp.B.data.forEach((v, i) => (meanB[i] = meanB[i]! + v / n))
          smp.c.forEach((v, i) => (meanC[i] = meanC[i]! + v / n))
          if (s.separable) expect(Array.from(smp.B.data)).toEqual(Array.from(k.B.data))
        }
        expect(relErr(meanA, k.A.data)).toBeLessThan(1e-14)
        expect(relErr(meanB, k.B.data)).toBeLessThan(1e-14)
        expect(relErr(meanC, k.c)).toBeLessThan(1e-14)
        if (n > 1) expect(relErr(k.perSample[0]!.A.data, k.A.data)).toBeGreaterThan(1e-6)
      }),
      { numRuns: 15 },
    )
  })
})

describe('quadraticProblem: closed forms', () => {
  it('solution(λ) is a fixed point of Φ(·, λ)', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (s, ls) => {
        const p = build(s)
        const lam = randVec(ls, s.hyperDim, 3)
        const w = p.solution(lam)
        expect(relErr(p.phi(w, lam), w)).toBeLessThan(1e-10)
      }),
    )
  })

  it('hypergradient(λ) agrees with central differences of f(λ) = E(w(λ), λ)', () => {
    fc.assert(
      fc.property(shapes, fc.integer({ min: 0, max: 1000 }), (s, ls) => {
        const p = build({ ...s, upperReg: 0.3 })
        const lam = randVec(ls, s.hyperDim, 2)
        const f = (l: RVec): number => p.upper(p.solution(l), l)
        // f is quadratic in λ: central differences are exact up to rounding.
        expect(relErr(p.hypergradient(lam), fdGrad(f, lam, 1e-3))).toBeLessThan(1e-7)
      }),
    )
  })

  it('hypergradient(λ) equals ∇₂E + ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E from the dense Jacobians (SID eq. 4–5)', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build({ ...s, alpha: 0.05 })
        const lam = randVec(s.seed, s.hyperDim)
        expect(relErr(p.hypergradient(lam), denseImplicitHypergradient(p, p.solution(lam), lam))).toBeLessThan(1e-9)
      }),
    )
  })
})

describe('quadraticProblem: derivative products', () => {
  it('gradients, Hessian and cross products match central differences; vjp are the adjoints of jvp', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build(s)
        const { dim: d, hyperDim: m } = s
        const w = randVec(s.seed + 3, d)
        const lam = randVec(s.seed + 4, m)
        const lower = p.lower
        const batches: (Int32Array | undefined)[] = [undefined, Int32Array.of(0), Int32Array.of(s.nSamples - 1, 0, s.nSamples - 1)]
        for (const b of batches) {
          expect(relErr(lower.grad(w, lam, b), fdGrad((x) => lower.value(x, lam, b), w, 1e-3))).toBeLessThan(1e-7)
          const H = denseOf(d, (u) => lower.hvp(w, lam, u, b))
          expect(matRelErr(H, fdJac((x) => lower.grad(x, lam, b), w, d, 1e-3))).toBeLessThan(1e-9)
          const Cx = denseOf(m, (mu) => lower.crossJvp(w, lam, mu, b), d)
          expect(matRelErr(Cx, fdJac((l) => lower.grad(w, l, b), lam, d, 1e-3))).toBeLessThan(1e-9)
          expect(matRelErr(transpose(Cx), denseOf(d, (v) => lower.crossVjp(w, lam, v, b), m))).toBeLessThan(1e-14)
        }
        expectProductsMatchFd(p, w, lam)
      }),
      { numRuns: 15 },
    )
  })

  it('minibatch estimates average to the full map: over all singletons and over all pairs (SID Assumption B(i))', () => {
    fc.assert(
      fc.property(shapes, (s) => {
        const p = build(s)
        const { dim: d, hyperDim: m, nSamples: n } = s
        const w = randVec(s.seed + 5, d)
        const lam = randVec(s.seed + 6, m)
        const v = randVec(s.seed + 7, d)
        const batches: Int32Array[] = []
        for (let i = 0; i < n; i++) batches.push(Int32Array.of(i))
        for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) batches.push(Int32Array.of(i, j))
        for (const size of [1, 2]) {
          const bs = batches.filter((b) => b.length === size)
          if (bs.length === 0) continue
          const avg = (F: (b: Int32Array) => RVec, len: number): Vec => {
            const out = new Float64Array(len)
            for (const b of bs) F(b).forEach((x, i) => (out[i] = out[i]! + x / bs.length))
            return out
          }
          expect(relErr(avg((b) => p.phiHat(w, lam, b), d), p.phi(w, lam))).toBeLessThan(1e-12)
          expect(relErr(avg((b) => p.vjpWHat(w, lam, b, v), d), p.vjpW(w, lam, v))).toBeLessThan(1e-12)
          expect(relErr(avg((b) => p.jvpWHat(w, lam, b, v), d), p.jvpW(w, lam, v))).toBeLessThan(1e-12)
          expect(relErr(avg((b) => p.vjpLambdaHat(w, lam, b, v), m), p.vjpLambda(w, lam, v))).toBeLessThan(1e-12)
          const val = avg((b) => Float64Array.of(p.lower.value(w, lam, b)), 1)[0]!
          expect(Math.abs(val - p.lower.value(w, lam))).toBeLessThan(1e-12 * (1 + Math.abs(val)))
        }
        // A batch is the mean of its samples, repetitions counted.
        const b3 = Int32Array.of(0, 0, n - 1)
        const mean3 = p.phiHat(w, lam, Int32Array.of(0)).map((x, i) => (2 * x + p.phiHat(w, lam, Int32Array.of(n - 1))[i]!) / 3)
        expect(relErr(p.phiHat(w, lam, b3), mean3)).toBeLessThan(1e-13)
        if (s.separable) {
          const ref = p.vjpLambdaHat(w, lam, Int32Array.of(0), v)
          for (let i = 1; i < n; i++) expect(relErr(p.vjpLambdaHat(w, lam, Int32Array.of(i), v), ref)).toBeLessThan(1e-14)
        }
      }),
      { numRuns: 15 },
    )
  })

  it('rejects malformed batches and mismatched dimensions with a RangeError', () => {
    const p = build({ dim: 3, hyperDim: 2, nSamples: 4, seed: 3 })
    const w = new Float64Array(3)
    const lam = new Float64Array(2)
    expect(() => p.phiHat(w, lam, Int32Array.of(4))).toThrow(RangeError)
    expect(() => p.phiHat(w, lam, new Int32Array(0))).toThrow(RangeError)
    expect(() => p.phi(new Float64Array(2), lam)).toThrow(/expected length 3, got 2/)
    expect(() => p.phi(w, new Float64Array(3))).toThrow(RangeError)
    expect(() => p.solution(new Float64Array(1))).toThrow(RangeError)
  })
})

describe('quadraticProblem: upperLipschitz', () => {
  it('is ‖∇₁E(w(λ))‖ at radius 0 and bounds every gradient and difference quotient on the ball', () => {
    const p = build({ dim: 5, hyperDim: 3, nSamples: 4, seed: 11 })
    const lam = randVec(4, 3)
    const w0 = p.solution(lam)
    expect(p.upperLipschitz(lam, 0)).toBeCloseTo(norm(p.gradUpperW(w0, lam)), 12)
    const r = 2
    const bound = p.upperLipschitz(lam, r)
    let worst = 0
    let rng = R.seed(5)
    for (let k = 0; k < 200; k++) {
      const [z1, r1] = R.normals(rng, 5)
      const [z2, r2] = R.normals(r1, 5)
      const [u, r3] = R.uniforms(r2, 2)
      rng = r3
      const pt = (z: Vec, t: number): Vec => Float64Array.from(w0, (x, i) => x + (r * t * z[i]!) / norm(z))
      const a = pt(z1, u[0]!)
      const b = pt(z2, u[1]!)
      worst = Math.max(worst, norm(p.gradUpperW(a, lam)))
      expect(Math.abs(p.upper(a, lam) - p.upper(b, lam)) / norm(diff(a, b))).toBeLessThanOrEqual(bound)
    }
    expect(worst).toBeLessThanOrEqual(bound)
    expect(() => p.upperLipschitz(lam, -1)).toThrow(RangeError)
  })
})

describe('quadraticProblem: domain and purity', () => {
  it('checkLambda rejects a wrong length and non-finite entries, naming the entry', () => {
    const p = build({ dim: 3, hyperDim: 3, nSamples: 2, seed: 1 })
    const short = p.checkLambda(new Float64Array(2))
    expect(E.isLeft(short) && short.left.kind).toBe('dimension')
    const nan = p.checkLambda(Float64Array.of(1, 2, Number.NaN))
    expect(E.isLeft(nan) && nan.left.message).toMatch(/λ\[2\]/)
    const inf = p.checkLambda(Float64Array.of(Number.NEGATIVE_INFINITY, 0, 0))
    expect(E.isLeft(inf) && inf.left.message).toMatch(/λ\[0\]/)
    expect(E.isRight(p.checkLambda(Float64Array.of(-5, 0, 1e6)))).toBe(true)
  })

  it('no method writes to its arguments', () => {
    const p = build({ dim: 4, hyperDim: 2, nSamples: 3, seed: 2 })
    const w = randVec(1, 4)
    const lam = randVec(2, 2)
    const u = randVec(3, 4)
    const mu = randVec(4, 2)
    const b = Int32Array.of(2, 0)
    const snap = [w, lam, u, mu].map((x) => Array.from(x))
    const k = p.constants(lam)
    const dataSnap = [k.A.data, k.B.data, k.c, k.C.data, k.e, ...k.perSample.flatMap((s) => [s.A.data, s.B.data, s.c])].map((x) => Array.from(x))
    p.phi(w, lam), p.jvpW(w, lam, u), p.vjpW(w, lam, u), p.jvpLambda(w, lam, mu), p.vjpLambda(w, lam, u)
    p.phiHat(w, lam, b), p.jvpWHat(w, lam, b, u), p.vjpWHat(w, lam, b, u), p.vjpLambdaHat(w, lam, b, u)
    p.upper(w, lam), p.gradUpperW(w, lam), p.gradUpperLambda(w, lam)
    p.solution(lam), p.hypergradient(lam), p.upperLipschitz(lam, 1)
    p.lower.value(w, lam, b), p.lower.grad(w, lam), p.lower.hvp(w, lam, u, b), p.lower.crossJvp(w, lam, mu), p.lower.crossVjp(w, lam, u, b)
    expect([w, lam, u, mu].map((x) => Array.from(x))).toEqual(snap)
    expect(Array.from(b)).toEqual([2, 0])
    const k2 = p.constants(lam)
    expect([k2.A.data, k2.B.data, k2.c, k2.C.data, k2.e, ...k2.perSample.flatMap((s) => [s.A.data, s.B.data, s.c])].map((x) => Array.from(x))).toEqual(dataSnap)
  })
})
