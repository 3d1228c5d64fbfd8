/**
 * The experiment registry: every reproduced experiment of the three papers by name, with its
 * typed configuration and defaults, a description of each field (for `hypergrad reproduce
 * list`), decoding of overrides (from the command line or from code), a run that reports
 * progress, and `write`, which stores results.json, results.csv and the SVG figures.
 *
 *   sid-fig1              SID paper Fig. 1 (sidFigures.ts)
 *   sid-fig2              SID paper Fig. 2 (sidFigures.ts)
 *   iteration-complexity  Grazzi et al. 2020, error against t = k (iterationComplexity.ts)
 *   bounds                Ehrhardt & Roberts §4.1, error against a priori and a posteriori bounds
 *                         (boundsExperiment.ts)
 *   er-budget-split       Ehrhardt & Roberts §4.1, a fixed budget split between the two solvers
 *                         (budgetSplit.ts)
 *   er-hypercleaning      Ehrhardt & Roberts §4.2, 10-class softmax hyper-cleaning, 3 × 3 solver pairs at
 *                         two tolerances each within a fixed budget (erHypercleaning.ts)
 *   grazzi-krr, grazzi-biased-reg, grazzi-hyper-rep, grazzi-equilibrium
 *                         Grazzi et al. 2020 §5's other problems, error against t = k (grazziProblems.ts)
 *   grazzi-newsgroups     Grazzi et al. 2020 §5's 20 Newsgroups problem (softmax, λ per feature) on
 *                         synthetic text-like data (grazziNewsgroups.ts)
 *   tune-mnist            hypergradient tuning (AID, SID) against grid and random search at equal
 *                         wall-clock time (tuneMnist.ts)
 *   data-cleaning         data hyper-cleaning with one weight per training sample
 *                         (dataCleaningExperiment.ts)
 *
 * A command line builds on five calls: `experimentNames` / `getExperiment(name)` to list and
 * describe, `configure(name, overrides)` to decode field overrides (strings like "1,10,100" are
 * parsed by the field's kind; an unknown field is an error with the field meant), `plan` to
 * check the run against the machine before any work (memory, heap, time: each experiment
 * states its cost; workers capped at the cores and lowered to fit), `reproduce(name,
 * overrides, { workers, maxSeconds, onProgress })` to run, and `write(results, outDir)`. The
 * experiment modules take their shared types from types.ts and never import this file, so that
 * worker threads never load the registry; vega is loaded by `write` alone, after the run.
 */
import * as E from 'fp-ts/lib/Either.js'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as t from 'io-ts'
import { FiniteNumber, NonNegativeInt, nonEmpty, oneOf, PositiveInt, PositiveNumber, Seed, strict } from '../config/codecs.js'
import { DEFAULT_MAX_HOURS } from '../config/cost.js'
import { reportErrors } from '../config/report.js'
import { formatBytes, formatCount, formatSeconds, machineResources, type Resources } from '../config/resources.js'
import { showKey, showValue } from '../config/show.js'
import { didYouMean } from '../config/suggest.js'
import { hgError, type HypergradError } from '../errors.js'
import { toCsv } from '../report/csv.js'
import { boundsCost, boundsDefaults, boundsExperiment, type BoundsConfig } from './boundsExperiment.js'
import { budgetSplit, budgetSplitCost, budgetSplitDefaults, budgetSplitFields, checkBudgetSplit, decodeBudgetSplit, type BudgetSplitConfig } from './budgetSplit.js'
import { checkGrazzi, decodeGrazzi, grazziCost, grazziSweep, GZ_FIELDS, gzBiasedRegDefaults, gzEquilibriumDefaults, gzHyperRepDefaults, gzKrrDefaults, type GzBiasedRegConfig, type GzEquilibriumConfig, type GzHyperRepConfig, type GzKrrConfig } from './grazziProblems.js'
import { checkGzNewsgroups, decodeGzNewsgroups, gzNewsgroups, gzNewsgroupsCost, gzNewsgroupsDefaults, gzNewsgroupsFields, type GzNewsgroupsConfig } from './grazziNewsgroups.js'
import { checkErCleaning, decodeErCleaning, erCleaningCost, erCleaningDefaults, erCleaningFields, erHypercleaning, type ErCleaningConfig } from './erHypercleaning.js'
import { checkDataCleaning, dataCleaning, dataCleaningCost, dataCleaningDefaults, dataCleaningFields, decodeDataCleaning, type DataCleaningConfig } from './dataCleaningExperiment.js'
import { iterationComplexity, iterationComplexityCost, iterationComplexityDefaults, type IterationComplexityConfig } from './iterationComplexity.js'
import { SAMPLINGS, SID_VARIANTS, sidFig1, sidFig1Defaults, sidFig2, sidFig2Defaults, sidFiguresCost, type SidFig1Config, type SidFig2Config } from './sidFigures.js'
import { checkTuneMnist, decodeTuneMnist, tuneMnist, tuneMnistCost, tuneMnistDefaults, tuneMnistFields, type TuneMnistConfig } from './tuneMnist.js'
import { libraryVersion } from '../config/version.js'
import { maxOf, runSweep, runSweepTasks, type ExperimentSweep } from './common.js'
import { checkShards, decodeShard, SHARD_FORMAT, shardRange, sliceSweep, sweepFingerprint, sweepTasks, type CheckedShards, type Shard, type ShardFile } from './shard.js'
import type { ExperimentCost, ExperimentOutput, FieldSpec, Overrides, RunOptions } from './types.js'

export type { CsvRow, ExperimentCost, ExperimentOutput, FieldKind, FieldSpec, FigureSpec, Overrides, RunOptions, TaskOutcome, Timing } from './types.js'

const configError = (experiment: string, message: string): HypergradError => hgError('config', `reproduce ${experiment}: ${message}`)

const parseNumber = (s: string): number => (s.trim() === '' ? NaN : Number(s.trim()))

/** A raw override value in the shape its field expects (numbers from strings, lists from "a,b,c"). */
const parseField = (experiment: string, spec: FieldSpec, raw: unknown, defaults: unknown): E.Either<HypergradError, unknown> => {
  const bad = (what: string) => E.left(configError(experiment, `${spec.name}: expected ${what}, got ${showValue(raw)}`))
  const list = (x: unknown): unknown[] | undefined =>
    Array.isArray(x) ? (x as unknown[]) : typeof x === 'string' ? x.split(',').map((p) => p.trim()) : typeof x === 'number' ? [x] : undefined
  switch (spec.kind) {
    case 'int':
    case 'number': {
      const v = typeof raw === 'string' ? parseNumber(raw) : raw
      return typeof v === 'number' && Number.isFinite(v) ? E.right(v) : bad(spec.kind === 'int' ? 'an integer' : 'a finite number')
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return E.right(raw)
      if (raw === 'true' || raw === '1') return E.right(true)
      if (raw === 'false' || raw === '0') return E.right(false)
      return bad('true or false')
    }
    case 'enum':
      return typeof raw === 'string' ? E.right(raw.trim()) : bad(`one of ${(spec.values ?? []).map((v) => `"${v}"`).join(', ')}`)
    case 'enumList': {
      const xs = list(raw)
      return xs !== undefined && xs.every((x) => typeof x === 'string') ? E.right(xs) : bad(`a comma-separated list of ${(spec.values ?? []).map((v) => `"${v}"`).join(', ')}`)
    }
    case 'intList':
    case 'numberList':
    case 'budgets': {
      const xs = list(raw)
      const nums = xs?.map((x) => (typeof x === 'string' ? parseNumber(x) : x))
      if (nums === undefined || nums.length === 0 || !nums.every((x) => typeof x === 'number' && Number.isFinite(x)))
        return bad('a comma-separated list of numbers')
      const ns = nums as number[]
      if (spec.kind === 'budgets' && ns.length === 1 && !(typeof raw === 'string' && raw.includes(','))) {
        // One budget E: the default budgets below E, then E itself.
        const e = ns[0]!
        const base = Array.isArray(defaults) ? (defaults as number[]).filter((d) => d < e) : []
        return E.right([...base, e])
      }
      return E.right(ns)
    }
  }
}

// ── io-ts codecs of the configurations ──────────────────────────────────────────────────────

const Variant = oneOf(SID_VARIANTS, 'a SID variant of §6')
const SamplingCodec = oneOf(SAMPLINGS, 'a sampling')
const Split = oneOf(['seeded', 'reference'] as const, 'a split')

const SidCommon = {
  runs: PositiveInt,
  epochs: nonEmpty(PositiveInt, 'a non-empty list of integers ≥ 1'),
  variants: nonEmpty(Variant, 'a non-empty list of SID variants'),
  sampling: nonEmpty(SamplingCodec, 'a non-empty list of samplings'),
  nTrain: PositiveInt,
  nVal: PositiveInt,
  batchSize: PositiveInt,
  split: Split,
  seed: Seed,
}
// Each codec names every field of its configuration (`satisfies`), and decodes to it (`Decoder`).
type Props<C> = Record<keyof C, t.Mixed>
type Decoder<C> = (u: unknown) => t.Validation<C>
const SidFig1Codec = strict('a sid-fig1 configuration', { ...SidCommon, lambdas: nonEmpty(PositiveNumber, 'a non-empty list of positive numbers') } satisfies Props<SidFig1Config>)
const SidFig2Codec = strict('a sid-fig2 configuration', { ...SidCommon, epsLow: FiniteNumber, epsHigh: FiniteNumber, lambdaScale: PositiveNumber } satisfies Props<SidFig2Config>)
const IterationComplexityCodec = strict('an iteration-complexity configuration', {
  runs: PositiveInt,
  iterations: nonEmpty(NonNegativeInt, 'a non-empty list of integers ≥ 0'),
  nTrain: PositiveInt,
  nVal: PositiveInt,
  lambdaScale: PositiveNumber,
  epsLow: FiniteNumber,
  epsHigh: FiniteNumber,
  quadDim: PositiveInt,
  quadHyperDim: PositiveInt,
  quadTau: PositiveNumber,
  quadL: PositiveNumber,
  bounds: t.boolean,
  seed: Seed,
} satisfies Props<IterationComplexityConfig>)
const BoundsCodec = strict('a bounds configuration', {
  runs: PositiveInt,
  rows: PositiveInt,
  cols: PositiveInt,
  lowerIterations: NonNegativeInt,
  linearIterations: NonNegativeInt,
  seed: Seed,
} satisfies Props<BoundsConfig>)

/** The cross-field constraints of each configuration. */
const mnistRowsFit = (experiment: string, c: { readonly nTrain: number; readonly nVal: number }): E.Either<HypergradError, void> =>
  c.nTrain + c.nVal <= 10000
    ? E.right(undefined)
    : E.left(configError(experiment, `nTrain + nVal = ${c.nTrain + c.nVal} exceeds the 10000 MNIST digits of the package`))

const checkSid = (experiment: string, c: SidFig1Config | SidFig2Config): E.Either<HypergradError, void> => {
  const sizes = mnistRowsFit(experiment, c)
  if (E.isLeft(sizes)) return sizes
  return c.batchSize <= c.nTrain ? E.right(undefined) : E.left(configError(experiment, `batchSize ${c.batchSize} exceeds nTrain ${c.nTrain}`))
}

// ── the registry ────────────────────────────────────────────────────────────────────────────

/** How a run will go: the worker threads it gets, its estimated cost, and what was decided for it. */
export interface RunPlan {
  readonly workers: number
  readonly cost: ExperimentCost
  /** One line each: worker counts lowered to the cores or to the memory. */
  readonly notes: ReadonlyArray<string>
}

/** What names and describes an experiment: its name, title, reference, fields and defaults. */
export interface ExperimentInfo<C> {
  readonly name: string
  readonly title: string
  /** Which paper, figure or section it reproduces. */
  readonly reference: string
  readonly fields: ReadonlyArray<FieldSpec>
  readonly defaults: C
}

/** An experiment: its fields, defaults, decoding, cost and run. */
export interface Experiment<C> extends ExperimentInfo<C> {
  /** Decode overrides on top of the defaults (unknown fields and invalid values are 'config' errors). */
  configure(overrides?: Overrides): E.Either<HypergradError, C>
  /**
   * Check a configuration against the machine before any work: the workers it gets (at most
   * the cores, fewer when their memory would not fit) and its estimated cost, or a 'config'
   * error naming the field that weighs most on the memory, the heap or the time limit.
   */
  plan(config: C, opts?: PlanOptions, resources?: Resources): E.Either<HypergradError, RunPlan>
  /** Validate a full configuration, plan it, then run it. */
  run(config: C, opts?: RunOptions): Promise<E.Either<HypergradError, ExperimentOutput<C>>>
  /** Validate a full configuration, plan the slice `shard` of its tasks, then run that slice: its shard file (shard.ts). */
  runShard(config: C, shard: Shard, opts?: RunOptions): Promise<E.Either<HypergradError, ShardFile>>
  /**
   * The output of a whole run from checked shards of this experiment: their configuration
   * decoded, their task list checked against this code's, their results assembled. The timing
   * is that of the slices: the longest wall clock, the CPU seconds summed, the largest peak
   * memory, and each slice's (`timing.shards`).
   */
  merge(shards: CheckedShards): E.Either<HypergradError, ExperimentOutput<C>>
}

/** What `plan` takes: the workers and the time limit of the run, and the slice it runs (all of it by default). */
export interface PlanOptions extends Pick<RunOptions, 'workers' | 'maxSeconds'> {
  readonly shard?: Shard
}

interface Definition<C> extends ExperimentInfo<C> {
  readonly decode: Decoder<C>
  readonly check: (c: C) => E.Either<HypergradError, void>
  readonly cost: (c: C) => ExperimentCost
  /** The tasks of a run and the output made from their results. */
  readonly experiment: ExperimentSweep<C>
}

/**
 * The cost of slice `shard` of a run: its share of the tasks, of the computing and of the
 * results (the tasks are taken as equally costly: a slice may take more or less than its
 * share); each worker still holds what the largest task needs.
 */
const sliceCost = (cost: ExperimentCost, share: number, tasks: number): ExperimentCost => ({
  ...cost,
  seconds: cost.seconds * share,
  results: { bytes: cost.results.bytes * share, heapBytes: cost.results.heapBytes * share },
  tasks,
})

/** A field's value as a message shows it: "1e9", "2,4,10,1e9". */
const shownField = (v: unknown): string =>
  Array.isArray(v) ? showValue(v.map((x) => (typeof x === 'number' ? formatCount(x) : x)).join(','), 60).replace(/^"|"$/g, '') : typeof v === 'number' ? formatCount(v) : showValue(v)

/** The workers a run gets and its cost, or the error naming the field that weighs most on the limit passed. */
const planRun = <C>(d: Definition<C>, config: C, opts: PlanOptions, res: Resources): E.Either<HypergradError, RunPlan> => {
  let costOf = d.cost
  const shard = opts.shard
  if (shard !== undefined) {
    // The slice of the cost's task count (the tasks themselves are listed only once the run is
    // known to be affordable: a huge run is refused before its list is made).
    const total = d.cost(config).tasks
    const { from, to } = shardRange(total, shard)
    const share = total === 0 ? 0 : (to - from) / total
    costOf = (c: C) => sliceCost(d.cost(c), share, to - from)
  }
  const cost = costOf(config)
  const notes: string[] = []
  const requested = opts.workers ?? res.cores
  let workers = Math.min(requested, res.cores)
  if (requested > res.cores) notes.push(`${requested} workers asked for, but this machine has ${res.cores} cores; using ${res.cores}`)
  workers = Math.max(1, Math.min(workers, cost.tasks))
  const memory = (c: ExperimentCost, w: number) => c.results.bytes + c.shared + w * c.perWorker.bytes
  const mainHeap = (c: ExperimentCost, w: number) => c.results.heapBytes + (w === 1 ? c.perWorker.heapBytes : 0)
  const maxSeconds = opts.maxSeconds ?? 3600 * DEFAULT_MAX_HOURS
  // The field whose value weighs most on `measure`: the one whose default would lower it most.
  const blame = (measure: (c: ExperimentCost) => number, what: string): HypergradError => {
    const base = d.defaults as Record<string, unknown>
    const at = config as Record<string, unknown>
    let field: string | undefined
    let gain = 0
    for (const f of d.fields) {
      if (at[f.name] === base[f.name]) continue
      const g = measure(cost) - measure(costOf({ ...at, [f.name]: base[f.name] } as C))
      if (g > gain) ((gain = g), (field = f.name))
    }
    const where = field === undefined ? '' : `${field} = ${shownField(at[field])}: `
    return hgError('config', `reproduce ${d.name}: ${where}${what}`)
  }
  if (!(memory(cost, 1) <= res.memoryBytes))
    return E.left(blame((c) => memory(c, 1), `the run needs about ${formatBytes(memory(cost, 1))} of memory (${formatCount(cost.tasks)} tasks); ${formatBytes(res.memoryBytes)} is available`))
  if (workers > 1 && !(memory(cost, workers) <= res.memoryBytes)) {
    const fit = Math.max(1, Math.floor((res.memoryBytes - cost.results.bytes - cost.shared) / cost.perWorker.bytes))
    notes.push(`${workers} workers would need about ${formatBytes(memory(cost, workers))} of memory (${formatBytes(cost.perWorker.bytes)} each); using ${fit}`)
    workers = fit
  }
  if (!(mainHeap(cost, workers) <= res.heapBytes) || !(cost.perWorker.heapBytes <= res.heapBytes)) {
    const need = Math.max(mainHeap(cost, workers), cost.perWorker.heapBytes)
    return E.left(blame((c) => Math.max(mainHeap(c, workers), c.perWorker.heapBytes), `the run needs about ${formatBytes(need)} of JavaScript heap in one thread; the heap can grow by ${formatBytes(res.heapBytes)}`))
  }
  if (!(cost.seconds / workers <= maxSeconds))
    return E.left(
      blame((c) => c.seconds, `the run is estimated at ${formatSeconds(cost.seconds / workers)} of computing on ${workers} worker${workers > 1 ? 's' : ''}; the limit is ${formatSeconds(maxSeconds)} (--max-hours)`),
    )
  return E.right({ workers, cost, notes })
}

const define = <C>(d: Definition<C>): Experiment<C> => {
  const decode = (u: unknown): E.Either<HypergradError, C> => {
    const r = d.decode(u)
    if (E.isLeft(r)) return E.left(configError(d.name, reportErrors(r.left, '')))
    const ok = d.check(r.right)
    return E.isLeft(ok) ? ok : E.right(r.right)
  }
  const plan = (config: C, opts: PlanOptions = {}, resources: Resources = machineResources()): E.Either<HypergradError, RunPlan> => {
    const valid = decode(config)
    if (E.isLeft(valid)) return valid
    if (opts.workers !== undefined && !(Number.isSafeInteger(opts.workers) && opts.workers >= 1))
      return E.left(configError(d.name, `workers: expected an integer ≥ 1, got ${showValue(opts.workers)}`))
    return planRun(d, valid.right, opts, resources)
  }
  return {
    name: d.name,
    title: d.title,
    reference: d.reference,
    fields: d.fields,
    defaults: d.defaults,
    configure(overrides: Overrides = {}) {
      const known = new Map(d.fields.map((f) => [f.name, f]))
      const merged: Record<string, unknown> = { ...(d.defaults as Record<string, unknown>) }
      for (const [key, raw] of Object.entries(overrides)) {
        if (raw === undefined) continue
        const spec = known.get(key)
        if (spec === undefined) {
          const names = d.fields.map((f) => f.name)
          return E.left(configError(d.name, `${showKey(key)}: unknown field${didYouMean(key, names) || ` (fields: ${names.join(', ')})`}`))
        }
        const v = parseField(d.name, spec, raw, merged[key])
        if (E.isLeft(v)) return v
        merged[key] = v.right
      }
      return decode(merged)
    },
    plan,
    async run(config: C, opts: RunOptions = {}) {
      const p = plan(config, opts)
      if (E.isLeft(p)) return p
      const cpu0 = process.cpuUsage()
      const out = await runSweep(d.experiment, config, { ...opts, workers: p.right.workers })
      if (E.isLeft(out)) return out
      return E.right({ ...out.right, timing: { ...out.right.timing, ...resourcesSince(cpu0) } })
    },
    async runShard(config: C, shard: Shard, opts: RunOptions = {}) {
      const p = plan(config, { ...opts, shard })
      if (E.isLeft(p)) return p
      const cpu0 = process.cpuUsage()
      const started = performance.now()
      const whole = d.experiment.sweep(config)
      const slice = sliceSweep(whole, shard)
      const res = await runSweepTasks(slice.sweep, { ...opts, workers: p.right.workers })
      if (E.isLeft(res)) return res
      return E.right({
        format: SHARD_FORMAT,
        version: libraryVersion(),
        experiment: d.name,
        config,
        shard,
        tasks: { total: slice.total, from: slice.from, to: slice.to, fingerprint: sweepFingerprint(whole) },
        results: res.right,
        timing: { wallSeconds: (performance.now() - started) / 1000, workers: p.right.workers, ...resourcesSince(cpu0) },
      })
    },
    merge(shards: CheckedShards) {
      const config = decode(shards.config)
      if (E.isLeft(config)) return config
      const whole = d.experiment.sweep(config.right)
      if (sweepTasks(whole).length !== shards.total || sweepFingerprint(whole) !== shards.fingerprint)
        return E.left(hgError('config', `merge: the shards' tasks differ from those this version of ${d.name} lists for their configuration: rerun the shards with this version`))
      const ts = shards.timings
      const out = d.experiment.assemble(config.right, shards.results, { wallSeconds: maxOf(ts.map((t) => t.wallSeconds)), workers: maxOf(ts.map((t) => t.workers)) })
      if (E.isLeft(out)) return out
      return E.right({
        ...out.right,
        timing: {
          ...out.right.timing,
          cpuSeconds: ts.reduce((a, t) => a + (t.cpuSeconds ?? NaN), 0),
          maxRssMiB: maxOf(ts.map((t) => t.maxRssMiB ?? NaN)),
          shards: ts,
        },
      })
    },
  }
}

/** The CPU time of this process since `cpu0` and its peak resident set so far. */
const resourcesSince = (cpu0: NodeJS.CpuUsage): { readonly cpuSeconds: number; readonly maxRssMiB: number } => {
  const cpu = process.cpuUsage(cpu0)
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 }
}

const sidCommonFields = (runs: number): FieldSpec[] => [
  { name: 'runs', kind: 'int', doc: `independent runs (each its own split and minibatch stream; default ${runs}): medians and 10–90% quantiles over them` },
  { name: 'epochs', kind: 'budgets', doc: 'epoch budgets, each an independent SID run (default 2,4,10,20,40,60; one number E: the defaults below E, then E)' },
  { name: 'variants', kind: 'enumList', values: SID_VARIANTS, doc: 'SID variants of §6 (default batch,stochConst,stochDec)' },
  {
    name: 'sampling',
    kind: 'enumList',
    values: SAMPLINGS,
    doc: "minibatches of the stochastic variants, a panel each: 'independent' (fresh draws, SID's assumption), 'reshuffle' (one permutation per epoch, as the PyTorch peer) (default both)",
  },
  { name: 'nTrain', kind: 'int', doc: 'MNIST training rows (default 5000)' },
  { name: 'nVal', kind: 'int', doc: 'MNIST validation rows (default 5000)' },
  { name: 'batchSize', kind: 'int', doc: 'minibatch size of the stochastic variants (default 50)' },
  { name: 'split', kind: 'enum', values: ['seeded', 'reference'], doc: "'seeded' (run r: seed + r) or 'reference' (the peers' split for every run)" },
  { name: 'seed', kind: 'int', doc: 'base seed of splits, minibatches and λ draws (default 0)' },
]

/** The experiments, by name. */
export const experiments = {
  'sid-fig1': define<SidFig1Config>({
    name: 'sid-fig1',
    title: 'SID on MNIST odd/even, one regularization parameter, four values of λ',
    reference: 'Grazzi, Pontil, Salzo (AISTATS 2021), §6, Fig. 1',
    fields: [
      ...sidCommonFields(sidFig1Defaults.runs),
      { name: 'lambdas', kind: 'numberList', doc: 'the values of λ, one panel each (default 1,10,100,1000)' },
    ],
    defaults: sidFig1Defaults,
    decode: (u) => SidFig1Codec.decode(u),
    cost: (c) => sidFiguresCost(c, c.lambdas.length, false),
    check: (c) => checkSid('sid-fig1', c),
    experiment: sidFig1,
  }),
  'sid-fig2': define<SidFig2Config>({
    name: 'sid-fig2',
    title: 'SID on MNIST odd/even, one regularization parameter per feature',
    reference: 'Grazzi, Pontil, Salzo (AISTATS 2021), §6, Fig. 2',
    fields: [
      ...sidCommonFields(sidFig2Defaults.runs),
      { name: 'epsLow', kind: 'number', doc: 'λᵢ = lambdaScale·e^εᵢ, εᵢ ~ U[epsLow, epsHigh] (default −2)' },
      { name: 'epsHigh', kind: 'number', doc: 'upper end of εᵢ (default 2)' },
      { name: 'lambdaScale', kind: 'number', doc: 'λᵢ = lambdaScale·e^εᵢ (default 1, as in the paper; n_tr = 5000 gives the mean-loss problem)' },
    ],
    defaults: sidFig2Defaults,
    decode: (u) => SidFig2Codec.decode(u),
    cost: (c) => sidFiguresCost(c, 1, true),
    check: (c) => (c.epsLow <= c.epsHigh ? checkSid('sid-fig2', c) : E.left(configError('sid-fig2', `epsLow ${c.epsLow} exceeds epsHigh ${c.epsHigh}`))),
    experiment: sidFig2,
  }),
  'iteration-complexity': define<IterationComplexityConfig>({
    name: 'iteration-complexity',
    title: 'ITD, AID-FP and AID-CG: hypergradient error against t = k',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020)',
    fields: [
      { name: 'runs', kind: 'int', doc: 'instances per problem (default 16): medians and 10–90% quantiles over them' },
      { name: 'iterations', kind: 'intList', doc: 'the values of t = k (default 0,10,25,50,100,150,200,300,400,500)' },
      { name: 'nTrain', kind: 'int', doc: 'MNIST training rows of the logistic problem (default 2000)' },
      { name: 'nVal', kind: 'int', doc: 'MNIST validation rows (default 2000)' },
      { name: 'lambdaScale', kind: 'number', doc: 'λᵢ = lambdaScale·e^εᵢ (default 100)' },
      { name: 'epsLow', kind: 'number', doc: 'εᵢ ~ U[epsLow, epsHigh] (default 0)' },
      { name: 'epsHigh', kind: 'number', doc: '(default 2)' },
      { name: 'quadDim', kind: 'int', doc: 'dimension d of the quadratic test bed (default 50)' },
      { name: 'quadHyperDim', kind: 'int', doc: 'hyperparameters m of the quadratic test bed (default 10)' },
      { name: 'quadTau', kind: 'number', doc: 'smallest Hessian eigenvalue of the quadratic (default 1)' },
      { name: 'quadL', kind: 'number', doc: 'largest Hessian eigenvalue of the quadratic (default 200)' },
      { name: 'bounds', kind: 'boolean', doc: 'plot the a priori bounds of Grazzi et al. 2020 (default true)' },
      { name: 'seed', kind: 'int', doc: 'base seed (default 0)' },
    ],
    defaults: iterationComplexityDefaults,
    decode: (u) => IterationComplexityCodec.decode(u),
    cost: iterationComplexityCost,
    check: (c) => {
      const sizes = mnistRowsFit('iteration-complexity', c)
      if (E.isLeft(sizes)) return sizes
      if (c.epsLow > c.epsHigh) return E.left(configError('iteration-complexity', `epsLow ${c.epsLow} exceeds epsHigh ${c.epsHigh}`))
      if (c.quadL < c.quadTau) return E.left(configError('iteration-complexity', `quadL ${c.quadL} is below quadTau ${c.quadTau}`))
      if (c.quadDim === 1 && c.quadL !== c.quadTau)
        return E.left(configError('iteration-complexity', 'quadDim 1 needs quadL = quadTau (one eigenvalue)'))
      return E.right(undefined)
    },
    experiment: iterationComplexity,
  }),
  bounds: define<BoundsConfig>({
    name: 'bounds',
    title: 'True hypergradient error against the a priori and a posteriori bounds',
    reference: 'Ehrhardt & Roberts (IMA J. Appl. Math. 2024), §4.1',
    fields: [
      { name: 'runs', kind: 'int', doc: 'problem instances (default 16): medians and 10–90% quantiles over them' },
      { name: 'rows', kind: 'int', doc: 'rows of A, C, D (default 1000)' },
      { name: 'cols', kind: 'int', doc: 'columns of A, C, D = dim w = dim λ (default 10)' },
      { name: 'lowerIterations', kind: 'int', doc: 'lower-level iterations t = 0…N (default 100)' },
      { name: 'linearIterations', kind: 'int', doc: 'linear-solver iterations k = 0…N (default 200)' },
      { name: 'seed', kind: 'int', doc: 'seed of the first instance (default 0)' },
    ],
    defaults: boundsDefaults,
    decode: (u) => BoundsCodec.decode(u),
    cost: boundsCost,
    check: (c) => (c.rows >= c.cols ? E.right(undefined) : E.left(configError('bounds', `rows ${c.rows} must be ≥ cols ${c.cols}`))),
    experiment: boundsExperiment,
  }),
  'er-budget-split': define<BudgetSplitConfig>({
    name: 'er-budget-split',
    title: 'A fixed total budget split between the lower solver (GD, heavy ball, FISTA) and the linear solver (GD, heavy ball, CG): error and both bounds',
    reference: 'Ehrhardt & Roberts (IMA J. Appl. Math. 2024), §4.1',
    fields: budgetSplitFields,
    defaults: budgetSplitDefaults,
    decode: decodeBudgetSplit,
    cost: budgetSplitCost,
    check: checkBudgetSplit,
    experiment: budgetSplit,
  }),
  'er-hypercleaning': define<ErCleaningConfig>({
    name: 'er-hypercleaning',
    title: '10-class softmax data hyper-cleaning on MNIST (10% corrupted labels): lower GD / heavy ball / FISTA × linear GD / heavy ball / CG at two tolerances each, fixed total budget',
    reference: 'Ehrhardt & Roberts (IMA J. Appl. Math. 2024), §4.2',
    fields: erCleaningFields,
    defaults: erCleaningDefaults,
    decode: decodeErCleaning,
    cost: erCleaningCost,
    check: checkErCleaning,
    experiment: erHypercleaning,
  }),
  'grazzi-krr': define<GzKrrConfig>({
    name: 'grazzi-krr',
    title: 'ITD, AID-FP and AID-CG against t = k: kernel ridge regression (RBF width and ridge) on the cars table',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020), §5',
    fields: GZ_FIELDS.krr,
    defaults: gzKrrDefaults,
    decode: decodeGrazzi('krr'),
    cost: grazziCost('krr'),
    check: checkGrazzi('krr'),
    experiment: grazziSweep('krr'),
  }),
  'grazzi-biased-reg': define<GzBiasedRegConfig>({
    name: 'grazzi-biased-reg',
    title: 'ITD, AID-FP and AID-CG against t = k: biased regularization on MNIST odd/even',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020), §5',
    fields: GZ_FIELDS.biasedReg,
    defaults: gzBiasedRegDefaults,
    decode: decodeGrazzi('biasedReg'),
    cost: grazziCost('biasedReg'),
    check: checkGrazzi('biasedReg'),
    experiment: grazziSweep('biasedReg'),
  }),
  'grazzi-hyper-rep': define<GzHyperRepConfig>({
    name: 'grazzi-hyper-rep',
    title: 'ITD, AID-FP and AID-CG against t = k: hyper-representation tanh(Λx) with a ridge head on MNIST',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020), §5',
    fields: GZ_FIELDS.hyperRep,
    defaults: gzHyperRepDefaults,
    decode: decodeGrazzi('hyperRep'),
    cost: grazziCost('hyperRep'),
    check: checkGrazzi('hyperRep'),
    experiment: grazziSweep('hyperRep'),
  }),
  'grazzi-newsgroups': define<GzNewsgroupsConfig>({
    name: 'grazzi-newsgroups',
    title: 'ITD, AID-FP and AID-CG against t = k: multinomial logistic regression with λ per feature on synthetic news20-like text (20 classes)',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020), §5 (20 Newsgroups)',
    fields: gzNewsgroupsFields,
    defaults: gzNewsgroupsDefaults,
    decode: decodeGzNewsgroups,
    cost: gzNewsgroupsCost,
    check: checkGzNewsgroups,
    experiment: gzNewsgroups,
  }),
  'grazzi-equilibrium': define<GzEquilibriumConfig>({
    name: 'grazzi-equilibrium',
    title: 'ITD, AID-FP and AID-GMRES (CG does not apply) against t = k: an equilibrium model on MNIST',
    reference: 'Grazzi, Franceschi, Pontil, Salzo (ICML 2020), §5',
    fields: GZ_FIELDS.equilibrium,
    defaults: gzEquilibriumDefaults,
    decode: decodeGrazzi('equilibrium'),
    cost: grazziCost('equilibrium'),
    check: checkGrazzi('equilibrium'),
    experiment: grazziSweep('equilibrium'),
  }),
  'tune-mnist': define<TuneMnistConfig>({
    name: 'tune-mnist',
    title: 'Hyperparameter optimization on MNIST odd/even: AID and SID with λ per pixel vs grid and random search, equal wall clock',
    reference: 'SID paper §6 (the problem); Grazzi et al. 2020 (AID-CG); SID Algorithm 1',
    fields: tuneMnistFields,
    defaults: tuneMnistDefaults,
    decode: decodeTuneMnist,
    cost: tuneMnistCost,
    check: checkTuneMnist,
    experiment: tuneMnist,
  }),
  'data-cleaning': define<DataCleaningConfig>({
    name: 'data-cleaning',
    title: 'Data hyper-cleaning on MNIST odd/even: one weight per training sample, 30% labels flipped',
    reference: 'Ehrhardt & Roberts (IMA J. Appl. Math. 2024), §4.2; SID paper problem (3)',
    fields: dataCleaningFields,
    defaults: dataCleaningDefaults,
    decode: decodeDataCleaning,
    cost: dataCleaningCost,
    check: checkDataCleaning,
    experiment: dataCleaning,
  }),
} as const

/** The name of a registered experiment. */
export type ExperimentName = keyof typeof experiments

/** The experiment names, in the order of the papers (the order of `experiments`). */
export const experimentNames: ReadonlyArray<ExperimentName> = Object.keys(experiments) as ExperimentName[]

/** An experiment with its configuration type erased (for a command line that picks it by name). */
export interface AnyExperiment extends Pick<Experiment<unknown>, 'title' | 'reference' | 'fields' | 'defaults' | 'configure' | 'plan'> {
  readonly name: ExperimentName
}

const isName = (name: string): name is ExperimentName => (experimentNames as ReadonlyArray<string>).includes(name)

/**
 * Run slice `shard` (i of n) of the named experiment's tasks with field overrides on top of its
 * defaults; the shard file to write (`shardFileName(shard)`, `encodeShard`). A slice's results
 * do not depend on n: each task's randomness is its own (shard.ts).
 */
export const reproduceShard = async (name: string, overrides: Overrides, shard: Shard, opts: RunOptions = {}): Promise<E.Either<HypergradError, ShardFile>> => {
  if (!isName(name)) return getExperiment(name) as E.Either<HypergradError, never>
  const x = experiments[name] as Experiment<unknown>
  const c = x.configure(overrides)
  if (E.isLeft(c)) return c
  return x.runShard(c.right, shard, opts)
}

/**
 * Put shard files (`name` for the messages, `text` their contents) together into the output of
 * one unsharded run of their experiment: the same results.json (but for the timing), CSV and
 * figures. A 'config' error naming the files for anything that does not make one whole run
 * (shard.ts: another format or library version, experiment or configuration, slice count or
 * task list, a slice twice or missing).
 */
export const mergeShards = (files: ReadonlyArray<{ readonly name: string; readonly text: string }>): E.Either<HypergradError, ExperimentOutput<unknown>> => {
  const decoded: Array<{ readonly name: string; readonly file: ShardFile }> = []
  for (const f of files) {
    const d = decodeShard(f.text, f.name)
    if (E.isLeft(d)) return d
    decoded.push({ name: f.name, file: d.right })
  }
  const checked = checkShards(decoded, libraryVersion())
  if (E.isLeft(checked)) return checked
  const name = checked.right.experiment
  if (!isName(name)) return E.left(hgError('config', `merge: the shards are of ${showValue(name, 40)}, which this version does not know (known: ${experimentNames.join(', ')})`))
  return (experiments[name] as Experiment<unknown>).merge(checked.right)
}

/** Look an experiment up by name ('config' error naming the known ones otherwise). */
export const getExperiment = (name: string): E.Either<HypergradError, AnyExperiment> =>
  isName(name)
    ? E.right({ ...(experiments[name] as Experiment<unknown>), name })
    : E.left(hgError('config', `reproduce: unknown experiment ${showValue(name, 40)}${didYouMean(name, experimentNames) || ` (known: ${experimentNames.join(', ')})`}`))

/** Decode overrides for the named experiment (see `Experiment.configure`). */
export const configure = (name: string, overrides: Overrides = {}): E.Either<HypergradError, unknown> =>
  E.flatMap(getExperiment(name), (x) => x.configure(overrides))

/**
 * Run the named experiment with field overrides on top of its defaults: the one call a command
 * line needs. Progress: onProgress(0, total), then (done, total) after every task.
 */
export const reproduce = async (name: string, overrides: Overrides = {}, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<unknown>>> => {
  if (!isName(name)) return getExperiment(name) as E.Either<HypergradError, never>
  const x = experiments[name] as Experiment<unknown>
  const c = x.configure(overrides)
  if (E.isLeft(c)) return c
  return x.run(c.right, opts)
}

/** JSON with non-finite numbers as null and typed arrays as arrays. */
const toJson = (x: unknown): string =>
  JSON.stringify(
    x,
    (_k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return null
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>)
      return v
    },
    1,
  )

/** The files `write` produced. */
export interface Written {
  readonly dir: string
  readonly files: ReadonlyArray<string>
}

/**
 * Store a run's results in `outDir` (created if missing): results.json (config, summary,
 * timing and every run's numbers), results.csv (one row per run × setting × point) and each
 * figure as SVG. A failure to write is a 'config' error naming the path.
 */
export const write = async (results: ExperimentOutput<unknown>, outDir: string): Promise<E.Either<HypergradError, Written>> => {
  const files: string[] = []
  const put = async (file: string, text: string): Promise<void> => {
    const path = join(outDir, file)
    await writeFile(path, text, 'utf8')
    files.push(path)
  }
  try {
    // vega is loaded only here, after the run: it is not needed (nor held in memory) while tasks run.
    const { lineFigure } = await import('../report/figure.js')
    await mkdir(outDir, { recursive: true })
    await put(
      'results.json',
      toJson({
        experiment: results.experiment,
        config: results.config,
        summary: results.summary,
        timing: results.timing,
        figures: results.figures.map((f) => f.file),
        details: results.details,
      }),
    )
    await put('results.csv', toCsv(results.rows))
    for (const f of results.figures) await put(f.file, await lineFigure(f.panels, f.options))
  } catch (e) {
    return E.left(hgError('config', `reproduce ${results.experiment}: cannot write to ${outDir} (${e instanceof Error ? e.message : String(e)})`))
  }
  return E.right({ dir: outDir, files })
}
