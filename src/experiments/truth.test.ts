import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { Dataset } from '../data/dataset.js'
import { mnistOddEven } from '../data/mnist.js'
import { exact } from '../hypergrad/exact.js'
import { matrix, type RVec } from '../linalg/types.js'
import { logisticProblem, type Regularization } from '../problems/logistic.js'
import { normals, seed, split, uniformsIn } from '../random/rng.js'
import { logisticTruth, type LogisticTruth } from './truth.js'
import { estimateOf } from '../hypergrad/fixtures.test-util.js'
import { right } from './testing.test-util.js'

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.abs(b)

/** A small synthetic classification set: Gaussian features, labels from a noisy linear rule. */
const synthetic = (n: number, p: number, s: number): { readonly train: Dataset; readonly validation: Dataset } => {
  const [rX, rW, rN] = split(seed(s), 3) as [ReturnType<typeof seed>, ReturnType<typeof seed>, ReturnType<typeof seed>]
  const [x] = normals(rX, 2 * n * p)
  const [wTrue] = normals(rW, p)
  const [noise] = normals(rN, 2 * n)
  const y = new Float64Array(2 * n)
  for (let i = 0; i < 2 * n; i++) {
    let z = 0
    for (let j = 0; j < p; j++) z += x[i * p + j]! * wTrue[j]!
    y[i] = z + noise[i]! >= 0 ? 1 : -1
  }
  const part = (lo: number): Dataset => ({ X: matrix(n, p, x.slice(lo * p, (lo + n) * p)), y: y.slice(lo, lo + n) })
  return { train: part(0), validation: part(n) }
}

describe('logisticTruth', () => {
  // The peers' ground truth (RESULTS.md, numpy_ref.py: Newton + Cholesky in numpy, checked by
  // central differences) on the reference split of mnistOddEven, nTrain = nVal = 5000.
  const reference: ReadonlyArray<readonly [number, number, number]> = [
    [1000, 2006.7409594138, 3.044294024171e-1],
    [100, 1540.2339840624, 1.184173076414],
    [10, 1399.7450216176, 7.764032303827e-1],
    [1, 1486.0764816987, -7.229292724230e1],
  ]

  it('matches the independent numpy ground truth of RESULTS.md on the MNIST reference split to 1e-8', () => {
    const { train, validation } = right(mnistOddEven({ nTrain: 5000, nVal: 5000 }))
    let w0: RVec | undefined
    for (const [lambda, f, g] of reference) {
      const t: LogisticTruth = right(logisticTruth(train, validation, Float64Array.of(lambda), 'scalar', w0 === undefined ? {} : { w0 }))
      w0 = t.w
      expect(relErr(t.value, f)).toBeLessThan(1e-8)
      expect(relErr(t.gradient[0]!, g)).toBeLessThan(1e-8)
      expect(t.converged).toBe(true)
      expect(t.relGradNorm).toBeLessThanOrEqual(1e-12)
      expect(t.newtonResidual).toBeLessThanOrEqual(1e-10)
      expect(t.linearResidual).toBeLessThanOrEqual(1e-10)
    }
  })

  for (const regularization of ['scalar', 'perFeature'] as const) {
    it(`agrees with the library's exact() (Newton on w − Φ(w), LU) on a small problem (${regularization})`, () => {
      const { train, validation } = synthetic(60, 7, 3)
      const lambda = regularization === 'scalar' ? Float64Array.of(0.7) : uniformsIn(seed(5), 7, 0.2, 3)[0]
      const t = right(logisticTruth(train, validation, lambda, regularization))
      const problem = right(logisticProblem(train, validation, lambda, { regularization }))
      const ex = estimateOf(exact(problem, lambda))
      expect(t.converged).toBe(true)
      expect(relErr(t.value, ex.value)).toBeLessThan(1e-11)
      for (let i = 0; i < lambda.length; i++) expect(Math.abs(t.gradient[i]! - ex.gradient[i]!)).toBeLessThan(1e-9 * (1 + Math.abs(ex.gradient[i]!)))
      // AID's v (SID eq. 5 for Φ = w − α∇ℓ) is the truth's v divided by α.
      for (let i = 0; i < 7; i++) expect(Math.abs(ex.v[i]! - t.v[i]! / problem.alpha)).toBeLessThan(1e-8 * (1 + Math.abs(ex.v[i]!)))
    })
  }

  const fd = (regularization: Regularization, lambda: RVec, dir: RVec, h: number): number => {
    const { train, validation } = synthetic(80, 5, 11)
    const at = (s: number) => {
      const l = Float64Array.from(lambda, (x, i) => x + s * h * dir[i]!)
      return right(logisticTruth(train, validation, l, regularization)).value
    }
    return (at(1) - at(-1)) / (2 * h)
  }

  it('has ∇f equal to central differences of f (scalar and per feature)', () => {
    const { train, validation } = synthetic(80, 5, 11)
    const lam1 = Float64Array.of(0.5)
    const g1 = right(logisticTruth(train, validation, lam1, 'scalar')).gradient[0]!
    expect(Math.abs(fd('scalar', lam1, Float64Array.of(1), 1e-5) - g1)).toBeLessThan(1e-6 * (1 + Math.abs(g1)))
    const lamP = Float64Array.of(0.3, 1, 2, 0.7, 1.5)
    const dir = Float64Array.of(0.4, -1, 0.3, 0.8, -0.2)
    const gP = right(logisticTruth(train, validation, lamP, 'perFeature')).gradient
    let dd = 0
    for (let i = 0; i < 5; i++) dd += gP[i]! * dir[i]!
    expect(Math.abs(fd('perFeature', lamP, dir, 1e-5) - dd)).toBeLessThan(1e-6 * (1 + Math.abs(dd)))
  })

  it('returns typed errors for bad inputs and reports an unmet tolerance', () => {
    const { train, validation } = synthetic(20, 3, 1)
    const bad = logisticTruth(train, validation, Float64Array.of(-1), 'scalar')
    expect(E.isLeft(bad) && bad.left.kind).toBe('domain')
    const wrongLength = logisticTruth(train, validation, Float64Array.of(1, 2), 'perFeature')
    expect(E.isLeft(wrongLength) && wrongLength.left.kind).toBe('dimension')
    const w0 = logisticTruth(train, validation, Float64Array.of(1), 'scalar', { w0: new Float64Array(2) })
    expect(E.isLeft(w0) && w0.left.kind).toBe('dimension')
    const short = right(logisticTruth(train, validation, Float64Array.of(1), 'scalar', { maxNewton: 0 }))
    expect(short.converged).toBe(false)
    expect(short.reason).toMatch(/after 0 Newton steps/)
  })
})
