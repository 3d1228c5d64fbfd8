/**
 * Synthetic text-like multiclass data in CSR: the stand-in for 20 Newsgroups (news20, 19,996
 * documents × 1,355,191 features, about 455 stored entries per row, 20 classes), which cannot
 * be downloaded here. The rows are drawn as the peer script `sparse_ref.py` (`make news20`)
 * draws its binary sets, with class labels in place of signs:
 *
 *  - column popularity pⱼ ∝ 1/j^0.9 (Zipf-like word frequencies), over a random permutation
 *    of the columns, so that popular words are scattered;
 *  - a row has max(1, Poisson(nnzPerRow)) draws from that popularity, duplicates merged;
 *  - its values are log-normal (μ = 0, σ = 0.5), then the row is scaled to unit L2 norm (the
 *    tf-idf-like preprocessing of rcv1 and news20);
 *  - labels: a sparse linear model, max(10, ⌊d/50⌋) informative columns with weights N(0, 3²)
 *    per class, and yᵢ = argmax_c (xᵢᵀW_{:,c} + 0.3 ξ_{ic}), ξ standard normal.
 *
 * The same options give the same data (the library's seeded random streams); the numbers are
 * not those of the Python script (another generator), only the recipe is.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { csrMatrix } from '../linalg/csr.js'
import { normals, permutation, sampleWithoutReplacement, seed as rngSeed, split, uniforms, type Rng } from '../random/rng.js'
import type { SparseDataset } from './dataset.js'

/** Options of {@link textLikeClasses}. */
export interface TextLikeOptions {
  /** Rows (documents), ≥ 1. */
  readonly rows: number
  /** Columns (the vocabulary), ≥ 1. */
  readonly cols: number
  /** Mean stored entries per row before duplicates merge (the Poisson mean), > 0. */
  readonly nnzPerRow: number
  /** Classes C ≥ 2 (labels 0…C−1). */
  readonly classes: number
  /** Integer seed. */
  readonly seed: number
}

/** Zipf exponent of the column popularity, as in sparse_ref.py. */
const ZIPF = 0.9

/** The first index whose cumulative popularity exceeds u (numpy's searchsorted, side 'right'), clipped to the last column. */
const searchRight = (cdf: Float64Array, u: number): number => {
  let lo = 0
  let hi = cdf.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (cdf[mid]! <= u) lo = mid + 1
    else hi = mid
  }
  return Math.min(lo, cdf.length - 1)
}

/** One Poisson(mean) draw by counting unit-rate exponential arrivals before `mean`. */
const poisson = (r: Rng, mean: number): readonly [number, Rng] => {
  let count = 0
  let t = 0
  let rng = r
  for (;;) {
    const [u, next] = uniforms(rng, 64)
    rng = next
    for (let i = 0; i < u.length; i++) {
      t -= Math.log(1 - u[i]!)
      if (t > mean) return [count, rng]
      count++
    }
  }
}

/**
 * Text-like sparse rows with class labels (see the module comment): a CSR dataset with
 * `nClasses` = classes. Errors (kind 'config', naming the option): sizes that are not positive
 * integers, classes < 2, a non-positive or non-finite nnzPerRow, a non-integer seed.
 */
export const textLikeClasses = (opts: TextLikeOptions): E.Either<HypergradError, SparseDataset> => {
  const bad = (what: string): E.Either<HypergradError, never> => E.left(hgError('config', `textLikeClasses: ${what}`))
  for (const [k, v] of [['rows', opts.rows], ['cols', opts.cols]] as const)
    if (!(Number.isSafeInteger(v) && v >= 1)) return bad(`${k} must be an integer ≥ 1, got ${v}`)
  if (!(Number.isSafeInteger(opts.classes) && opts.classes >= 2)) return bad(`classes must be an integer ≥ 2, got ${opts.classes}`)
  if (!(Number.isFinite(opts.nnzPerRow) && opts.nnzPerRow > 0)) return bad(`nnzPerRow must be finite and > 0, got ${opts.nnzPerRow}`)
  if (!Number.isSafeInteger(opts.seed)) return bad(`seed must be an integer, got ${opts.seed}`)
  const { rows: n, cols: d, classes: C } = opts
  const [rPerm, rRows, rModel, rNoise] = split(rngSeed(opts.seed), 4) as [Rng, Rng, Rng, Rng]
  const cdf = new Float64Array(d)
  let total = 0
  for (let j = 0; j < d; j++) total += 1 / Math.pow(j + 1, ZIPF)
  let acc = 0
  for (let j = 0; j < d; j++) {
    acc += 1 / Math.pow(j + 1, ZIPF) / total
    cdf[j] = acc
  }
  const [perm] = permutation(rPerm, d)
  const indptr = new Int32Array(n + 1)
  const cols: number[] = []
  const vals: number[] = []
  let r = rRows
  for (let i = 0; i < n; i++) {
    const [k, r1] = poisson(r, opts.nnzPerRow)
    const [u, r2] = uniforms(r1, Math.max(1, k))
    const picked = [...new Set(Array.from(u, (x) => perm[searchRight(cdf, x)]!))].sort((a, b) => a - b)
    const [z, r3] = normals(r2, picked.length)
    r = r3
    let ss = 0
    const v = Array.from(z, (x) => Math.exp(0.5 * x))
    for (const x of v) ss += x * x
    const s = 1 / Math.sqrt(ss)
    for (let q = 0; q < picked.length; q++) {
      cols.push(picked[q]!)
      vals.push(v[q]! * s)
    }
    indptr[i + 1] = cols.length
  }
  const X = csrMatrix(n, d, indptr, Int32Array.from(cols), Float64Array.from(vals))
  if (E.isLeft(X)) return X
  // The label model: informative columns with N(0, 3²) weights per class.
  const m = Math.min(d, Math.max(10, Math.floor(d / 50)))
  const [informative, r4] = sampleWithoutReplacement(rModel, d, m)
  const [weights] = normals(r4, m * C)
  const W = new Map<number, number>()
  informative.forEach((j, q) => W.set(j, q))
  const [noise] = normals(rNoise, n * C)
  const y = new Float64Array(n)
  const score = new Float64Array(C)
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) score[c] = 0.3 * noise[i * C + c]!
    for (let p = indptr[i]!; p < indptr[i + 1]!; p++) {
      const q = W.get(cols[p]!)
      if (q !== undefined) for (let c = 0; c < C; c++) score[c] = score[c]! + vals[p]! * 3 * weights[q * C + c]!
    }
    let best = 0
    for (let c = 1; c < C; c++) if (score[c]! > score[best]!) best = c
    y[i] = best
  }
  return E.right({ X: X.right, y, nClasses: C })
}
