import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as ad from '../ad/index.js'
import { orThrow } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { itd } from '../hypergrad/itd.js'
import { luSolve, spectralNorm, transpose } from '../linalg/matrix.js'
import { matrix, type RVec, type Vec } from '../linalg/types.js'
import * as R from '../random/rng.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { adFixedPointProblem, type AdFixedPointOptions } from './adFixedPoint.js'

// Φ(w, λ) = M w + N λ + c (‖M‖ = 0.7), E(w, λ) = ½‖w − t‖² + (ρ/2)‖λ‖²:
// w(λ) = (I − M)⁻¹(Nλ + c),  ∇f(λ) = ρλ + Nᵀ(I − Mᵀ)⁻¹(w(λ) − t).
const d = 5
const m = 3
const rho = 0.1
const raw = R.normals(R.seed(5), d * d)[0]
const M = matrix(d, d, raw.map((x) => (0.7 * x) / spectralNorm(matrix(d, d, raw))))
const N = matrix(d, m, R.normals(R.seed(6), d * m)[0])
const c = R.normals(R.seed(7), d)[0]
const target = R.normals(R.seed(8), d)[0]

const opts = (extra: Partial<AdFixedPointOptions> = {}): AdFixedPointOptions => ({
  dim: d,
  hyperDim: m,
  phi: (w, l) => ad.add(ad.add(ad.matvec(M, w), ad.matvec(N, l)), c),
  upper: (w, l) => ad.add(ad.mul(0.5, ad.sum(ad.square(ad.sub(w, target)))), ad.mul(rho / 2, ad.dot(l, l))),
  lambda0: Float64Array.of(0.3, -1, 2),
  ...extra,
})

const closedForm = (lambda: RVec): Vec => {
  const IminusM = matrix(d, d, M.data.map((x, k) => (k % (d + 1) === 0 ? 1 : 0) - x))
  const rhs = Float64Array.from(c, (x, i) => x + N.data.slice(i * m, i * m + m).reduce((s, v, j) => s + v * lambda[j]!, 0))
  const w = luSolve(IminusM, rhs)!
  const v = luSolve(transpose(IminusM), w.map((x, i) => x - target[i]!))!
  return Float64Array.from(lambda, (l, j) => rho * l + v.reduce((s, vi, i) => s + N.data[i * m + j]! * vi, 0))
}

const gap = (a: RVec, b: RVec): number => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0) / b.reduce((s, x) => s + x * x, 0))

describe('adFixedPointProblem', () => {
  it('Lefts: Φ of the wrong size, E not a scalar, λ₀ of the wrong length, q ≥ 1', () => {
    const left = (o: AdFixedPointOptions): string => {
      const r = adFixedPointProblem(o)
      if (E.isRight(r)) throw new Error('expected a Left')
      return r.left.message
    }
    expect(left(opts({ phi: (_w, l) => l }))).toMatch(/expected 5/)
    expect(left(opts({ upper: (w) => w }))).toMatch(/scalar/)
    expect(left(opts({ lambda0: Float64Array.of(1) }))).toMatch(/λ₀ has length 1, expected 3/)
    expect(left(opts({ contraction: () => 1 }))).toMatch(/contraction/)
    expect(left(opts({ phi: (w, l) => ad.add(ad.mul(2, w), ad.sum(l)) }))).toMatch(/contraction constant is 2/)
  })
  it('the default contraction constant is ‖∂₁Φ‖₂ by power iteration (here ‖M‖₂ = 0.7)', () => {
    const p = orThrow(adFixedPointProblem(opts()))
    expect(Math.abs(p.contraction(Float64Array.of(0.3, -1, 2)) - 0.7)).toBeLessThan(1e-6)
    expect(p.symmetric).toBe(false)
  })
  it('exact, aid (fixed point + fixed point) and itd match the closed-form hypergradient', () => {
    const p = orThrow(adFixedPointProblem(opts({ contraction: () => 0.7 })))
    const lam = Float64Array.of(0.3, -1, 2)
    const truth = closedForm(lam)
    const grad = (r: E.Either<{ message: string }, { status: string; gradient: Vec | null }>): Vec => {
      const res = orThrow(r as E.Either<never, { status: string; gradient: Vec | null }>)
      if (res.status === 'diverged' || res.gradient === null) throw new Error('diverged')
      return res.gradient
    }
    expect(gap(grad(exact(p, lam)), truth)).toBeLessThan(1e-12)
    expect(gap(grad(aid(p, lam, { lower: fixedPointIteration(), linear: fixedPointLinear(), t: 120, k: 120 })), truth)).toBeLessThan(1e-12)
    expect(gap(grad(itd(p, lam, { mode: 'reverse', t: 120 })), truth)).toBeLessThan(1e-12)
  })
})
