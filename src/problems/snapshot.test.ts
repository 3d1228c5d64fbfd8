// Data is a snapshot: a problem built from arrays behaves the same whatever the caller does to
// them afterwards, below and above the size at which the row engine copies the data into
// WebAssembly memory; building again on unchanged data reuses the snapshot, and building on
// changed data sees the change.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import type { DesignDataset } from '../data/dataset.js'
import { freezeDataset, isSnapshot } from '../data/snapshot.js'
import { csrFromDense, isCsr, storedEntries } from '../linalg/csr.js'
import { ROW_ENGINE_MIN_ENTRIES } from '../linalg/rows/engine.js'
import { matrix, type RVec } from '../linalg/types.js'
import type { ErmProblem } from '../problem/erm.js'
import { normals, seed, uniforms } from '../random/rng.js'
import { dataCleaningProblem } from './dataCleaning.js'
import { logisticProblem } from './logistic.js'
import { ridgeProblem } from './ridge.js'
import { softmaxProblem } from './softmax.js'

const same = (a: RVec, b: RVec): boolean => a.length === b.length && a.every((x, i) => Object.is(x, b[i]))

/** n × p with about 90% non-zero entries; labels ±1, real, or 3 classes. */
const data = (s: number, n: number, p: number, labels: 'binary' | 'real' | 'multiclass', csr: boolean): DesignDataset => {
  const [u, r1] = uniforms(seed(s), n * p)
  const [g, r2] = normals(r1, n * p)
  const [l] = uniforms(r2, n)
  const X = matrix(n, p, Float64Array.from(u, (x, i) => (x < 0.9 ? g[i]! : 0)))
  const y = Float64Array.from(l, (x) => (labels === 'binary' ? (x < 0.5 ? -1 : 1) : labels === 'real' ? x : Math.floor(3 * x)))
  return { X: csr ? csrFromDense(X) : X, y, ...(labels === 'multiclass' ? { nClasses: 3 } : {}) }
}

/** Everything a caller could overwrite: the values of X and the labels. */
const scribble = (d: DesignDataset): void => {
  const values = (isCsr(d.X) ? d.X.values : d.X.data) as Float64Array
  values.fill(3)
  ;(d.y as Float64Array).fill(d.nClasses !== undefined ? 0 : 1)
}

type Build = (train: DesignDataset, validation: DesignDataset, lam: RVec) => E.Either<unknown, ErmProblem>
const problems: ReadonlyArray<readonly [string, 'binary' | 'real' | 'multiclass', (n: number, p: number) => RVec, Build]> = [
  ['logistic', 'binary', () => Float64Array.of(0.5), (t, v, l) => logisticProblem(t, v, l, { regularization: 'scalar', alpha: 0.01 })],
  ['data cleaning', 'binary', (n) => new Float64Array(n).fill(0.3), (t, v, l) => dataCleaningProblem(t, v, l, { alpha: 0.01 })],
  ['ridge', 'real', () => Float64Array.of(0.5), (t, v, l) => ridgeProblem(t, v, l, { regularization: 'scalar', alpha: 0.001 })],
  ['softmax', 'multiclass', (_n, p) => new Float64Array(p).fill(0.2), (t, v, l) => softmaxProblem(t, v, l, { regularization: 'perFeature', alpha: 0.01 })],
]

describe('a problem keeps a snapshot of its data', () => {
  for (const [name, labels, lambdaOf, build] of problems)
    for (const [size, n, p] of [['below', 20, 12], ['above', 300, 250]] as const)
      for (const csr of [false, true])
        it(`${name}, ${csr ? 'CSR' : 'dense'}, ${size} the engine's threshold`, () => {
          const train = data(1, n, p, labels, csr)
          const validation = data(2, n, p, labels, csr)
          expect(storedEntries(train.X) >= ROW_ENGINE_MIN_ENTRIES).toBe(size === 'above')
          const lam = lambdaOf(n, p)
          const built = build(train, validation, lam)
          if (E.isLeft(built)) throw new Error(String(built.left))
          const prob = built.right
          const [w0] = normals(seed(3), prob.dim)
          const w = Float64Array.from(w0, (x) => 0.1 * x)
          const batch = Int32Array.of(1, 7, 7, n - 1)
          const outputs = (): RVec[] => [
            prob.phi(w, lam), prob.jvpW(w, lam, w), prob.vjpLambda(w, lam, w), prob.gradUpperW(w, lam),
            Float64Array.of(prob.upper(w, lam)), prob.phiHat(w, lam, batch),
          ]
          outputs()
          const before = outputs() // by now the engine serves the large matrices
          scribble(train)
          scribble(validation)
          const after = outputs()
          for (let k = 0; k < before.length; k++) expect(same(after[k]!, before[k]!)).toBe(true)
          // Built again on the changed arrays, the problem sees the change.
          const again = build(train, validation, lam)
          if (E.isLeft(again)) throw new Error(String(again.left))
          expect(same(again.right.gradUpperW(w, lam), before[3]!)).toBe(false)
        })

  it('building again on unchanged data shares the snapshot; a snapshot passed back is kept as it is', () => {
    const train = data(5, 30, 6, 'binary', false)
    const validation = data(6, 20, 6, 'binary', true)
    const lam = Float64Array.of(1)
    const a = logisticProblem(train, validation, lam, { regularization: 'scalar' })
    const b = logisticProblem(train, validation, Float64Array.of(2), { regularization: 'scalar' })
    if (E.isLeft(a) || E.isLeft(b)) throw new Error('build failed')
    const ta = (a.right.lower as unknown as { train: DesignDataset }).train
    const tb = (b.right.lower as unknown as { train: DesignDataset }).train
    expect(ta).toBe(tb)
    expect(ta).not.toBe(train)
    expect(isSnapshot(ta)).toBe(true)
    expect(ta.X).not.toBe(train.X)
    const c = logisticProblem(ta, validation, lam, { regularization: 'scalar' })
    if (E.isLeft(c)) throw new Error('build failed')
    expect((c.right.lower as unknown as { train: DesignDataset }).train).toBe(ta)
  })
})

describe('a frozen dataset is used as it is', () => {
  it('no copy: the problem reads the frozen arrays (the caller promised not to write them)', () => {
    const train = freezeDataset(data(7, 20, 5, 'binary', false))
    const validation = data(8, 10, 5, 'binary', false)
    const prob = logisticProblem(train, validation, Float64Array.of(1), { regularization: 'scalar' })
    if (E.isLeft(prob)) throw new Error('build failed')
    expect((prob.right.lower as unknown as { train: DesignDataset }).train).toBe(train)
    expect(isSnapshot(train)).toBe(true)
  })
})
