/**
 * What a planned computation costs, estimated from the sizes before any work, and the check
 * of those costs against the machine (resources.ts) and a time limit.
 *
 * Time. A computation is counted in passes over the data matrix (a pass of a problem with n
 * rows and d columns reads nnz = n·d entries, dense: one Φ, one Hessian-vector product, each a
 * fused row pass), in dense d × d multiply-adds (`exact`), and in steps, at the library's best
 * measured speeds (docs/performance.md: a full logistic gradient on 5000 × 784 in 1.43 ms,
 * 2.7·10⁹ entries per second with WebAssembly SIMD; the dense Hessian XᵀDX and its Cholesky
 * factor in 180 ms, 1.7·10¹⁰ multiply-adds per second), rounded up to {@link SPEED}. An
 * estimate is thus on the fast side: a run refused as longer than the limit would take at
 * least about that long. Counts that are caps (t with a tolerance that may stop it earlier)
 * are counted in full: a cap is a promise of at most that much work, and it is the cap that
 * must be affordable.
 *
 * Memory. What a computation keeps (ITD reverse's t iterates, `exact`'s d × d matrices, an
 * experiment's results), in bytes, with the JavaScript objects counted apart: they live on a
 * heap of its own limit (about 4 GB by default, whatever the machine has).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { formatBytes, formatCount, formatSeconds, type Resources } from './resources.js'

/** The speed assumed by the estimates (optimistic: estimates are lower bounds on time). */
export const SPEED = {
  /** Data-matrix entries read per second in fused row passes. */
  entriesPerSecond: 4e9,
  /** Multiply-adds per second of dense, blocked d × d work (a Hessian XᵀDX, a Cholesky factor). */
  denseMultiplyAddsPerSecond: 3e10,
  /**
   * The fixed cost of one solver step (drawing a minibatch, allocating the new iterate, the
   * loop), whatever the data: 3–10 µs measured for AID, SID and ITD steps on a 40 × 4 problem.
   */
  secondsPerStep: 3e-6,
  /** The fixed cost of one outer step of `tune` (the problem rebuilt at the new λ, the step recorded): 0.1 ms and more measured. */
  secondsPerOuterStep: 1e-4,
} as const

/** Bytes of a JavaScript object that holds a typed array or a few numbers (header, fields). */
export const OBJECT_BYTES = 160

/**
 * What a kept solver state costs beyond its d numbers: the state object, its counts, the typed
 * array's header and backing store (measured: ITD reverse on a 40 × 4 problem grows by 582
 * bytes per step, 338 of them on the heap).
 */
export const STATE_BYTES = { bytes: 600, heapBytes: 350 } as const

/** What the residual history costs per step (measured: AID grows by 68 bytes per step, 27 on the heap). */
export const RESIDUAL_BYTES = { bytes: 72, heapBytes: 32 } as const

/** What a planned computation needs. */
export interface Cost {
  /** Seconds at {@link SPEED}: a lower bound on the run time. */
  readonly seconds: number
  /** Peak bytes allocated (typed arrays and JavaScript objects). */
  readonly bytes: number
  /** The part of `bytes` held as JavaScript objects on one thread's heap. */
  readonly heapBytes: number
}

export const noCost: Cost = { seconds: 0, bytes: 0, heapBytes: 0 }

/** Seconds to touch `entries` entries in `steps` steps. */
export const workSeconds = (entries: number, steps: number): number => entries / SPEED.entriesPerSecond + steps * SPEED.secondsPerStep

export const addCosts = (...cs: ReadonlyArray<Cost>): Cost =>
  cs.reduce((a, c) => ({ seconds: a.seconds + c.seconds, bytes: a.bytes + c.bytes, heapBytes: a.heapBytes + c.heapBytes }), noCost)

export const scaleCost = (c: Cost, k: number): Cost => ({ seconds: c.seconds * k, bytes: c.bytes * k, heapBytes: c.heapBytes * k })

/** A count of a configuration and its cost: the count named when a limit is passed. */
export interface Charge {
  /** Where the count was given: `config.method.t`, `--runs`, `reproduce bounds: runs`. */
  readonly field: string
  readonly value: number | string
  readonly cost: Cost
  /** What holds the memory, for the message ("ITD reverse keeps t iterates of 784 numbers"). */
  readonly holds?: string
}

/** The limits a run is checked against. */
export interface Limits {
  readonly resources: Resources
  /** The longest run allowed, in seconds (of the lower-bound estimate). */
  readonly maxSeconds: number
}

/** The default time limit: runs estimated at more than a day are refused (the command's --max-hours raises it). */
export const DEFAULT_MAX_HOURS = 24

const largest = (charges: ReadonlyArray<Charge>, f: (c: Cost) => number): Charge =>
  charges.reduce((a, b) => (f(b.cost) > f(a.cost) ? b : a))

const shown = (c: Charge): string => `${c.field} = ${typeof c.value === 'number' ? formatCount(c.value) : c.value}`

/**
 * The total of the charges, or a 'config' error naming the count that weighs most on the
 * limit passed, with the estimate and the limit: memory, then the heap, then time.
 * `workers` charges run side by side: their memory adds up, their time divides.
 */
export const checkCharges = (charges: ReadonlyArray<Charge>, limits: Limits, prefix = ''): E.Either<HypergradError, Cost> => {
  if (charges.length === 0) return E.right(noCost)
  const total = addCosts(...charges.map((c) => c.cost))
  const { resources, maxSeconds } = limits
  if (!(total.bytes <= resources.memoryBytes)) {
    const c = largest(charges, (x) => x.bytes)
    return E.left(
      hgError('config', `${prefix}${shown(c)}: the run needs about ${formatBytes(total.bytes)} of memory${c.holds === undefined ? '' : ` (${c.holds})`}; ${formatBytes(resources.memoryBytes)} is available`),
    )
  }
  if (!(total.heapBytes <= resources.heapBytes)) {
    const c = largest(charges, (x) => x.heapBytes)
    return E.left(
      hgError(
        'config',
        `${prefix}${shown(c)}: the run needs about ${formatBytes(total.heapBytes)} of JavaScript heap${c.holds === undefined ? '' : ` (${c.holds})`}; the heap can grow by ${formatBytes(resources.heapBytes)}`,
      ),
    )
  }
  if (!(total.seconds <= maxSeconds)) {
    const c = largest(charges, (x) => x.seconds)
    return E.left(hgError('config', `${prefix}${shown(c)}: the run is estimated at ${formatSeconds(total.seconds)} of computing; the limit is ${formatSeconds(maxSeconds)} (--max-hours)`))
  }
  return E.right(total)
}

// ── the library's computations ───────────────────────────────────────────────────────────────

/** The sizes a cost depends on: the training rows n, the dimension d of w, the stored entries, the hyperparameters m. */
export interface Sizes {
  readonly rows: number
  readonly cols: number
  /** Entries of the training matrix (n·d when dense). */
  readonly nnz: number
  /** Hyperparameters m. */
  readonly hyper: number
}

const vectorBytes = (d: number): number => 8 * d + OBJECT_BYTES

/**
 * `steps` full-batch solver steps, each a pass over the data and a few d-vectors; the residual
 * of each step is kept while the run lasts.
 */
export const fullBatchCost = (s: Sizes, steps: number): Cost => ({
  seconds: workSeconds(steps * (s.nnz + 4 * s.cols), steps),
  bytes: RESIDUAL_BYTES.bytes * steps + 6 * vectorBytes(s.cols),
  heapBytes: RESIDUAL_BYTES.heapBytes * steps,
})

/** AID: t lower steps (one Φ: a pass) and k linear steps (one ∂₁Φᵀ product: a pass). */
export const aidCost = (s: Sizes, t: number, k: number): Cost => ({
  seconds: fullBatchCost(s, t).seconds + fullBatchCost(s, k).seconds,
  bytes: RESIDUAL_BYTES.bytes * (t + k) + 8 * vectorBytes(s.cols),
  heapBytes: RESIDUAL_BYTES.heapBytes * (t + k),
})

/**
 * ITD. Reverse mode keeps the last K = min(truncate, t) states (K·(8d + 600) bytes) and makes
 * a pass per step forward (Φ) and two per step back through the last K (∂₁Φᵀ, ∂₂Φᵀ); forward
 * mode carries the d × m Jacobian (three copies) and makes 2m + 1 passes per step.
 */
export const itdCost = (s: Sizes, t: number, mode: 'reverse' | 'forward', truncate?: number): Cost => {
  if (mode === 'forward') {
    const jac = 3 * 8 * s.cols * s.hyper
    return {
      seconds: workSeconds(t * ((2 * s.hyper + 1) * s.nnz + 2 * s.cols * s.hyper), t),
      bytes: jac + RESIDUAL_BYTES.bytes * t,
      heapBytes: RESIDUAL_BYTES.heapBytes * t,
    }
  }
  const kept = Math.min(truncate ?? t, t) + 1
  return {
    seconds: workSeconds(t * s.nnz + Math.min(kept, t) * 2 * s.nnz, 2 * t),
    bytes: kept * (8 * s.cols + STATE_BYTES.bytes) + RESIDUAL_BYTES.bytes * t,
    heapBytes: kept * STATE_BYTES.heapBytes + RESIDUAL_BYTES.heapBytes * t,
  }
}

/**
 * SID with minibatches of b rows: t + k steps, each a pass over b rows and a few d-vectors;
 * SAGA keeps an n × d table of per-sample gradients.
 */
export const sidCost = (s: Sizes, t: number, k: number, batchSize: number, opts: { readonly saga?: boolean } = {}): Cost => {
  const rowEntries = s.rows === 0 ? 0 : s.nnz / s.rows
  const b = Math.min(batchSize, s.rows)
  const steps = t + k
  return {
    seconds: workSeconds(steps * (b * rowEntries + 4 * s.cols), steps),
    bytes: 8 * vectorBytes(s.cols) + (opts.saga === true ? 8 * s.rows * s.cols : 0),
    heapBytes: 0,
  }
}

/**
 * The exact hypergradient: the dense d × d system (the Jacobian, its Cholesky or LU factor and
 * a copy) and at least one Newton step (the Hessian XᵀDX: n·d² multiply-adds; the
 * factorization: d³/3).
 */
export const exactCost = (s: Sizes): Cost => ({
  seconds: (s.rows * s.cols * s.cols + (s.cols * s.cols * s.cols) / 3) / SPEED.denseMultiplyAddsPerSecond + SPEED.secondsPerStep,
  bytes: 3 * 8 * s.cols * s.cols + 8 * s.cols * Math.min(s.hyper, s.cols),
  heapBytes: 0,
})

/** The final draw of SID: `draws` minibatches of b rows (each a ∂₂Φ̂ᵀ product). */
export const finalDrawCost = (s: Sizes, draws: number, batchSize: number): Cost => ({
  seconds: workSeconds(draws * Math.min(batchSize, s.rows) * (s.rows === 0 ? 0 : s.nnz / s.rows), draws),
  bytes: 0,
  heapBytes: 0,
})

/** Steps of a SID preset at E epochs: one full step per epoch ('batch') or round(n/b) minibatch steps. */
export const presetSteps = (s: Sizes, preset: string, epochs: number, batchSize: number): { readonly steps: number; readonly full: boolean } =>
  preset === 'batch' ? { steps: epochs, full: true } : { steps: epochs * Math.max(1, Math.round(s.rows / Math.max(1, batchSize))), full: false }

/** A SID preset at E epochs: E full passes ('batch'), or E·round(n/b) minibatch steps. */
export const presetCost = (s: Sizes, preset: string, epochs: number, batchSize: number): Cost => {
  const p = presetSteps(s, preset, epochs, batchSize)
  return p.full ? fullBatchCost(s, p.steps) : sidCost(s, Math.ceil(p.steps / 2), Math.floor(p.steps / 2), batchSize)
}
