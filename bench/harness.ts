/**
 * The benchmark harness: timing, a memory-bandwidth probe, plain-loop baselines, and the
 * results file. Benchmarks are not tests: they print figures and record them in
 * `bench/results.json`; see `bench/README.md`.
 *
 * Timing rule: after `warmup` untimed calls (and at least `warmupMs`), each of `repeats` (≥ 5) repeats calls the
 * function in a loop until at least `minMs` have elapsed and records the time per call; the
 * median, minimum and maximum over the repeats are reported. Absolute times on shared
 * machines drift, so every comparison is a ratio measured in the same run.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, platform } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Options of {@link measure}. */
export interface MeasureOptions {
  /** Timed repeats, at least 5 (default 9). */
  readonly repeats?: number
  /** Untimed calls before the first repeat, to let the JIT settle (default 3). */
  readonly warmup?: number
  /**
   * Keep warming up until at least this many ms have passed too (default 100): optimizing
   * compilation runs on a background thread, which lags on a busy machine.
   */
  readonly warmupMs?: number
  /** Minimum duration of one repeat in ms; short calls are looped (default 25). */
  readonly minMs?: number
}

/** Per-call times of one workload, in milliseconds. */
export interface Timing {
  readonly name: string
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  readonly repeats: number
  /** Total calls timed over all repeats. */
  readonly calls: number
}

/** A timing of a workload that reads a known number of bytes. */
export interface Bandwidth extends Timing {
  readonly bytes: number
  /** bytes / median time, in GB/s (10⁹ bytes per second). */
  readonly gbPerS: number
}

/** One line of `bench/results.json`. */
export interface Row {
  /** Unique name; a later run replaces the row of the same name. */
  readonly workload: string
  readonly medianMs: number
  readonly minMs: number
  readonly maxMs: number
  /**
   * medianMs divided by the time the baseline takes for the same work, measured in the same
   * run (> 1: slower than the baseline). For a bandwidth row this is probe GB/s ÷ row GB/s.
   */
  readonly ratio: number | null
  /** The workload the ratio is relative to (null: none). */
  readonly baseline: string | null
  readonly notes: string
  /** GB/s of bytes read, when the workload has a byte count. */
  readonly gbPerS?: number
  readonly repeats: number
  /** The bench file that produced the row, and when. */
  readonly source?: string
  readonly measuredAt?: string
}

/** What `bench/run.ts` hands every bench file. */
export interface BenchContext {
  /** The memory-read probe, measured once at the start of the run. */
  readonly probe: Bandwidth
  /** `--quick`: fewer and shorter repeats (for a smoke run; figures are noisier). */
  readonly quick: boolean
  /** {@link measure} with the run's default options (quick or not). */
  readonly measure: (name: string, fn: () => unknown, opts?: MeasureOptions) => Timing
}

/** A bench file's default export: run the workloads, return the rows. */
export type BenchFile = (ctx: BenchContext) => ReadonlyArray<Row> | Promise<ReadonlyArray<Row>>

// Results flow into this sink so that the JIT cannot drop a benchmarked call as dead code.
let sink = 0
const consume = (v: unknown): void => {
  if (typeof v === 'number') sink += v
  else if (v instanceof Float64Array || v instanceof Int32Array) sink += v.length > 0 ? v[0]! : 0
}
/** The accumulated sink (print it or ignore it; reading it keeps results alive). */
export const sinkValue = (): number => sink

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Time `fn` (see the timing rule above). Throws a RangeError for fewer than 5 repeats. */
export const measure = (name: string, fn: () => unknown, opts: MeasureOptions = {}): Timing => {
  const repeats = opts.repeats ?? 9
  const warmup = opts.warmup ?? 3
  const minMs = opts.minMs ?? 25
  const warmupMs = opts.warmupMs ?? 100
  if (!(Number.isInteger(repeats) && repeats >= 5)) throw new RangeError(`measure(${name}): repeats must be an integer ≥ 5, got ${repeats}`)
  const w0 = performance.now()
  for (let i = 0; i < warmup || performance.now() - w0 < warmupMs; i++) consume(fn())
  const perCall: number[] = []
  let calls = 0
  for (let r = 0; r < repeats; r++) {
    let k = 0
    const t0 = performance.now()
    let t1 = t0
    do {
      consume(fn())
      k++
      t1 = performance.now()
    } while (t1 - t0 < minMs)
    perCall.push((t1 - t0) / k)
    calls += k
  }
  return { name, medianMs: median(perCall), minMs: Math.min(...perCall), maxMs: Math.max(...perCall), repeats, calls }
}

/** A timing with a byte count: GB/s = bytes / median time. */
export const withBytes = (t: Timing, bytes: number): Bandwidth => ({ ...t, bytes, gbPerS: bytes / t.medianMs / 1e6 })

/**
 * Plain-loop baselines: the straightforward single-accumulator loops a user would write
 * without the library's kernels, for the same row-major layout. Each returns its output.
 */
export const plainLoops = {
  /** Σ a[i], one accumulator. */
  sum: (a: Float64Array): number => {
    let s = 0
    for (let i = 0; i < a.length; i++) s += a[i]!
    return s
  },
  /** y = A·x for the row-major M×N matrix A. */
  gemv: (M: number, N: number, A: Float64Array, x: Float64Array, y: Float64Array): Float64Array => {
    for (let i = 0; i < M; i++) {
      let s = 0
      for (let j = 0; j < N; j++) s += A[i * N + j]! * x[j]!
      y[i] = s
    }
    return y
  },
  /** y = Aᵀ·x for the row-major M×N matrix A (row by row). */
  gemvT: (M: number, N: number, A: Float64Array, x: Float64Array, y: Float64Array): Float64Array => {
    y.fill(0)
    for (let i = 0; i < M; i++) {
      const c = x[i]!
      for (let j = 0; j < N; j++) y[j] = y[j]! + c * A[i * N + j]!
    }
    return y
  },
}

/** Σ a[i] with four independent accumulators, so that the adds pipeline and memory is the limit. */
const sum4 = (a: Float64Array): number => {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0
  const n = a.length - (a.length % 4)
  let i = 0
  for (; i < n; i += 4) {
    s0 += a[i]!
    s1 += a[i + 1]!
    s2 += a[i + 2]!
    s3 += a[i + 3]!
  }
  for (; i < a.length; i++) s0 += a[i]!
  return (s0 + s1) + (s2 + s3)
}

/** The name of the probe's row. */
export const PROBE_WORKLOAD = 'memory read 256 MB (sum, 4 accumulators)'

let probeArray: Float64Array | undefined

/**
 * The memory-read probe: the time to sum a Float64Array of `bytes` bytes (default 256 MiB,
 * far beyond any cache) with four accumulators, reported as GB/s. This is the rate at which
 * plain JavaScript can stream memory on this machine, in this run: the yardstick for
 * memory-bound kernels such as gemv. The array is allocated and filled once per process
 * (and reused by later probes of the same size), so that page faults are not timed.
 */
export const memoryReadProbe = (opts: MeasureOptions & { readonly bytes?: number } = {}): Bandwidth => {
  const n = Math.floor((opts.bytes ?? 256 * 1024 * 1024) / 8)
  if (probeArray === undefined || probeArray.length !== n) {
    probeArray = new Float64Array(n)
    for (let i = 0; i < n; i++) probeArray[i] = (i % 7) * 0.5
  }
  const a = probeArray
  // Get sum4 optimized on a small, cache-resident slice first (many quick calls), so that the
  // timed calls run optimized code even when the background compiler lags.
  const slice = a.subarray(0, Math.min(n, 1 << 16))
  const w0 = performance.now()
  for (let k = 0; k < 500 || performance.now() - w0 < 50; k++) consume(sum4(slice))
  const expected = sum4(a)
  const t = measure(PROBE_WORKLOAD, () => sum4(a), { repeats: opts.repeats ?? 9, warmup: opts.warmup ?? 2, minMs: opts.minMs ?? 1 })
  if (sum4(a) !== expected) throw new Error('memoryReadProbe: the sum changed between runs')
  return withBytes(t, n * 8)
}

/** A row for a plain timing, optionally relative to a baseline timing of the same work. */
export const timingRow = (t: Timing, opts: { readonly baseline?: Timing; readonly notes?: string } = {}): Row => ({
  workload: t.name,
  medianMs: t.medianMs,
  minMs: t.minMs,
  maxMs: t.maxMs,
  ratio: opts.baseline === undefined ? null : t.medianMs / opts.baseline.medianMs,
  baseline: opts.baseline === undefined ? null : opts.baseline.name,
  notes: opts.notes ?? '',
  repeats: t.repeats,
})

/**
 * A row for a workload reading `t.bytes` bytes, compared with the memory probe: ratio =
 * probe GB/s ÷ workload GB/s, i.e. how many times longer the workload takes than streaming
 * the same bytes at the probe's rate (1 = as fast as memory allows, in plain JS).
 */
export const bandwidthRow = (t: Bandwidth, probe: Bandwidth, notes = ''): Row => ({
  workload: t.name,
  medianMs: t.medianMs,
  minMs: t.minMs,
  maxMs: t.maxMs,
  ratio: probe.gbPerS / t.gbPerS,
  baseline: probe.name,
  notes: `${t.gbPerS.toFixed(2)} GB/s vs probe ${probe.gbPerS.toFixed(2)} GB/s${notes === '' ? '' : `; ${notes}`}`,
  gbPerS: t.gbPerS,
  repeats: t.repeats,
})

/** The default results file, `bench/results.json`. */
export const RESULTS_FILE = join(dirname(fileURLToPath(import.meta.url)), 'results.json')

interface ResultsFile {
  readonly updated: string
  readonly environment: Record<string, string | number>
  readonly rows: ReadonlyArray<Row>
}

/** The machine and runtime, recorded with the results. */
export const environment = (): Record<string, string | number> => ({
  node: process.version,
  v8: process.versions.v8,
  platform: `${platform()} ${process.arch}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
})

/**
 * Merge rows into the results file: a row replaces the existing row of the same workload
 * name (in place), new rows are appended, rows of other benchmarks are kept. A missing or
 * unreadable file starts empty. Returns the merged rows.
 */
export const writeResults = (rows: ReadonlyArray<Row>, file: string = RESULTS_FILE): ReadonlyArray<Row> => {
  let old: ReadonlyArray<Row> = []
  if (existsSync(file)) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<ResultsFile>
      if (Array.isArray(parsed.rows)) old = parsed.rows.filter((r): r is Row => typeof r?.workload === 'string')
    } catch {
      old = []
    }
  }
  const fresh = new Map(rows.map((r) => [r.workload, r]))
  const merged: Row[] = old.map((r) => fresh.get(r.workload) ?? r)
  const known = new Set(old.map((r) => r.workload))
  for (const r of rows) if (!known.has(r.workload)) merged.push(r)
  const out: ResultsFile = { updated: new Date().toISOString(), environment: environment(), rows: merged }
  writeFileSync(file, JSON.stringify(out, null, 2) + '\n')
  return merged
}

const fmt = (x: number | null | undefined, d = 3): string => (x === null || x === undefined ? '-' : x.toPrecision(d))

/** A fixed-width text table of rows, for the console. */
export const formatRows = (rows: ReadonlyArray<Row>): string => {
  const w = Math.max(8, ...rows.map((r) => r.workload.length))
  const head = `${'workload'.padEnd(w)}  ${'median ms'.padStart(10)}  ${'[min, max]'.padEnd(22)}  ${'ratio'.padStart(6)}  notes`
  const lines = rows.map(
    (r) =>
      `${r.workload.padEnd(w)}  ${fmt(r.medianMs, 4).padStart(10)}  ${`[${fmt(r.minMs)}, ${fmt(r.maxMs)}]`.padEnd(22)}  ${fmt(r.ratio).padStart(6)}  ${r.notes}`,
  )
  return [head, ...lines].join('\n')
}
