/**
 * Row selection, seeded train/validation/test splits and label noise for the data-cleaning
 * experiment (`validate.ts` holds the checks of data coming from outside).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { hgError, type HypergradError } from '../errors.js'
import { csrRows, isCsr, type CsrMatrix, type DesignMatrix } from '../linalg/csr.js'
import { matrix, type Matrix } from '../linalg/types.js'
import { integer, permutation, sampleWithoutReplacement, type Rng } from '../random/rng.js'
import type { Dataset } from './dataset.js'

/** A fresh copy of a design matrix, in its layout. */
const copyOf = <M extends DesignMatrix>(X: M): M => {
  if (isCsr(X)) {
    const A: CsrMatrix = { layout: 'csr', rows: X.rows, cols: X.cols, indptr: X.indptr.slice(), indices: X.indices.slice(), values: X.values.slice() }
    return A as M
  }
  return matrix(X.rows, X.cols, Float64Array.from((X as Matrix).data)) as M
}

/** The same dataset with other labels (X shared, nClasses kept). */
const withLabels = <M extends DesignMatrix>(ds: Dataset<M>, X: M, y: Float64Array): Dataset<M> =>
  ds.nClasses === undefined ? { X, y } : { X, y, nClasses: ds.nClasses }

/**
 * The rows `indices` of a dataset, in that order (repeats allowed), as a fresh Dataset.
 * An index that is not an integer in [0, n) is a programmer error: RangeError.
 */
export const subsetRows = <M extends DesignMatrix = Matrix>(ds: Dataset<M>, indices: ArrayLike<number>): Dataset<M> => {
  const { rows: n, cols: p } = ds.X
  if (ds.y.length !== n) throw new RangeError(`subsetRows: X is ${n}×${p} but y has length ${ds.y.length}`)
  const m = indices.length
  const idx = new Int32Array(m)
  const y = new Float64Array(m)
  for (let r = 0; r < m; r++) {
    const i = indices[r]!
    if (!(Number.isInteger(i) && i >= 0 && i < n))
      throw new RangeError(`subsetRows: index ${i} (position ${r}) is outside the ${n} rows`)
    idx[r] = i
    y[r] = ds.y[i]!
  }
  const X0 = ds.X
  if (isCsr(X0)) return withLabels(ds, csrRows(X0, idx) as M, y)
  const data = (X0 as Matrix).data
  const X = new Float64Array(m * p)
  for (let r = 0; r < m; r++) X.set(data.subarray(idx[r]! * p, (idx[r]! + 1) * p), r * p)
  return withLabels(ds, matrix(m, p, X) as M, y)
}

/** The parts of a {@link shuffleSplit}, with the row indices (into the input) of each part. */
export interface ShuffleSplit<M extends DesignMatrix = Matrix> {
  readonly parts: ReadonlyArray<Dataset<M>>
  readonly indices: ReadonlyArray<Int32Array>
}

/**
 * Shuffle the rows with a uniformly random permutation drawn from `rng`, then cut the
 * shuffled order into consecutive parts of the given sizes (e.g. [nTrain, nVal, nTest]).
 * Sizes may sum to less than n (the remaining rows are left out), never to more. The same
 * rng gives the same split. Errors (kind `'config'`): a size that is not a non-negative
 * integer, or sizes summing to more than n.
 */
export const shuffleSplit = <M extends DesignMatrix = Matrix>(
  ds: Dataset<M>,
  sizes: ReadonlyArray<number>,
  rng: Rng,
): E.Either<HypergradError, ShuffleSplit<M>> => {
  const n = ds.X.rows
  let total = 0
  for (let k = 0; k < sizes.length; k++) {
    const s = sizes[k]!
    if (!(Number.isInteger(s) && s >= 0))
      return E.left(hgError('config', `shuffleSplit: sizes[${k}] must be a non-negative integer, got ${s}`))
    total += s
  }
  if (total > n) return E.left(hgError('config', `shuffleSplit: sizes [${sizes.join(', ')}] sum to ${total} > ${n} rows`))
  const [perm] = permutation(rng, n)
  const parts: Array<Dataset<M>> = []
  const indices: Int32Array[] = []
  let lo = 0
  for (const s of sizes) {
    const idx = perm.slice(lo, lo + s)
    indices.push(idx)
    parts.push(subsetRows(ds, idx))
    lo += s
  }
  return E.right({ parts, indices })
}

/** What a label corruption accepts as a label, and how it changes one (drawing from the rng, returning the next). */
interface Relabel {
  readonly isLabel: (l: number) => boolean
  /** What a rejected label is not, for its error. */
  readonly expected: string
  readonly relabel: (l: number, rng: Rng) => readonly [number, Rng]
}

/**
 * The label noise of {@link flipLabels} and {@link corruptLabels}: checks the fraction (kind
 * `'domain'`), then takes a Left `how` as it is and checks each label (kind `'data'`); draws
 * round(fraction · n) rows uniformly without replacement from `rng`, sorts them, and relabels
 * them in that order on a copy of y (X copied).
 */
const relabelRows = <M extends DesignMatrix>(
  what: string,
  ds: Dataset<M>,
  fraction: number,
  rng: Rng,
  how: E.Either<HypergradError, Relabel>,
): E.Either<HypergradError, { readonly data: Dataset<M>; readonly rows: Int32Array }> => {
  if (!(fraction >= 0 && fraction <= 1)) return E.left(hgError('domain', `${what}: fraction must be in [0, 1], got ${fraction}`))
  if (E.isLeft(how)) return how
  const { isLabel, expected, relabel } = how.right
  const n = ds.y.length
  for (let i = 0; i < n; i++) {
    const l = ds.y[i]!
    if (!isLabel(l)) return E.left(hgError('data', `${what}: y[${i}] = ${l} is ${expected}`))
  }
  const k = Math.round(fraction * n)
  const [drawn, r1] = k === 0 ? [new Int32Array(0), rng] : sampleWithoutReplacement(rng, n, k)
  const rows = drawn.sort()
  const y = Float64Array.from(ds.y)
  let r = r1
  for (const i of rows) [y[i], r] = relabel(y[i]!, r)
  return E.right({ data: withLabels(ds, copyOf(ds.X), y), rows })
}

/** y ← −y on labels ±1. */
const flip: Relabel = { isLabel: (l) => l === 1 || l === -1, expected: 'not ±1', relabel: (l, r) => [-l, r] }

/** One of the C − 1 other classes, uniformly, on labels 0…C−1. */
const otherClass = (C: number): Relabel => ({
  isLabel: (l) => Number.isInteger(l) && l >= 0 && l < C,
  expected: `not a class index in 0…${C - 1}`,
  relabel: (l, r) => {
    const [shift, next] = integer(r, 1, C - 1)
    return [(l + shift) % C, next]
  },
})

/**
 * Flip the labels (y ← −y) of round(fraction · n) rows chosen uniformly without replacement
 * from `rng` (Math.round: halves round up), for the data-cleaning experiment. Returns a fresh
 * dataset and the flipped row indices in increasing order. Errors: a fraction outside [0, 1]
 * (kind `'domain'`), a label that is not ±1 (kind `'data'`, naming the row).
 */
export const flipLabels = <M extends DesignMatrix = Matrix>(
  ds: Dataset<M>,
  fraction: number,
  rng: Rng,
): E.Either<HypergradError, { readonly data: Dataset<M>; readonly flipped: Int32Array }> =>
  pipe(relabelRows('flipLabels', ds, fraction, rng, E.right(flip)), E.map(({ data, rows }) => ({ data, flipped: rows })))

/**
 * Corrupt the labels of a multiclass dataset (labels 0…C−1, C = nClasses): round(fraction · n)
 * rows chosen uniformly without replacement from `rng` get a class drawn uniformly among the
 * C − 1 others (the corruption of Ehrhardt & Roberts' §4.2 data cleaning). Returns a fresh
 * dataset (X copied) and the corrupted rows in increasing order. Errors: a fraction outside
 * [0, 1] (kind `'domain'`), a dataset without nClasses ≥ 2 or a label outside 0…C−1 (kind `'data'`).
 */
export const corruptLabels = <M extends DesignMatrix = Matrix>(
  ds: Dataset<M>,
  fraction: number,
  rng: Rng,
): E.Either<HypergradError, { readonly data: Dataset<M>; readonly corrupted: Int32Array }> => {
  const C = ds.nClasses
  const how = Number.isInteger(C) && C! >= 2
    ? E.right(otherClass(C!))
    : E.left(hgError('data', `corruptLabels: the dataset has no nClasses ≥ 2 (got ${String(C)})`))
  return pipe(relabelRows('corruptLabels', ds, fraction, rng, how), E.map(({ data, rows }) => ({ data, corrupted: rows })))
}
