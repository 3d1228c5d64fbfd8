/**
 * Checks of a dataset at the library boundary: shapes (and the CSR structure), finite entries,
 * labels of the right kind, train and validation sets that agree. Each returns a one-line
 * `HypergradError` naming the dataset and the first fault.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { csrMatrix, isCsr, type DesignMatrix } from '../linalg/csr.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { DesignDataset as Dataset } from './dataset.js'
import { snapshotDataset } from './snapshot.js'

/** The shape of X and y, and the CSR structure: a 'dimension' or 'data' error naming `what`. */
const checkShape = (what: string, d: Dataset): E.Either<HypergradError, void> => {
  const X = d.X
  if (isCsr(X)) {
    const c = csrMatrix(X.rows, X.cols, X.indptr, X.indices, X.values)
    if (E.isLeft(c)) return E.left(hgError(c.left.kind, `${what}: X ${c.left.message.replace(/^csr: /, '')}`))
  } else if (X.data.length !== X.rows * X.cols) {
    return E.left(hgError('dimension', `${what}: X is ${X.rows}×${X.cols} but holds ${X.data.length} entries`))
  }
  if (d.y.length !== X.rows) return E.left(hgError('dimension', `${what}: X has ${X.rows} rows but y has ${d.y.length} labels`))
  return E.right(undefined)
}

/** The first non-finite entry of X (row, column, value), or undefined. */
export const firstNonFinite = (X: DesignMatrix): { readonly i: number; readonly j: number; readonly v: number } | undefined => {
  if (isCsr(X)) {
    for (let i = 0; i < X.rows; i++)
      for (let q = X.indptr[i]!; q < X.indptr[i + 1]!; q++) if (!Number.isFinite(X.values[q]!)) return { i, j: X.indices[q]!, v: X.values[q]! }
    return undefined
  }
  const a = X.data
  for (let k = 0; k < a.length; k++) if (!Number.isFinite(a[k]!)) return { i: Math.floor(k / X.cols), j: k % X.cols, v: a[k]! }
  return undefined
}

/**
 * Validate a dataset: shapes agree (a valid CSR structure), at least `minRows` rows, every entry
 * of X and y finite. Returns a 'dimension' or 'data' error naming the dataset otherwise.
 */
export const validateDataset = <D extends Dataset>(what: string, d: D, minRows = 0): E.Either<HypergradError, D> => {
  const shape = checkShape(what, d)
  if (E.isLeft(shape)) return shape
  const rows = d.X.rows
  if (rows < minRows) return E.left(hgError('data', `${what}: needs at least ${minRows} ${minRows === 1 ? 'row' : 'rows'}, got ${rows}`))
  const bad = firstNonFinite(d.X)
  if (bad !== undefined) return E.left(hgError('data', `${what}: X[${bad.i}, ${bad.j}] = ${bad.v} is not finite`))
  for (let i = 0; i < rows; i++) if (!Number.isFinite(d.y[i]!)) return E.left(hgError('data', `${what}: y[${i}] = ${d.y[i]} is not finite`))
  return E.right(d)
}

/** Check that training and validation data have the same number of features. */
export const validateSplit = (what: string, train: Dataset, validation: Dataset): E.Either<HypergradError, void> =>
  train.X.cols === validation.X.cols
    ? E.right(undefined)
    : E.left(hgError('dimension', `${what}: train has ${train.X.cols} features but validation has ${validation.X.cols}`))

/**
 * Check the labels of a dataset: `'binary'` — every yᵢ ∈ {−1, +1}; `'multiclass'` — every yᵢ an
 * integer in [0, C) (C = nClasses ≥ 2); `'real'` — finite. A 'data' error names the first bad label.
 */
export const validateLabels = (what: string, d: Dataset, kind: 'binary' | 'multiclass' | 'real', nClasses?: number): E.Either<HypergradError, void> => {
  const y = d.y
  if (kind === 'multiclass' && !(Number.isInteger(nClasses) && nClasses! >= 2))
    return E.left(hgError('data', `${what}: a multiclass dataset needs nClasses ≥ 2, got ${String(nClasses)}`))
  for (let i = 0; i < y.length; i++) {
    const l = y[i]!
    if (kind === 'binary' && l !== 1 && l !== -1) return E.left(hgError('data', `${what}: y[${i}] = ${l} is not a binary label (expected −1 or +1)`))
    if (kind === 'multiclass' && !(Number.isInteger(l) && l >= 0 && l < nClasses!))
      return E.left(hgError('data', `${what}: y[${i}] = ${l} is not a class index in 0…${nClasses! - 1}`))
    if (!Number.isFinite(l)) return E.left(hgError('data', `${what}: y[${i}] = ${l} is not finite`))
  }
  return E.right(undefined)
}

/**
 * The checks a problem makes of its training and validation sets: at least one row each,
 * finite, the same number of features, labels of the given kind (binary ±1, class indices in
 * 0…C−1, or real). Returns the snapshots of both (`snapshot.ts`), which the problem keeps.
 */
export const validateLabelledSplit = (
  who: string, train: Dataset, validation: Dataset, labels: 'binary' | 'multiclass' | 'real', nClasses?: number,
): E.Either<HypergradError, { readonly train: Dataset; readonly validation: Dataset }> => {
  const tr = snapshotDataset(train)
  const va = snapshotDataset(validation)
  return pipe(
    validateDataset(`${who}: train`, tr, 1),
    E.chain(() => validateDataset(`${who}: validation`, va, 1)),
    E.chain(() => validateSplit(who, tr, va)),
    E.chain(() => validateLabels(`${who}: train`, tr, labels, nClasses)),
    E.chain(() => validateLabels(`${who}: validation`, va, labels, nClasses)),
    E.map(() => ({ train: tr, validation: va })),
  )
}

/**
 * Check that a dataset is well formed and finite: X holds rows × cols entries (or a valid CSR
 * structure) and y has one label per row (else kind `'dimension'`), and no entry of X or y is
 * NaN or ±∞ (else kind `'data'`, naming the dataset, the first offending entry and its value,
 * e.g. `train: X[17, 3] is NaN`). Returns the dataset itself on success.
 */
export const checkFinite = <D extends Dataset>(ds: D, name: string): E.Either<HypergradError, D> => {
  const X = ds.X
  if (!isCsr(X) && X.data.length !== X.rows * X.cols)
    return E.left(hgError('dimension', `${name}: X is ${X.rows}×${X.cols} but holds ${X.data.length} entries`))
  if (ds.y.length !== X.rows) return E.left(hgError('dimension', `${name}: X has ${X.rows} rows but y has length ${ds.y.length}`))
  const shape = checkShape(name, ds)
  if (E.isLeft(shape)) return shape
  const bad = firstNonFinite(X)
  if (bad !== undefined) return E.left(hgError('data', `${name}: X[${bad.i}, ${bad.j}] is ${bad.v}`))
  for (let i = 0; i < X.rows; i++) {
    const v = ds.y[i]!
    if (!Number.isFinite(v)) return E.left(hgError('data', `${name}: y[${i}] is ${v}`))
  }
  return E.right(ds)
}
