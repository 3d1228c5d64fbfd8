import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as ad from '../ad/index.js'
import type { Dataset } from '../data/dataset.js'
import { orThrow } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { itd } from '../hypergrad/itd.js'
import { sid } from '../hypergrad/sid.js'
import type { HypergradResult } from '../hypergrad/types.js'
import { symmetricEigenvalues } from '../linalg/matrix.js'
import { matrix, type RVec } from '../linalg/types.js'
import { tune, type HyperOracle } from '../outer/tune.js'
import { logisticProblem } from '../problems/logistic.js'
import * as R from '../random/rng.js'
import { constantOrThrow as constant } from '../schedule/schedule.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { stochasticFixedPoint } from '../solvers/linear/stochasticFixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { heavyBallParams } from '../solvers/params.js'
import { sgd } from '../solvers/lower/sgd.js'
import { adErmProblem, type AdErmOptions } from './adErm.js'
import type { ErmProblem } from './erm.js'

const data = (seed: number, n: number, p: number, labels: boolean): Dataset => {
  const [x, r] = R.normals(R.seed(seed), n * p)
  const [z] = R.normals(r, n)
  return { X: matrix(n, p, x), y: labels ? z.map((t) => (t >= 0 ? 1 : -1)) : z }
}
const train = data(1, 12, 4, true)
const validation = data(2, 8, 4, true)

const leftOf = <A>(e: E.Either<{ message: string }, A>): string => {
  if (E.isRight(e)) throw new Error('expected a Left')
  return e.left.message
}

/** Per-feature L2 logistic regression written with the engine. */
const logistic = (extra: Partial<AdErmOptions> = {}): E.Either<{ message: string }, ErmProblem> =>
  adErmProblem({
    name: 'adLogistic',
    dim: 4,
    hyperDim: 4,
    nSamples: 12,
    lower: (w, l, b) =>
      ad.add(ad.mul(b.scale, ad.sum(ad.softplus(ad.neg(ad.mul(b.rows(train.y), ad.matvec(b.rows(train.X), w)))))), ad.mul(0.5, ad.dot(l, ad.square(w)))),
    upper: (w) => ad.sum(ad.softplus(ad.neg(ad.mul(validation.y, ad.matvec(validation.X, w))))),
    lambda0: Float64Array.of(0.5, 1, 0.2, 2),
    tau: (l) => Math.min(...l),
    separable: true,
    ...extra,
  })

const gradientOf = (r: E.Either<{ message: string }, HypergradResult>): Float64Array => {
  const res = orThrow(r as E.Either<never, HypergradResult>)
  if (res.status === 'diverged') throw new Error('diverged')
  return res.gradient
}

const relGap = (a: RVec, b: RVec): number => {
  let d = 0, s = 0
  for (let i = 0; i < a.length; i++) ((d += (a[i]! - b[i]!) ** 2), (s += b[i]! ** 2))
  return Math.sqrt(d / s)
}

describe('adErmProblem: options and errors', () => {
  it('Lefts name the fault', () => {
    expect(leftOf(logistic({ nSamples: 0 }))).toMatch(/nSamples/)
    expect(leftOf(logistic({ lambda0: Float64Array.of(1) }))).toMatch(/λ₀ has length 1, expected 4/)
    expect(leftOf(logistic({ lower: (w) => w }))).toMatch(/scalar/)
    expect(leftOf(logistic({ upper: (w) => ad.matvec(validation.X, w) }))).toMatch(/scalar/)
    expect(leftOf(logistic({ lower: (w, l) => ad.sum(ad.add(ad.log(w), l)) }))).toMatch(/at w = curvatureAt and λ₀: .*log needs x > 0/)
    expect(leftOf(logistic({ lower: (w, l) => ad.add(ad.sum(w), ad.sum(l)), tau: undefined }))).toMatch(/0 < τ ≤ L/)
    expect(leftOf(logistic({ checkLambda: () => E.left({ _tag: 'HypergradError', kind: 'domain', message: 'custom: no' }) }))).toMatch(/custom: no/)
  })
  it('a non-differentiable point gives NaN (the solvers report divergence); a shape error throws a RangeError', () => {
    const p = orThrow(adErmProblem({
      dim: 2, hyperDim: 1, nSamples: 1, lambda0: Float64Array.of(1), curvatureAt: Float64Array.of(1, 1),
      lower: (w, l) => ad.add(ad.sum(ad.sub(ad.square(w), ad.log(w))), ad.mul(l, ad.dot(w, w))),
      upper: (w) => ad.sum(w),
    }))
    expect(p.phi(Float64Array.of(1, -1), Float64Array.of(1)).every(Number.isNaN)).toBe(true)
    expect(() => p.phi(Float64Array.of(1), Float64Array.of(1))).toThrow(RangeError)
  })
  it('τ and L default to the power-iteration estimates: exact for a quadratic ℓ', () => {
    const lam = Float64Array.of(0.5, 1, 0.2, 2)
    const p = orThrow(adErmProblem({
      dim: 4, hyperDim: 4, nSamples: 12, lambda0: lam,
      lower: (w, l, b) => {
        const r = ad.sub(ad.matvec(b.rows(train.X), w), b.rows(train.y))
        return ad.add(ad.mul(0.5 * b.scale, ad.dot(r, r)), ad.mul(0.5, ad.dot(l, ad.square(w))))
      },
      upper: (w) => ad.sum(ad.square(w)),
    }))
    const { X } = train
    const h = new Float64Array(16)
    for (let i = 0; i < 12; i++) for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) h[a * 4 + b]! += X.data[i * 4 + a]! * X.data[i * 4 + b]!
    for (let a = 0; a < 4; a++) h[a * 5]! += lam[a]!
    const ev = symmetricEigenvalues(matrix(4, 4, h))
    const c = p.lower.curvature(lam)
    expect(Math.abs(c.L / ev[3]! - 1)).toBeLessThan(1e-7)
    expect(c.L).toBeGreaterThanOrEqual(ev[3]!)
    expect(Math.abs(c.tau / ev[0]! - 1)).toBeLessThan(1e-6)
    expect(p.alpha).toBeCloseTo(2 / (c.L + c.tau), 12)
  })
})

describe('adErmProblem plugs into every method like the hand-written problem', () => {
  const lam = Float64Array.of(0.5, 1, 0.2, 2)
  const hand = orThrow(logisticProblem(train, validation, lam, { regularization: 'perFeature' }))
  const eng = orThrow(logistic({ alpha: hand.alpha }) as E.Either<never, ErmProblem>)
  const { tau, L } = hand.lower.curvature(lam)
  const hb = orThrow(heavyBallParams(tau, L, hand.alpha))
  it('aid (heavy ball + CG), itd (reverse), exact: the same hypergradient to 1e-10', () => {
    const run = (p: ErmProblem) => ({
      aid: gradientOf(aid(p, lam, { lower: heavyBall({ beta: hb.beta, eta: hb.eta }), linear: conjugateGradient({ tol: 1e-13 }), t: 400, k: 60 })),
      itd: gradientOf(itd(p, lam, { mode: 'reverse', t: 200 })),
      exact: gradientOf(exact(p, lam)),
    })
    const a = run(hand)
    const b = run(eng)
    expect(relGap(b.aid, a.aid)).toBeLessThan(1e-10)
    expect(relGap(b.itd, a.itd)).toBeLessThan(1e-10)
    expect(relGap(b.exact, a.exact)).toBeLessThan(1e-10)
    expect(relGap(b.aid, b.exact)).toBeLessThan(1e-8)
  })
  it('sid (SGD + stochastic fixed point, same seed): the same estimate', () => {
    const opts = { lower: sgd({ schedule: constant(0.5), batchSize: 3 }), linear: stochasticFixedPoint({ schedule: constant(0.5), batchSize: 3 }), t: 50, k: 50, seed: 7 }
    expect(relGap(gradientOf(sid(eng, lam, opts)), gradientOf(sid(hand, lam, opts)))).toBeLessThan(1e-10)
  })
  it('tune: the same λ trajectory', () => {
    const oracle = (p: ErmProblem): HyperOracle => ({ lambda }) => aid(p, lambda, { lower: heavyBall({ beta: hb.beta, eta: hb.eta }), linear: conjugateGradient({ tol: 1e-12 }), t: 300, k: 50 })
    const opts = { optimizer: 'gd' as const, steps: 3, stepSize: 0.05, logScale: true }
    const a = orThrow(tune(lam, oracle(hand), opts))
    const b = orThrow(tune(lam, oracle(eng), opts))
    expect(relGap(b.lambda, a.lambda)).toBeLessThan(1e-9)
  })
})
