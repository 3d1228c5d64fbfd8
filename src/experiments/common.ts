/**
 * What the experiments share: summary statistics, number formatting, the MNIST split of a run
 * (loaded once, shared with the worker threads without a copy) and `runOutcomes`, which runs
 * groups of tasks on the pool (pool.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import { exactCost, type Sizes } from '../config/cost.js'
import type { HypergradError } from '../errors.js'
import { MNIST_D, mnistOddEven, type FloatAllocator, type MnistOddEven } from '../data/mnist.js'
import { freezeDataset } from '../data/snapshot.js'
import { defaultWorkers, runTasks, type Task } from './pool.js'
import type { Series } from '../report/figure.js'
import type { ExperimentOutput, RunOptions, TaskOutcome } from './types.js'

/** Mean and sample standard deviation (0 for one value) of the finite values; NaN when none is finite. */
export const meanStd = (xs: ReadonlyArray<number | null>): { readonly mean: number; readonly std: number; readonly count: number } => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x))
  if (v.length === 0) return { mean: NaN, std: NaN, count: 0 }
  const mean = v.reduce((a, b) => a + b, 0) / v.length
  if (v.length === 1) return { mean, std: 0, count: 1 }
  const ss = v.reduce((a, b) => a + (b - mean) * (b - mean), 0)
  return { mean, std: Math.sqrt(ss / (v.length - 1)), count: v.length }
}

/** The median of the values (the mean of the two middle ones for an even count); NaN for none. */
export const median = (xs: ArrayLike<number>): number => quantileOfSorted(Float64Array.from(xs).sort(), 0.5)

/**
 * The p-quantile of ascending values by linear interpolation between order statistics: with
 * h = (n − 1)p and f = h − ⌊h⌋, (1 − f)x₍⌊h⌋₎ + f x₍⌊h⌋+1₎ (Hyndman and Fan's type 7, the default of R
 * and numpy; p = ½ gives the usual median). +∞ values rank last: a quantile that falls on or
 * beyond one is +∞. NaN for no values.
 */
export const quantileOfSorted = (sorted: ArrayLike<number>, p: number): number => {
  const n = sorted.length
  if (n === 0) return NaN
  const h = (n - 1) * p
  const lo = Math.floor(h)
  const f = h - lo
  const a = sorted[lo]!
  if (f === 0 || lo + 1 >= n) return a
  const b = sorted[lo + 1]!
  // (1 − f)a + fb: for f = ½ exactly (a + b)/2, the usual median of an even count.
  return b === Infinity ? Infinity : (1 - f) * a + f * b
}

/**
 * What the experiments report of a sample over runs (seeds): the median and the 10% and 90%
 * quantiles (the line and the band of the figures), and the mean, which heavy tails make an
 * unstable estimate and which is reported as such.
 */
export interface Spread {
  readonly median: number
  readonly q10: number
  readonly q90: number
  /** The arithmetic mean of the values counted (+∞ when one of them is unbounded). */
  readonly mean: number
  /** The values counted. */
  readonly count: number
  /** Values that were missing or not finite: counted as +∞ ('unbounded') or left out ('drop'). */
  readonly nonFinite: number
}

/**
 * The spread of a sample. A missing (null) or non-finite value — a run that diverged — is
 * either an unbounded error, +∞, which ranks above every finite one (`missing: 'unbounded'`,
 * for errors: the median stays finite while fewer than half the runs diverge), or left out
 * (`'drop'`, the default, for quantities that have no direction such as an accuracy).
 */
export const spread = (xs: ReadonlyArray<number | null | undefined>, missing: 'drop' | 'unbounded' = 'drop'): Spread => {
  const kept: number[] = []
  let nonFinite = 0
  for (const x of xs) {
    if (typeof x === 'number' && Number.isFinite(x)) kept.push(x)
    else {
      nonFinite++
      if (missing === 'unbounded') kept.push(Infinity)
    }
  }
  const s = Float64Array.from(kept).sort()
  let sum = 0
  for (const x of s) sum += x
  return {
    median: quantileOfSorted(s, 0.5),
    q10: quantileOfSorted(s, 0.1),
    q90: quantileOfSorted(s, 0.9),
    mean: s.length === 0 ? NaN : sum / s.length,
    count: s.length,
    nonFinite,
  }
}

/** A spread for the summary tables: "median [10%, 90%]" ("—" for what is not finite). */
export const fmtSpread = (s: Spread): string => `${fmt(s.median)} [${fmt(s.q10)}, ${fmt(s.q90)}]`

/** A spread with its mean: "median [10%, 90%], mean m". */
export const fmtSpreadMean = (s: Spread): string => `${fmtSpread(s)}, mean ${fmt(s.mean)}`

/** A figure series from spreads: the median as the line, the 10–90% quantiles as the band. */
export const bandSeries = (name: string, x: ReadonlyArray<number>, spreads: ReadonlyArray<Spread>, points = false): Series => ({
  name,
  x,
  y: spreads.map((s) => s.median),
  lo: spreads.map((s) => s.q10),
  hi: spreads.map((s) => s.q90),
  ...(points ? { points } : {}),
})

/** How the figures and tables describe the statistics over `count` runs (or instances, seeds: `noun`). */
export const bandNote = (count: number, noun = 'run'): string => `median and 10–90% quantiles over ${count} ${noun}${count === 1 ? '' : 's'}`

export { maxOf, minOf } from '../linalg/vector.js'

/** A finite number, or null (JSON has no NaN or Infinity). */
export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null)

/** A task's Either as the structured-clone outcome a pool task returns. */
export const outcomeOf = <A>(e: E.Either<HypergradError, A>): TaskOutcome<A> => (E.isLeft(e) ? { ok: false, error: e.left } : { ok: true, value: e.right })

/** A number with d decimals for the summary tables ("—" when not finite). */
export const fixed = (x: number, d: number): string => (Number.isFinite(x) ? x.toFixed(d) : '—')

/** Format a number for the summary tables (3 significant digits; "—" when not finite: no NaN is printed). */
export const fmt = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : '—')

// ── what a task costs (for the limits checked before a run) ───────────────────────────────────

/** What a worker thread holds before its first task (its isolate and the library's modules). */
export const WORKER_BYTES = 60e6

/** Bytes of an MNIST split of `rows` digits (X and y in float64). */
export const splitBytes = (rows: number): number => rows * (MNIST_D + 1) * Float64Array.BYTES_PER_ELEMENT

/**
 * What a logistic problem on `nTrain` MNIST rows holds beyond its data: the row engine's copy
 * of the training matrix, and the dense d × d matrices of a ground truth by Newton's method.
 */
export const mnistProblemBytes = (nTrain: number): number => nTrain * MNIST_D * 8 + exactCost(mnistSizes(nTrain, MNIST_D)).bytes

/** The sizes of a logistic problem on `nTrain` MNIST rows with `hyper` hyperparameters. */
export const mnistSizes = (nTrain: number, hyper: number): Sizes => ({ rows: nTrain, cols: MNIST_D, nnz: nTrain * MNIST_D, hyper })

/** Bytes a result of `numbers` numbers keeps on the main thread's heap (as objects and arrays), and in results.json. */
export const resultBytes = (numbers: number): number => 40 * numbers

// ── the data split of a run ──────────────────────────────────────────────────────────────────

/** What names an MNIST odd/even split: tasks with the same spec read the same split. */
export interface SplitSpec {
  /** 'seeded': mnistOddEven({ seed }); 'reference': the peers' split (seed ignored). */
  readonly split: 'seeded' | 'reference'
  readonly seed: number
  readonly nTrain: number
  readonly nVal: number
}

const keyOf = (s: SplitSpec): string => `${s.split}:${s.split === 'seeded' ? s.seed : ''}:${s.nTrain}:${s.nVal}`

const loadSplit = (s: SplitSpec, allocate?: FloatAllocator): E.Either<HypergradError, MnistOddEven> =>
  mnistOddEven({
    nTrain: s.nTrain,
    nVal: s.nVal,
    ...(s.split === 'reference' ? {} : { seed: s.seed }),
    ...(allocate === undefined ? {} : { allocate }),
  })

/** A split posted with a task: `id` names this load (a slot's memory is reused by later loads). */
export interface SharedSplit {
  readonly id: number
  readonly data: MnistOddEven
}

// The current split of this thread (one at a time, so that memory holds one split only).
let splitCache: { readonly key: string; readonly data: MnistOddEven } | undefined

/**
 * The split of a run: the one this thread used last when the spec is the same (so that the
 * caches keyed by the data arrays, such as the row engines', stay warm), else `given` (the
 * split posted with the task, see {@link runOutcomes}), else loaded here.
 */
export const splitOf = (
  split: 'seeded' | 'reference',
  seed: number,
  nTrain: number,
  nVal: number,
  given?: SharedSplit,
): E.Either<HypergradError, MnistOddEven> => {
  // A posted split is known by its load id: the memory of a slot is reused by later loads.
  const key = `${keyOf({ split, seed, nTrain, nVal })}${given === undefined ? '' : `#${given.id}`}`
  if (splitCache?.key === key) return E.right(splitCache.data)
  splitCache = undefined // drop the old split before loading the next
  const data = given === undefined ? loadSplit({ split, seed, nTrain, nVal }) : E.right(given.data)
  if (E.isRight(data)) {
    // The split is never written while its tasks run: the problems use it as is, without a copy.
    for (const part of [data.right.train, data.right.validation, data.right.test]) if (part !== undefined) freezeDataset(part)
    splitCache = { key, data: data.right }
  }
  return data
}

/** Forget the cached split (tasks run in this thread keep it otherwise). */
export const releaseSplitCache = (): void => {
  splitCache = undefined
}

// ── running tasks ────────────────────────────────────────────────────────────────────────────

/** Tasks that read one data split (when `split` is given), or that hold no large data. */
export interface TaskGroup {
  readonly tasks: ReadonlyArray<Task>
  /** The split the tasks read: loaded once, when the group's first task starts. */
  readonly split?: SplitSpec
}

/** The field of a task's input that carries its group's split (tasks pass it to {@link splitOf}). */
export const SHARED_SPLIT_FIELD = 'sharedSplit'

// Splits loaded by runOutcomes in this thread: the ids of posted splits never repeat.
let loads = 0

/** Options of {@link runOutcomes}. */
export interface OutcomeOptions {
  /**
   * The most splits alive at once (default: the workers). With fewer, a task whose split is
   * not loaded waits for a slot to free up: one slot holds memory to one split at the price
   * of idle workers while the last tasks of a group finish.
   */
  readonly splitSlots?: number
}

/**
 * Run groups of tasks on one pool of workers, in order, each worker taking the next task as
 * soon as it is free; task-level Lefts become one Left (the first, by task order); results
 * come back in task order. A task that throws (a bug, not a Left) or a worker that dies
 * rejects the run with an Error naming it: it is a fault of the code, not of the input.
 *
 * Memory. A group with a split has it loaded here, once, into shared memory, when its first
 * task starts, and posted with each of its tasks: every worker reads the same memory (no copy,
 * no loading per worker). The memory is a few slots of SharedArrayBuffer, reused: a slot is
 * free once every task of the group it holds has finished, and a group waits for a free slot
 * when `splitSlots` are taken. Memory for splits is thus at most `splitSlots` splits, whatever
 * the garbage collector does. With one worker every task runs in this thread, in the same
 * order, with identical results: each task derives its randomness from its own input, never
 * from the schedule.
 */
export const runOutcomes = async <R>(
  groups: ReadonlyArray<TaskGroup>,
  opts: RunOptions,
  outcomeOpts: OutcomeOptions = {},
): Promise<E.Either<HypergradError, R[]>> => {
  const tasks: Task[] = []
  const groupOf: number[] = []
  const remaining: number[] = []
  groups.forEach((g, i) => {
    for (const t of g.tasks) {
      tasks.push(t)
      groupOf.push(i)
    }
    remaining.push(g.tasks.length)
  })
  const workers = opts.workers ?? defaultWorkers()
  const maxSlots = Math.max(1, outcomeOpts.splitSlots ?? workers)
  const slots: Array<{ buffer: SharedArrayBuffer; group: number | undefined }> = []
  const waiting: Array<() => void> = []
  const loading = new Map<number, Promise<{ readonly shared: SharedSplit; readonly slot: number } | undefined>>()
  // A free slot of `bytes` bytes for group g: a free one of that size, a new one while there
  // are fewer than maxSlots, a free one of another size re-made, or the next one freed.
  const slotFor = async (g: number, bytes: number): Promise<number> => {
    for (;;) {
      let i = slots.findIndex((s) => s.group === undefined && s.buffer.byteLength === bytes)
      if (i < 0 && slots.length < maxSlots) i = slots.push({ buffer: new SharedArrayBuffer(bytes), group: undefined }) - 1
      if (i < 0) {
        i = slots.findIndex((s) => s.group === undefined)
        if (i >= 0) slots[i]!.buffer = new SharedArrayBuffer(bytes)
      }
      if (i >= 0) {
        slots[i]!.group = g
        return i
      }
      await new Promise<void>((wake) => waiting.push(wake))
    }
  }
  const load = async (g: number, spec: SplitSpec) => {
    const slot = await slotFor(g, (spec.nTrain + spec.nVal) * (MNIST_D + 1) * Float64Array.BYTES_PER_ELEMENT)
    const buffer = slots[slot]!.buffer
    let used = 0
    const allocate: FloatAllocator = (n) => {
      const a = new Float64Array(buffer, used * Float64Array.BYTES_PER_ELEMENT, n)
      used += n
      return a.fill(0)
    }
    const d = loadSplit(spec, allocate)
    if (E.isRight(d)) return { shared: { id: loads++, data: d.right }, slot }
    // A split that does not load is left to the tasks, which report the error as their Left.
    release(slot)
    return undefined
  }
  const release = (slot: number): void => {
    slots[slot]!.group = undefined
    waiting.shift()?.()
  }
  const resolve = async (task: Task, index: number): Promise<Task> => {
    const g = groupOf[index]!
    const spec = groups[g]!.split
    if (spec === undefined) return task
    let p = loading.get(g)
    if (p === undefined) {
      p = load(g, spec)
      loading.set(g, p)
    }
    const got = await p
    if (got === undefined) return task
    return { ...task, input: { ...(task.input as object), [SHARED_SPLIT_FIELD]: got.shared } }
  }
  const onSettled = (index: number): void => {
    const g = groupOf[index]!
    remaining[g] = remaining[g]! - 1
    if (remaining[g] !== 0) return
    const p = loading.get(g)
    loading.delete(g)
    void p?.then((got) => {
      if (got !== undefined) release(got.slot)
    })
  }
  opts.onProgress?.(0, tasks.length)
  let outs: Array<TaskOutcome<R>>
  try {
    outs = await runTasks<TaskOutcome<R>>(tasks, {
      workers,
      resolve,
      onSettled,
      ...(opts.onProgress === undefined ? {} : { onDone: (d: number, total: number) => opts.onProgress?.(d, total) }),
    })
  } catch (e) {
    throw new Error(`experiment task failed: ${e instanceof Error ? e.message : String(e)}`)
  }
  const values: R[] = []
  for (const o of outs) {
    if (!o.ok) return E.left(o.error)
    values.push(o.value)
  }
  return E.right(values)
}

// ── an experiment as a sweep of tasks ─────────────────────────────────────────────────────────

/**
 * The pool tasks of an experiment's run, in a fixed order that depends on its configuration
 * alone: every task derives its randomness from its own input, so its result does not depend
 * on which tasks run beside it, in which thread, or on which machine (see shard.ts).
 */
export interface Sweep {
  readonly groups: ReadonlyArray<TaskGroup>
  /** The most data splits held at once (default: one per worker; see {@link runOutcomes}). */
  readonly splitSlots?: number
}

/** The timing that a run gives `assemble`: the wall clock of the whole run and the workers asked for (0: the pool's default). */
export interface SweepTiming {
  readonly wallSeconds: number
  readonly workers: number
}

/**
 * An experiment as two pure halves around the pool: `sweep` lists its tasks, `assemble` makes
 * its output (tables, figures, every run's numbers) from the tasks' results in task order. A
 * run, a slice of a run (`--shard`) and a merge of slices all use these two.
 */
export interface ExperimentSweep<C> {
  readonly sweep: (config: C) => Sweep
  readonly assemble: (config: C, results: ReadonlyArray<unknown>, timing: SweepTiming) => E.Either<HypergradError, ExperimentOutput<C>>
}

/** Run the tasks of a sweep on the pool; their results in task order. */
export const runSweepTasks = async (s: Sweep, opts: RunOptions): Promise<E.Either<HypergradError, unknown[]>> => {
  const res = await runOutcomes<unknown>(s.groups, opts, s.splitSlots === undefined ? {} : { splitSlots: s.splitSlots })
  releaseSplitCache()
  return res
}

/** Run an experiment's whole sweep, then assemble its output. */
export const runSweep = async <C>(x: ExperimentSweep<C>, config: C, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<C>>> => {
  const started = performance.now()
  const res = await runSweepTasks(x.sweep(config), opts)
  if (E.isLeft(res)) return res
  return x.assemble(config, res.right, { wallSeconds: (performance.now() - started) / 1000, workers: opts.workers ?? 0 })
}
