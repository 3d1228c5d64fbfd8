// The problem constructors enforce the rules of the data readers (binary labels ±1, class
// indices 0…C−1, non-empty training and validation sets) and blame an overflowing step size on
// the data scale or λ that caused it, with both values — each as a one-line Left.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { DesignDataset } from '../data/dataset.js'
import { csrFromDense } from '../linalg/csr.js'
import { matrix, type Matrix, type RVec } from '../linalg/types.js'
import { dataCleaningProblem } from './dataCleaning.js'
import { logisticProblem } from './logistic.js'
import { ridgeProblem } from './ridge.js'

const ds = (y: number[], scale = 1): DesignDataset => ({
  X: matrix(y.length, 2, Float64Array.from({ length: 2 * y.length }, (_, k) => scale * Math.sin(k + 1))),
  y: Float64Array.from(y),
})
const empty: DesignDataset = { X: matrix(0, 2, new Float64Array(0)), y: new Float64Array(0) }
const message = (r: E.Either<{ readonly message: string }, unknown>): string => {
  if (E.isRight(r)) throw new Error('expected a Left')
  expect(r.left.message).not.toContain('\n')
  return r.left.message
}
const lam = Float64Array.of(1)
const logistic = (t: DesignDataset, v: DesignDataset, l: RVec = lam) => logisticProblem(t, v, l, { regularization: 'scalar' })
const cleaning = (t: DesignDataset, v: DesignDataset) => dataCleaningProblem(t, v, new Float64Array(t.X.rows))

describe('binary problems take ±1 labels and non-empty sets, as the libsvm reader does', () => {
  it('a label 2 or 0 in training or validation, dense or CSR, is a Left naming the set and the row', () => {
    const good = ds([1, -1, 1])
    expect(message(logistic(ds([1, 2, -1]), good))).toBe('logisticProblem: train: y[1] = 2 is not a binary label (expected −1 or +1)')
    expect(message(logistic(good, ds([0, 1])))).toBe('logisticProblem: validation: y[0] = 0 is not a binary label (expected −1 or +1)')
    const sparse = { ...ds([1, -1, 2]), X: csrFromDense(ds([1, -1, 2]).X as Matrix) }
    expect(message(cleaning(good, sparse))).toBe('dataCleaningProblem: validation: y[2] = 2 is not a binary label (expected −1 or +1)')
  })

  it('an empty validation set (or training set) is a Left', () => {
    expect(message(logistic(ds([1, -1]), empty))).toBe('logisticProblem: validation: needs at least 1 row, got 0')
    expect(message(cleaning(ds([1, -1]), empty))).toBe('dataCleaningProblem: validation: needs at least 1 row, got 0')
    expect(message(logistic(empty, ds([1])))).toBe('logisticProblem: train: needs at least 1 row, got 0')
    expect(message(ridgeProblem(ds([0.5, 2]), empty, lam, { regularization: 'scalar' }))).toBe('ridgeProblem: validation: needs at least 1 row, got 0')
  })
})

describe('an overflowing step size names its cause', () => {
  it('λ = 1e308: the message names λ and the data scale', () => {
    const m = message(logistic(ds([1, -1]), ds([1]), Float64Array.of(1e308)))
    expect(m).toMatch(/^logisticProblem: the step 2\/\(L \+ τ\) is 0 because λ reaches 1e\+308 \(data scale σ_max\(X\)² = [0-9.e+-]+, largest λ = 1e\+308\): lower λ$/)
    expect(message(ridgeProblem(ds([0.5, 2]), ds([1]), Float64Array.of(1e308), { regularization: 'scalar' }))).toMatch(/because λ reaches 1e\+308/)
  })

  it('data values of 1e308: the message names the data scale and λ', () => {
    for (const m of [message(logistic(ds([1, -1], 1e308), ds([1]))), message(cleaning(ds([1, -1], 1e308), ds([1])))])
      expect(m).toMatch(/the step 2\/\(L \+ τ\) is 0 because the data scale σ_max\(X\)² = Infinity is too large \(largest λ = [0-9.e+]+\): rescale the data$/)
  })
})
