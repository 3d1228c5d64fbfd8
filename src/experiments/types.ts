/**
 * The shapes shared by the experiment modules and the registry: how a run is asked for
 * (`RunOptions`), what a task returns across the thread boundary, what a run produces
 * (`ExperimentOutput`), how a field is described, and what a run costs (`ExperimentCost`,
 * estimated before any work). The experiment modules import these from here, never from the
 * registry, which imports them: there is no cycle.
 */
import type { HypergradError } from '../errors.js'
import type { Cell } from '../report/csv.js'
import type { FigureOptions, Panel } from '../report/figure.js'

/** How an experiment runs: worker threads, a time limit and a progress callback. */
export interface RunOptions {
  /** Worker threads (default: the machine's cores); 1 runs every task in this thread. */
  readonly workers?: number
  /** Refuse a run estimated to take longer than this (seconds; default 24 hours). */
  readonly maxSeconds?: number
  /** Called with (0, total) before the first task and (done, total) after each task. */
  readonly onProgress?: (done: number, total: number) => void
}

/** What a task returns across the thread boundary: its value, or the library's error. */
export type TaskOutcome<R> = { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: HypergradError }

/** One line of results.csv. */
export type CsvRow = Readonly<Record<string, Cell>>

/** A figure to write: its file name, panels and axes. */
export interface FigureSpec {
  readonly file: string
  readonly panels: ReadonlyArray<Panel>
  readonly options: FigureOptions
}

/** Timing and resources of a run. */
export interface Timing {
  readonly wallSeconds: number
  /** The worker count asked for (0: the pool's default, the machine's cores). */
  readonly workers: number
  /** Seconds spent in each task (in its own thread). */
  readonly taskSeconds: ReadonlyArray<number>
  /** CPU seconds of the whole process (all threads) during the run (set by `reproduce`). */
  readonly cpuSeconds?: number
  /** The process's peak resident set size so far, in MiB (set by `reproduce`). */
  readonly maxRssMiB?: number
  /** Per-task timings by phase, where an experiment records them. */
  readonly phases?: ReadonlyArray<unknown>
  /** A merged run (`hypergrad merge`): each slice's timing, in slice order (then wallSeconds is the longest, cpuSeconds the sum). */
  readonly shards?: ReadonlyArray<unknown>
}

/** The results of an experiment run, as `write` stores them. */
export interface ExperimentOutput<C> {
  readonly experiment: string
  readonly config: C
  /** results.csv, one row per run × setting × point. */
  readonly rows: ReadonlyArray<CsvRow>
  readonly figures: ReadonlyArray<FigureSpec>
  /** A short table of the final numbers, for the command line to print. */
  readonly summary: string
  /** Every run's numbers (results.json). */
  readonly details: unknown
  readonly timing: Timing
}

// ── fields ──────────────────────────────────────────────────────────────────────────────────

/**
 * How a field is written on the command line: one number, a comma-separated list, a name from
 * a fixed set, a boolean. 'budgets' is a list of epoch budgets where a single number E means
 * "the default budgets below E, then E".
 */
export type FieldKind = 'int' | 'number' | 'intList' | 'numberList' | 'budgets' | 'enum' | 'enumList' | 'boolean'

/** One configurable field of an experiment. */
export interface FieldSpec {
  readonly name: string
  readonly kind: FieldKind
  readonly doc: string
  /** The allowed names ('enum', 'enumList'). */
  readonly values?: ReadonlyArray<string>
}

/** Field overrides by name: strings as typed on a command line, or values of the field's type. */
export type Overrides = Readonly<Record<string, unknown>>

// ── costs ───────────────────────────────────────────────────────────────────────────────────

/** Bytes in all, and the part held as JavaScript objects on one thread's heap. */
export interface Memory {
  readonly bytes: number
  readonly heapBytes: number
}

/**
 * What a run of an experiment needs, estimated from its configuration before any work at the
 * speed of src/config/cost.ts. The registry checks it against the machine and the time limit
 * (naming the field whose value weighs most), and runs fewer workers when all of them would
 * not fit in memory.
 */
export interface ExperimentCost {
  /** Seconds of computing in all tasks together (shared by the workers). */
  readonly seconds: number
  /** What the main thread keeps until the end: every task's results. */
  readonly results: Memory
  /** What one worker holds while it runs the largest task (its data, its problem, its working memory). */
  readonly perWorker: Memory
  /** Bytes shared by the workers (the data splits in shared memory), held by the main thread. */
  readonly shared: number
  /** The number of pool tasks: more workers than tasks would idle. */
  readonly tasks: number
}
