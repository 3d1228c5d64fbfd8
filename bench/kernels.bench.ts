/**
 * gemv and gemvT (src/linalg/kernels.ts) on the MNIST training matrix (5000 × 784, the
 * reference split of src/data/mnist.ts) and on minibatches of 50 rows, as the stochastic
 * solvers use them: a contiguous block of rows (a view, no copy) and 50 random rows by index
 * (one dot or axpy per row). Each row reports the GB/s of matrix bytes read next to the
 * memory-read probe of the same run, and their ratio; plain single-accumulator loops are
 * timed for comparison.
 */
import * as E from 'fp-ts/lib/Either.js'
import { dot, axpy, gemv, gemvT } from '../src/linalg/kernels.js'
import { mnistOddEven } from '../src/data/mnist.js'
import { integer, minibatch, seed, uniformsIn } from '../src/random/rng.js'
import { bandwidthRow, plainLoops, withBytes, type BenchContext, type Row } from './harness.js'

const BATCH = 50
const BATCHES = 1024 // distinct minibatches cycled through, so that one batch is not cache-hot

export default function kernels(ctx: BenchContext): ReadonlyArray<Row> {
  const data = mnistOddEven()
  if (E.isLeft(data)) throw new Error(data.left.message)
  const X = data.right.train.X.data as Float64Array
  const M = data.right.train.X.rows
  const N = data.right.train.X.cols
  const bytes = M * N * 8
  const mbBytes = BATCH * N * 8

  let rng = seed(20240601)
  const [w, r1] = uniformsIn(rng, N, -0.01, 0.01)
  const [r, r2] = uniformsIn(r1, M, -0.5, 0.5)
  rng = r2
  const y = new Float64Array(M)
  const z = new Float64Array(N)
  const yb = new Float64Array(BATCH)
  const rb = r.subarray(0, BATCH)

  // Check the kernels against the plain loops before timing anything.
  const yp = plainLoops.gemv(M, N, X, w, new Float64Array(M))
  gemv(M, N, 1, X, N, 0, w, 1, 0, 0, y, 1, 0)
  const zp = plainLoops.gemvT(M, N, X, r, new Float64Array(N))
  gemvT(M, N, 1, X, N, 0, r, 1, 0, 0, z, 1, 0)
  for (let i = 0; i < M; i++) if (Math.abs(y[i]! - yp[i]!) > 1e-9 * (1 + Math.abs(yp[i]!))) throw new Error(`gemv row ${i} disagrees`)
  for (let j = 0; j < N; j++) if (Math.abs(z[j]! - zp[j]!) > 1e-9 * (1 + Math.abs(zp[j]!))) throw new Error(`gemvT col ${j} disagrees`)

  // Minibatches: random block starts, and random row sets (without replacement).
  const starts = new Int32Array(BATCHES)
  const sets: Int32Array[] = []
  for (let b = 0; b < BATCHES; b++) {
    const [s, n1] = integer(rng, 0, M - BATCH)
    const [idx, n2] = minibatch(n1, M, BATCH)
    starts[b] = s
    sets.push(idx)
    rng = n2
  }
  let cursor = 0
  const next = (): number => (cursor = (cursor + 1) % BATCHES)

  const m = ctx.measure
  const rows: Row[] = []
  const add = (name: string, nbytes: number, fn: () => unknown, notes = ''): void => {
    rows.push(bandwidthRow(withBytes(m(name, fn), nbytes), ctx.probe, notes))
  }

  add(`gemv y = X·w, ${M}×${N}`, bytes, () => gemv(M, N, 1, X, N, 0, w, 1, 0, 0, y, 1, 0), 'one pass over X_tr (31.4 MB)')
  add(`gemvT z = Xᵀ·r, ${M}×${N}`, bytes, () => gemvT(M, N, 1, X, N, 0, r, 1, 0, 0, z, 1, 0), 'row by row, axpy per row')
  add(`plain loop gemv, ${M}×${N}`, bytes, () => plainLoops.gemv(M, N, X, w, y), 'single accumulator')
  add(`plain loop gemvT, ${M}×${N}`, bytes, () => plainLoops.gemvT(M, N, X, r, z), 'single pass, y[j] += c·A[i,j]')
  add(
    `gemv minibatch ${BATCH} rows, contiguous block`,
    mbBytes,
    () => gemv(BATCH, N, 1, X, N, starts[next()]! * N, w, 1, 0, 0, yb, 1, 0),
    `${BATCHES} random block starts cycled; 313.6 kB per call`,
  )
  add(
    `gemvT minibatch ${BATCH} rows, contiguous block`,
    mbBytes,
    () => gemvT(BATCH, N, 1, X, N, starts[next()]! * N, rb, 1, 0, 0, z, 1, 0),
    `${BATCHES} random block starts cycled`,
  )
  add(
    `gemv minibatch ${BATCH} random rows (dot per row)`,
    mbBytes,
    () => {
      const idx = sets[next()]!
      for (let k = 0; k < BATCH; k++) yb[k] = dot(N, X, 1, idx[k]! * N, w, 1, 0)
      return yb
    },
    `${BATCHES} random row sets cycled`,
  )
  add(
    `gemvT minibatch ${BATCH} random rows (axpy per row)`,
    mbBytes,
    () => {
      const idx = sets[next()]!
      z.fill(0)
      for (let k = 0; k < BATCH; k++) axpy(N, rb[k]!, X, 1, idx[k]! * N, z, 1, 0)
      return z
    },
    `${BATCHES} random row sets cycled`,
  )
  return rows
}
