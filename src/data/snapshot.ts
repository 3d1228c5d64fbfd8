/**
 * Data is a snapshot. A problem copies the datasets it is built from, once, at construction, and
 * works on its copy from then on: it behaves the same whatever the caller does to the arrays
 * afterwards, at every size (the row engine's copy in WebAssembly memory and the cached
 * σ_max(X)² are taken from the snapshot, so they can never go stale).
 *
 * Copies are shared: the snapshot of a dataset is remembered per source array, and the next
 * request for the same source compares it byte for byte with the snapshot (at memory speed) and
 * returns the same snapshot when nothing changed. A tuning loop that rebuilds its problem at
 * every λ thus copies its data once, and keeps the engine and the cached constants of the first
 * build. A snapshot passed back in is returned as it is.
 *
 * Or frozen. Typed arrays cannot be frozen, but a caller can hand a dataset over with
 * {@link freezeDataset}: the problems then use its arrays as they are, without a copy, and the
 * caller promises never to write to them again. The experiments do so with the splits they keep
 * in shared memory for their worker threads, which a copy per worker would multiply.
 */
import { Buffer } from 'node:buffer'
import { isCsr, type CsrMatrix, type DesignMatrix } from '../linalg/csr.js'
import type { Matrix, RVec } from '../linalg/types.js'
import type { DesignDataset as Dataset } from './dataset.js'

type Typed = Readonly<Float64Array> | Readonly<Int32Array>

const owned = new WeakSet<object>()
const latest = new WeakMap<object, Dataset>()

const bytes = (a: Typed): Buffer => Buffer.from(a.buffer as ArrayBuffer, a.byteOffset, a.byteLength)
const same = (a: Typed, b: Typed): boolean => a.length === b.length && bytes(a).equals(bytes(b))

const copyMatrix = (X: DesignMatrix): DesignMatrix => {
  if (isCsr(X)) {
    const A: CsrMatrix = {
      layout: 'csr',
      rows: X.rows,
      cols: X.cols,
      indptr: X.indptr.slice(0, X.rows + 1),
      indices: X.indices.slice(),
      values: X.values.slice(),
    }
    return A
  }
  const D: Matrix = { rows: X.rows, cols: X.cols, data: X.data.slice() }
  return D
}

const unchanged = (snap: Dataset, d: Dataset): boolean => {
  const a = snap.X, b = d.X
  if (a.rows !== b.rows || a.cols !== b.cols || snap.nClasses !== d.nClasses || !same(snap.y, d.y)) return false
  if (isCsr(a) && isCsr(b)) return same(a.indptr.subarray(0, a.rows + 1), b.indptr.subarray(0, b.rows + 1)) && same(a.indices, b.indices) && same(a.values, b.values)
  if (!isCsr(a) && !isCsr(b)) return same(a.data, b.data)
  return false
}

const valuesOf = (X: DesignMatrix): RVec => (isCsr(X) ? X.values : X.data)

/** True when `d` is a snapshot taken by {@link snapshotDataset}. */
export const isSnapshot = (d: Dataset): boolean => owned.has(d)

/**
 * The library's own copy of a dataset (see the module comment): fresh arrays that no caller
 * holds, shared between requests for the same unchanged source. Shapes are not checked here.
 */
export const snapshotDataset = <D extends Dataset>(d: D): D => {
  if (owned.has(d)) return d
  const key = valuesOf(d.X)
  const hit = latest.get(key)
  if (hit !== undefined && unchanged(hit, d)) return hit as D
  const copy = { ...d, X: copyMatrix(d.X), y: d.y.slice() } as D
  owned.add(copy)
  latest.set(key, copy)
  return copy
}

/**
 * Hand a dataset over to the library: problems built from it use its arrays as they are (no
 * copy), as they use a snapshot. The caller must not write to its arrays afterwards — the
 * library then behaves as if it had taken a snapshot at this call. Returns the same dataset.
 */
export const freezeDataset = <D extends Dataset>(d: D): D => {
  owned.add(d)
  return d
}
