import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { orThrow, type HypergradError } from '../errors.js'
import { matMul, spectralNorm, symmetricEigenvalues, transpose } from '../linalg/matrix.js'
import { gemv, gemvT } from '../linalg/kernels.js'
import { matrix, type Matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import type { BilevelProblem } from './bilevel.js'
import type { LowerObjective } from './erm.js'
import { contractionEstimate, curvatureAt, powerIteration, stepFor } from './constants.js'

const mv = (a: Matrix) => (v: RVec): Vec => gemv(a.rows, a.cols, 1, a.data, a.cols, 0, v, 1, 0, 0, new Float64Array(a.rows), 1, 0)
const mtv = (a: Matrix) => (v: RVec): Vec => gemvT(a.rows, a.cols, 1, a.data, a.cols, 0, v, 1, 0, 0, new Float64Array(a.cols), 1, 0)
const gaussian = (seed: number, rows: number, cols: number): Matrix => matrix(rows, cols, R.normals(R.seed(seed), rows * cols)[0])
const symmetric = (seed: number, n: number): Matrix => {
  const g = gaussian(seed, n, n)
  return matrix(n, n, Float64Array.from(g.data, (x, k) => 0.5 * (x + g.data[(k % n) * n + Math.floor(k / n)]!)))
}
/** A random symmetric positive definite matrix GᵀG + shift·I. */
const spd = (seed: number, n: number, shift: number): Matrix => {
  const g = gaussian(seed, n, n)
  const a = matMul(transpose(g), g)
  return matrix(n, n, Float64Array.from(a.data, (x, k) => x + (Math.floor(k / n) === k % n ? shift : 0)))
}
/** The lower objective ½wᵀAw − wᵀBλ (Hessian A everywhere), written inline for the test. */
const quadraticLower = (A: Matrix, m: number): LowerObjective => ({
  name: 'test-quadratic',
  dim: A.rows,
  hyperDim: m,
  nSamples: 1,
  separable: true,
  checkLambda: (l) => E.right(l),
  value: (w) => 0.5 * w.reduce((s, x, i) => s + x * mv(A)(w)[i]!, 0),
  grad: (w) => mv(A)(w),
  hvp: (_w, _l, u) => mv(A)(u),
  crossJvp: () => new Float64Array(A.rows),
  crossVjp: () => new Float64Array(m),
  curvature: () => ({ tau: Number.NaN, L: Number.NaN }),
})
/** A (non-symmetric) linear map Φ(w) = Mw as a bilevel problem, only the ∂₁Φ products used. */
const linearProblem = (M: Matrix): BilevelProblem => ({
  name: 'test-linear',
  dim: M.rows,
  hyperDim: 1,
  symmetric: false,
  checkLambda: (l) => E.right(l),
  contraction: () => Number.NaN,
  phi: (w) => mv(M)(w),
  jvpW: (_w, _l, u) => mv(M)(u),
  vjpW: (_w, _l, v) => mtv(M)(v),
  jvpLambda: () => new Float64Array(M.rows),
  vjpLambda: () => new Float64Array(1),
  upper: () => 0,
  gradUpperW: (w) => new Float64Array(w.length),
  gradUpperLambda: () => new Float64Array(1),
})

const sizes = fc.record({ n: fc.integer({ min: 1, max: 8 }), seed: fc.integer({ min: 0, max: 1_000_000 }) })

describe('powerIteration', () => {
  it('finds the largest |eigenvalue| of random symmetric matrices, from below', () => {
    fc.assert(
      fc.property(sizes, ({ n, seed }) => {
        const A = symmetric(seed, n)
        const ev = symmetricEigenvalues(A)
        const truth = Math.max(Math.abs(ev[0]!), Math.abs(ev[n - 1]!))
        const r = orThrow(powerIteration(mv(A), n, R.seed(seed + 1), { iters: 5000, tol: 1e-14 }))
        expect(r.value).toBeLessThanOrEqual(truth * (1 + 1e-12))
        expect(r.value).toBeGreaterThanOrEqual(truth * (1 - 1e-6))
        expect(r.iterations).toBeLessThanOrEqual(5000)
        expect(Math.hypot(...r.vector)).toBeCloseTo(1, 12)
      }),
    )
  })

  it('returns a dominant eigenvector when the top eigenvalue is well separated', () => {
    // A = Q diag(s) Qᵀ with s = (1, …, 1, 3): the eigenvector is Q's last column.
    const n = 6
    const g = gaussian(3, n, n)
    const q = gramSchmidt(g)
    const s = [1, 1, 1, 1, 1, 3]
    const A = matrix(n, n, Float64Array.from({ length: n * n }, (_, k) => {
      const i = Math.floor(k / n)
      const j = k % n
      let acc = 0
      for (let l = 0; l < n; l++) acc += q.data[i * n + l]! * s[l]! * q.data[j * n + l]!
      return acc
    }))
    const r = orThrow(powerIteration(mv(A), n, R.seed(4)))
    expect(r.value).toBeCloseTo(3, 9)
    const top = Float64Array.from({ length: n }, (_, i) => q.data[i * n + n - 1]!)
    const cos = Math.abs(r.vector.reduce((acc, x, i) => acc + x * top[i]!, 0))
    expect(cos).toBeGreaterThan(1 - 1e-9)
    expect(r.iterations).toBeLessThan(100)
  })

  it('is reproducible, handles the zero operator, rejects bad inputs with a Left naming them, and never writes to the operator output', () => {
    const A = symmetric(8, 5)
    const a = orThrow(powerIteration(mv(A), 5, R.seed(2)))
    const b = orThrow(powerIteration(mv(A), 5, R.seed(2)))
    expect(a.value).toBe(b.value)
    expect(Array.from(a.vector)).toEqual(Array.from(b.vector))
    expect(orThrow(powerIteration(() => new Float64Array(3), 3, R.seed(1))).value).toBe(0)
    const left = (e: E.Either<HypergradError, unknown>): HypergradError => {
      if (E.isRight(e)) throw new Error('expected a Left')
      return e.left
    }
    expect(left(powerIteration(mv(A), 0, R.seed(1)))).toMatchObject({ kind: 'dimension', message: 'powerIteration: dimension must be a positive integer, got 0' })
    expect(left(powerIteration(mv(A), 5, R.seed(1), { iters: 0 })).kind).toBe('domain')
    expect(left(powerIteration(mv(A), 5, R.seed(1), { tol: Number.NaN })).kind).toBe('domain')
    expect(left(powerIteration(() => new Float64Array(4), 5, R.seed(1))).message).toBe('powerIteration: operator returned length 4, expected 5')
    expect(left(powerIteration(() => Float64Array.of(Number.NaN, 0), 2, R.seed(1))).message).toMatch(/non-finite vector at iteration 1$/)
    const kept = Float64Array.of(3, 4)
    powerIteration(() => kept, 2, R.seed(1))
    expect(Array.from(kept)).toEqual([3, 4])
  })
})

describe('curvatureAt and contractionEstimate', () => {
  it('curvatureAt gives the extreme Hessian eigenvalues of random SPD quadratics', () => {
    fc.assert(
      fc.property(sizes, fc.double({ min: 0.01, max: 2, noNaN: true }), ({ n, seed }, shift) => {
        const A = spd(seed, n, shift)
        const ev = symmetricEigenvalues(A)
        const w = new Float64Array(n)
        const { tau, L } = orThrow(curvatureAt(quadraticLower(A, 2), w, new Float64Array(2), R.seed(seed + 2), { iters: 20000, tol: 1e-15 }))
        const lmax = ev[n - 1]!
        expect(Math.abs(L - lmax)).toBeLessThan(1e-8 * lmax)
        // τ is resolved to an accuracy relative to L (it is L minus the top of L·I − H).
        expect(Math.abs(tau - ev[0]!)).toBeLessThan(1e-6 * lmax)
      }),
      { numRuns: 20 },
    )
  })

  it('contractionEstimate gives ‖∂₁Φ‖₂ of random non-symmetric linear maps', () => {
    fc.assert(
      fc.property(sizes, ({ n, seed }) => {
        const M = gaussian(seed, n, n)
        const truth = spectralNorm(M)
        const est = orThrow(contractionEstimate(linearProblem(M), new Float64Array(n), new Float64Array(1), R.seed(seed + 3), { iters: 20000, tol: 1e-15 }))
        expect(est).toBeLessThanOrEqual(truth * (1 + 1e-12))
        expect(est).toBeGreaterThanOrEqual(truth * (1 - 1e-6))
      }),
    )
  })

  it('stepFor is α = 2/(L+τ), the step that makes w − α∇ℓ contract at (L−τ)/(L+τ)', () => {
    const A = spd(11, 5, 0.5)
    const ev = symmetricEigenvalues(A)
    const c = { tau: ev[0]!, L: ev[4]! }
    const alpha = stepFor(c)
    expect(alpha).toBe(2 / (c.L + c.tau))
    const I_aA = matrix(5, 5, Float64Array.from(A.data, (x, k) => (Math.floor(k / 5) === k % 5 ? 1 : 0) - alpha * x))
    expect(spectralNorm(I_aA)).toBeCloseTo((c.L - c.tau) / (c.L + c.tau), 10)
  })

  it('rejects mismatched w and λ lengths with a Left', () => {
    const A = spd(1, 3, 1)
    const kindOf = (e: E.Either<HypergradError, unknown>): string | undefined => (E.isLeft(e) ? e.left.kind : undefined)
    expect(kindOf(curvatureAt(quadraticLower(A, 2), new Float64Array(2), new Float64Array(2), R.seed(0)))).toBe('dimension')
    expect(kindOf(curvatureAt(quadraticLower(A, 2), new Float64Array(3), new Float64Array(1), R.seed(0)))).toBe('dimension')
    expect(kindOf(contractionEstimate(linearProblem(A), new Float64Array(4), new Float64Array(1), R.seed(0)))).toBe('dimension')
  })
})

/** An orthogonal matrix from Gram–Schmidt on the columns of g (test-local, independent of the library's). */
function gramSchmidt(g: Matrix): Matrix {
  const n = g.rows
  const cols: number[][] = []
  for (let j = 0; j < n; j++) {
    const v = Array.from({ length: n }, (_, i) => g.data[i * n + j]!)
    for (const u of cols) {
      const d = u.reduce((s, x, i) => s + x * v[i]!, 0)
      for (let i = 0; i < n; i++) v[i] = v[i]! - d * u[i]!
    }
    const nv = Math.hypot(...v)
    cols.push(v.map((x) => x / nv))
  }
  return matrix(n, n, Float64Array.from({ length: n * n }, (_, k) => cols[k % n]![Math.floor(k / n)]!))
}
