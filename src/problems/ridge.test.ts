import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow } from '../errors.js'
import type { Dataset } from '../data/dataset.js'
import { denseOf, luSolve, matMul, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { aid } from '../hypergrad/aid.js'
import { csrFromDense, csrToDense, type CsrMatrix } from '../linalg/csr.js'
import * as solvers from '../solvers/index.js'
import { RIDGE_GRAM_MAX_FEATURES, ridgeObjective, ridgeProblem, type RidgeRegularization } from './ridge.js'
import { denseImplicitHypergradient, diff, fdGrad, fdJac, matRelErr, norm, relErr } from './reference.test-util.js'

/** ‖a − b‖ / (‖b‖ + scale): with p = 1 and the scalar regularizer, α = 2/(L+τ) makes ∂₁Φ = 0 exactly. */
const mixedErr = (a: RVec, b: RVec, scale: number): number => norm(diff(a, b)) / (norm(b) + scale)

/** A linear-model dataset y = X w* + 0.1·noise with Gaussian X. */
const makeData = (seed: number, n: number, p: number): { train: Dataset; validation: Dataset } => {
  const [rX, rW, rN, rV, rNv] = R.split(R.seed(seed), 5) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [ws] = R.normals(rW, p)
  const mk = (rx: R.Rng, rn: R.Rng, rows: number): Dataset => {
    const [x] = R.normals(rx, rows * p)
    const [e] = R.normals(rn, rows)
    const y = Float64Array.from(e, (v, i) => {
      let s = 0
      for (let j = 0; j < p; j++) s += x[i * p + j]! * ws[j]!
      return s + 0.1 * v
    })
    return { X: matrix(rows, p, x), y }
  }
  return { train: mk(rX, rN, n), validation: mk(rV, rNv, n + 3) }
}
const posLambda = (seed: number, m: number): Vec => Float64Array.from(R.uniformsIn(R.seed(seed), m, 0.1, 3)[0])

const cases = fc.record({
  n: fc.integer({ min: 1, max: 10 }),
  p: fc.integer({ min: 1, max: 8 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
  reg: fc.constantFrom<RidgeRegularization>('scalar', 'perFeature'),
})
const setup = (c: { n: number; p: number; seed: number; reg: RidgeRegularization }) => {
  const { train, validation } = makeData(c.seed, c.n, c.p)
  const m = c.reg === 'scalar' ? 1 : c.p
  const lam = posLambda(c.seed + 1, m)
  const prob = orThrow(ridgeProblem(train, validation, lam, { regularization: c.reg }))
  return { train, validation, lam, prob, m }
}

describe('ridgeProblem: closed forms', () => {
  it('solution(λ) is a fixed point of Φ = w − α∇ℓ, and zeroes ∇ℓ', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob } = setup(c)
        const w = prob.solution(lam)
        expect(relErr(prob.phi(w, lam), w)).toBeLessThan(1e-10)
        expect(norm(prob.lower.grad(w, lam))).toBeLessThan(1e-9 * (1 + norm(w)) * prob.lower.curvature(lam).L)
      }),
    )
  })

  it('hypergradient(λ) agrees with central differences of f(λ) = E(w(λ))', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob } = setup(c)
        const f = (l: RVec): number => prob.upper(prob.solution(l), l)
        const fd = fdGrad(f, lam, (j) => 1e-4 * lam[j]!)
        const g = prob.hypergradient(lam)
        expect(norm(diff(g, fd))).toBeLessThan(1e-6 * (norm(fd) + 1e-6 * f(lam)))
      }),
    )
  })

  it('hypergradient(λ) equals ∂₂Φᵀ(I − ∂₁Φᵀ)⁻¹∇₁E from the dense Jacobians (SID eq. 4–5)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob, m } = setup(c)
        const g = denseImplicitHypergradient(prob, prob.solution(lam), lam)
        expect(g.length).toBe(m)
        expect(norm(diff(prob.hypergradient(lam), g))).toBeLessThan(1e-8 * (norm(g) + 1e-12))
      }),
    )
  })

  it('on a few hundred rows: w(λ) solves the normal equations and ∇f matches central differences', () => {
    for (const reg of ['scalar', 'perFeature'] as const) {
      const { train, validation } = makeData(123, 300, 6)
      const m = reg === 'scalar' ? 1 : 6
      const lam = posLambda(5, m).map((x) => 10 * x)
      const prob = orThrow(ridgeProblem(train, validation, lam, { regularization: reg }))
      const w = prob.solution(lam)
      // Independent: the normal equations (XᵀX + diag λ)w = Xᵀy assembled row by row, solved by LU.
      const G = matMul(transpose(train.X), train.X)
      const H = Float64Array.from(G.data)
      for (let j = 0; j < 6; j++) H[j * 6 + j] = H[j * 6 + j]! + (reg === 'scalar' ? lam[0]! : lam[j]!)
      const xty = Float64Array.from({ length: 6 }, (_, j) => train.y.reduce((s, yi, i) => s + yi * train.X.data[i * 6 + j]!, 0))
      expect(relErr(w, luSolve(matrix(6, 6, H), xty)!)).toBeLessThan(1e-10)
      const f = (l: RVec): number => prob.upper(prob.solution(l), l)
      expect(relErr(prob.hypergradient(lam), fdGrad(f, lam, (j) => 1e-4 * lam[j]!))).toBeLessThan(1e-6)
      expect(relErr(prob.phi(w, lam), w)).toBeLessThan(1e-10)
    }
  })
})

describe('ridgeProblem: derivative products and curvature', () => {
  it('gradients, Hessian and cross products match central differences; adjoint pairs agree', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob, m } = setup(c)
        const p = c.p
        const lower = prob.lower
        const w = Float64Array.from(R.normals(R.seed(c.seed + 2), p)[0])
        for (const b of [undefined, Int32Array.of(0), Int32Array.of(c.n - 1, 0, c.n - 1)]) {
          expect(relErr(lower.grad(w, lam, b), fdGrad((x) => lower.value(x, lam, b), w, 1e-4))).toBeLessThan(1e-6)
          const H = denseOf(p, (u) => lower.hvp(w, lam, u, b))
          expect(matRelErr(H, fdJac((x) => lower.grad(x, lam, b), w, p, 1e-3))).toBeLessThan(1e-9)
          const Cx = denseOf(m, (mu) => lower.crossJvp(w, lam, mu, b), p)
          expect(matRelErr(Cx, fdJac((l) => lower.grad(w, l, b), lam, p, 1e-3))).toBeLessThan(1e-9)
          expect(matRelErr(transpose(Cx), denseOf(p, (v) => lower.crossVjp(w, lam, v, b), m))).toBe(0)
        }
        const J1 = denseOf(p, (u) => prob.jvpW(w, lam, u))
        expect(mixedErr(J1.data, fdJac((x) => prob.phi(x, lam), w, p, 1e-3).data, 1)).toBeLessThan(1e-9)
        expect(mixedErr(transpose(J1).data, denseOf(p, (v) => prob.vjpW(w, lam, v)).data, 1)).toBeLessThan(1e-14)
        expect(relErr(prob.gradUpperW(w, lam), fdGrad((x) => prob.upper(x, lam), w, 1e-4))).toBeLessThan(1e-7)
        expect(Array.from(prob.gradUpperLambda(w, lam))).toEqual(new Array(m).fill(0))
      }),
    )
  })

  it('curvature: exact for the scalar regularizer, safe bounds per feature; α = 2/(L+τ)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob } = setup(c)
        const ev = symmetricEigenvalues(denseOf(c.p, (u) => prob.lower.hvp(new Float64Array(c.p), lam, u)))
        const { tau, L } = prob.lower.curvature(lam)
        const scale = ev[c.p - 1]!
        if (c.reg === 'scalar') {
          expect(Math.abs(tau - ev[0]!)).toBeLessThan(1e-10 * scale)
          expect(Math.abs(L - ev[c.p - 1]!)).toBeLessThan(1e-10 * scale)
        } else {
          expect(tau).toBeLessThanOrEqual(ev[0]! + 1e-10 * scale)
          expect(L).toBeGreaterThanOrEqual(ev[c.p - 1]! - 1e-10 * scale)
        }
        expect(tau).toBeGreaterThan(0)
        expect(prob.alpha).toBeCloseTo(2 / (L + tau), 14)
        expect(prob.contraction(lam)).toBeLessThan(1)
      }),
    )
  })

  it('minibatch estimates are unbiased (average over singletons) and separable (SID eq. 15)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { lam, prob, m } = setup(c)
        const p = c.p
        const w = Float64Array.from(R.normals(R.seed(c.seed + 3), p)[0])
        const v = Float64Array.from(R.normals(R.seed(c.seed + 4), p)[0])
        const avg = (F: (b: Int32Array) => RVec, len: number): Vec => {
          const out = new Float64Array(len)
          for (let i = 0; i < c.n; i++) F(Int32Array.of(i)).forEach((x, k) => (out[k] = out[k]! + x / c.n))
          return out
        }
        expect(mixedErr(avg((b) => prob.phiHat(w, lam, b), p), prob.phi(w, lam), norm(w))).toBeLessThan(1e-12)
        expect(mixedErr(avg((b) => prob.vjpWHat(w, lam, b, v), p), prob.vjpW(w, lam, v), norm(v))).toBeLessThan(1e-12)
        const val = avg((b) => Float64Array.of(prob.lower.value(w, lam, b)), 1)[0]!
        expect(Math.abs(val - prob.lower.value(w, lam))).toBeLessThan(1e-12 * Math.abs(val))
        expect(prob.separable).toBe(true)
        const ref = prob.vjpLambda(w, lam, v)
        for (let i = 0; i < c.n; i++) expect(Array.from(prob.vjpLambdaHat(w, lam, Int32Array.of(i), v))).toEqual(Array.from(ref))
        expect(ref.length).toBe(m)
      }),
    )
  })
})

describe('ridgeProblem: domain, data and purity', () => {
  it('checkLambda rejects wrong length, NaN and non-positive entries, naming the entry', () => {
    const { train, validation } = makeData(1, 5, 3)
    const lower = ridgeObjective(train, 'perFeature')
    const short = lower.checkLambda(Float64Array.of(1, 1))
    expect(E.isLeft(short) && short.left.kind).toBe('dimension')
    for (const [lam, at] of [
      [Float64Array.of(1, Number.NaN, 1), 1],
      [Float64Array.of(1, 1, 0), 2],
      [Float64Array.of(-0.5, 1, 1), 0],
      [Float64Array.of(1, Number.POSITIVE_INFINITY, 1), 1],
    ] as const) {
      const r = lower.checkLambda(lam)
      expect(E.isLeft(r) && r.left.kind).toBe('domain')
      expect(E.isLeft(r) && r.left.message).toContain(`λ[${at}]`)
      const q = ridgeProblem(train, validation, lam, { regularization: 'perFeature' })
      expect(E.isLeft(q) && q.left.message).toContain(`λ[${at}]`)
    }
    const s = ridgeObjective(train, 'scalar').checkLambda(Float64Array.of(0))
    expect(E.isLeft(s) && s.left.message).toContain('λ[0]')
    expect(E.isRight(ridgeObjective(train, 'scalar').checkLambda(Float64Array.of(1e-8)))).toBe(true)
  })

  it('rejects malformed datasets', () => {
    const { train, validation } = makeData(2, 5, 3)
    const lam = Float64Array.of(1)
    const badY = ridgeProblem({ X: train.X, y: train.y.subarray(0, 4) }, validation, lam, { regularization: 'scalar' })
    expect(E.isLeft(badY) && badY.left.kind).toBe('dimension')
    const nanX = Float64Array.from(train.X.data)
    nanX[4] = Number.NaN
    const badX = ridgeProblem({ X: matrix(5, 3, nanX), y: train.y }, validation, lam, { regularization: 'scalar' })
    expect(E.isLeft(badX) && badX.left.message).toContain('X[1, 1]')
    const wrongCols = ridgeProblem(train, makeData(3, 5, 4).validation, lam, { regularization: 'scalar' })
    expect(E.isLeft(wrongCols) && wrongCols.left.kind).toBe('dimension')
    expect(E.isLeft(ridgeProblem(train, validation, lam, { regularization: 'scalar', alpha: 0 }))).toBe(true)
    expect(() => orThrow(ridgeProblem(train, validation, lam, { regularization: 'scalar' })).lower.grad(new Float64Array(3), lam, Int32Array.of(5))).toThrow(RangeError)
  })

  it('no method writes to its arguments or to the data', () => {
    const { train, validation } = makeData(4, 6, 3)
    const lam = Float64Array.of(0.5, 1, 2)
    const snapData = [train.X.data, train.y, validation.X.data, validation.y].map((x) => Array.from(x))
    const prob = orThrow(ridgeProblem(train, validation, lam, { regularization: 'perFeature' }))
    const w = Float64Array.of(1, -2, 3)
    const u = Float64Array.of(0.1, 0.2, -0.3)
    const b = Int32Array.of(1, 4)
    const snap = [lam, w, u].map((x) => Array.from(x))
    prob.phi(w, lam), prob.jvpW(w, lam, u), prob.vjpW(w, lam, u), prob.jvpLambda(w, lam, u), prob.vjpLambda(w, lam, u)
    prob.phiHat(w, lam, b), prob.vjpWHat(w, lam, b, u), prob.vjpLambdaHat(w, lam, b, u), prob.jvpWHat(w, lam, b, u)
    prob.solution(lam), prob.hypergradient(lam), prob.upper(w, lam), prob.gradUpperW(w, lam), prob.lower.value(w, lam, b)
    expect([lam, w, u].map((x) => Array.from(x))).toEqual(snap)
    expect(Array.from(b)).toEqual([1, 4])
    expect([train.X.data, train.y, validation.X.data, validation.y].map((x) => Array.from(x))).toEqual(snapData)
  })
})

describe('ridge on CSR data', () => {
  const sparse = (seed: number, n: number, p: number, density: number): Dataset<CsrMatrix> => {
    const [u, r1] = R.uniforms(R.seed(seed), n * p)
    const [g, r2] = R.normals(r1, n * p)
    const [y] = R.normals(r2, n)
    return { X: csrFromDense(matrix(n, p, Float64Array.from(u, (x, i) => (x < density ? g[i]! : 0)))), y }
  }
  const same = (a: RVec, b: RVec): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

  it('gives the bits of the dense layout: values, gradients, Hessian products (full and minibatch), α and the closed form', () => {
    const tr = sparse(3, 30, 12, 0.3)
    const va = sparse(4, 20, 12, 0.3)
    const dense = (d: Dataset<CsrMatrix>): Dataset => ({ X: csrToDense(d.X), y: d.y })
    for (const reg of ['scalar', 'perFeature'] as const) {
      const lam = reg === 'scalar' ? Float64Array.of(0.7) : Float64Array.from({ length: 12 }, (_, j) => 0.2 + 0.1 * j)
      const a = orThrow(ridgeProblem(dense(tr), dense(va), lam, { regularization: reg }))
      const b = orThrow(ridgeProblem(tr, va, lam, { regularization: reg }))
      expect(Object.is(a.alpha, b.alpha)).toBe(true)
      const [w] = R.normals(R.seed(5), 12)
      const [u] = R.normals(R.seed(6), 12)
      const batch = Int32Array.of(4, 0, 29, 4)
      for (const bt of [undefined, batch]) {
        expect(same(a.lower.grad(w, lam, bt), b.lower.grad(w, lam, bt))).toBe(true)
        expect(same(a.lower.hvp(w, lam, u, bt), b.lower.hvp(w, lam, u, bt))).toBe(true)
        expect(Object.is(a.lower.value(w, lam, bt), b.lower.value(w, lam, bt))).toBe(true)
      }
      expect(same(a.gradUpperW(w, lam), b.gradUpperW(w, lam))).toBe(true)
      expect(same(a.hypergradient(lam), b.hypergradient(lam))).toBe(true)
    }
  })

  it('with more features than RIDGE_GRAM_MAX_FEATURES: matrix-free products equal XᵀX·u, L bounds λ_max(XᵀX) + max λ, AID meets the closed form', () => {
    const n = 25, p = RIDGE_GRAM_MAX_FEATURES + 76
    const tr = sparse(7, n, p, 0.01)
    const va = sparse(8, 15, p, 0.01)
    const lam = Float64Array.of(0.5)
    const prob = orThrow(ridgeProblem(tr, va, lam, { regularization: 'scalar' }))
    const X = csrToDense(tr.X)
    const [u] = R.normals(R.seed(9), p)
    // XᵀX u + λu, and λ_max(XᵀX) = λ_max(XXᵀ) (n × n), computed densely here.
    const xu = Float64Array.from({ length: n }, (_, i) => X.data.subarray(i * p, (i + 1) * p).reduce((s, x, j) => s + x * u[j]!, 0))
    const want = Float64Array.from(u, (x) => 0.5 * x)
    for (let i = 0; i < n; i++) for (let j = 0; j < p; j++) want[j] = want[j]! + X.data[i * p + j]! * xu[i]!
    expect(relErr(prob.lower.hvp(new Float64Array(p), lam, u), want)).toBeLessThan(1e-13)
    const K = matMul(X, transpose(X))
    const top = symmetricEigenvalues(K)[n - 1]!
    const L = prob.lower.curvature(lam).L
    expect(L).toBeGreaterThanOrEqual(top + 0.5)
    expect(L).toBeLessThanOrEqual((top + 0.5) * (1 + 1e-8))
    // Polyak's heavy ball for curvature in [τ, L] on Φ = w − α∇ℓ: step 4/(√L + √τ)², momentum ((√L − √τ)/(√L + √τ))².
    const { tau } = prob.lower.curvature(lam)
    const q = (Math.sqrt(L) - Math.sqrt(tau)) / (Math.sqrt(L) + Math.sqrt(tau))
    const hb = solvers.lower.heavyBall({ beta: q * q, eta: 4 / (Math.sqrt(L) + Math.sqrt(tau)) ** 2 / prob.alpha })
    const g = aid(prob, lam, { t: 3000, k: 300, lower: hb, linear: solvers.linear.conjugateGradient({ tol: 1e-13 }) })
    if (E.isLeft(g)) throw new Error(g.left.message)
    expect(g.right.status === 'diverged').toBe(false)
    expect(relErr(g.right.gradient!, prob.hypergradient(lam))).toBeLessThan(1e-7)
  })
})
