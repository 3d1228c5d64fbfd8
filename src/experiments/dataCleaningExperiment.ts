/**
 * `data-cleaning`: data hyper-cleaning on MNIST odd versus even (Ehrhardt & Roberts §4.2; the
 * bilevel problem of `dataCleaningProblem`). A fraction of the training labels is flipped
 * (seeded, `flipLabels`), and one hyperparameter λᵢ per training sample weighs its loss by
 * σ(λᵢ):
 *
 *   ℓ(w, λ) = Σᵢ σ(λᵢ) ψ(yᵢxᵢᵀw) + (ρ/2)‖w‖²,    E(w) = Σ_val ψ(yᵢxᵢᵀw).
 *
 * With m = n_train hyperparameters (2000 by default), the hypergradient must cost O(1) products
 * in m: AID (Grazzi et al. 2020; SID eq. 4–6) needs one ∂₂Φᵀv product for the whole gradient,
 * whereas forward-mode ITD would need m directional passes per step. λ is tuned by `tune` with
 * Adam on λ itself (λ ranges over R), each hypergradient by AID-CG (heavy ball on the lower
 * problem, conjugate gradient on the linear system) to the tolerances tolLower/tolLinear,
 * warm-started from the previous step.
 *
 * Reported per outer step: the validation loss, the test accuracy of the current model, and how
 * well the lowest weights find the flipped samples: among the flagFraction·n samples with the
 * lowest λ, the precision (the share that are flipped) and the recall (the share of the flipped
 * ones found), the mean weight σ(λᵢ) of flipped and of clean samples, and the AUC (the
 * probability that a flipped sample has a lower λ than a clean one, ties counting ½). The final
 * model (its λ re-solved to tolLower/100) is compared with logistic regression (ridge ρ) trained
 * on the corrupted set and on the clean subset only.
 *
 * One task per run (its own split, mnistOddEven({ seed: seed + run }), and its own flips).
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { aidCost, fullBatchCost } from '../config/cost.js'
import { FiniteNumber, Fraction, PositiveInt, PositiveNumber, Seed } from '../config/codecs.js'
import type { Dataset } from '../data/dataset.js'
import { mnistOddEven } from '../data/mnist.js'
import { flipLabels, subsetRows } from '../data/split.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { tune, type HyperOracle, type TuneStep } from '../outer/tune.js'
import type { ErmProblem } from '../problem/erm.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { logisticProblem, sigmoid } from '../problems/logistic.js'
import { seed as rngSeed } from '../random/rng.js'
import type { Panel, Series } from '../report/figure.js'
import { heavyBallParamsFor } from '../solvers/params.js'
import { aidHeavyBallCg, warmStartAt } from './aidOracle.js'
import { fieldTable } from './fieldTable.js'
import type { CsvRow, ExperimentCost, ExperimentOutput, FieldSpec, RunOptions, TaskOutcome } from './types.js'
import { bandNote, bandSeries, finiteOrNull, fixed, maxOf, mnistSizes, mnistProblemBytes, outcomeOf, resultBytes, runSweep, splitBytes, spread, WORKER_BYTES, type ExperimentSweep } from './common.js'
import { classifierScores, solveLower } from './tuneMnist.js'

// ── configuration ────────────────────────────────────────────────────────────────────────────

/** The configuration of data-cleaning. */
export interface DataCleaningConfig {
  /** Independent runs (split seed + run, own flips). */
  readonly runs: number
  readonly nTrain: number
  readonly nVal: number
  readonly nTest: number
  /** Fraction of the training labels flipped. */
  readonly flipFraction: number
  /** Fraction of the training samples with the lowest λ that are flagged as corrupted. */
  readonly flagFraction: number
  /** The fixed ridge weight ρ of the lower problem (also the baselines' λ). */
  readonly rho: number
  /** Start of every λᵢ (σ(0) = ½). */
  readonly lambda0: number
  /** Outer steps and Adam step on λ. */
  readonly steps: number
  readonly stepSize: number
  /** AID-CG: ‖Φ(w) − w‖ ≤ tolLower, CG to tolLinear·‖∇₁E‖, at most maxT and maxK steps. */
  readonly tolLower: number
  readonly tolLinear: number
  readonly maxT: number
  readonly maxK: number
  readonly seed: number
}

/**
 * Defaults: 2000 training / 1000 validation / 2000 test digits, 30% of the training labels
 * flipped, ρ = 10, λ₀ = 0, 60 Adam steps of 0.2, 16 runs (the quantiles over seeds). At
 * 2000 × 784 one pass over the training set is a few milliseconds, κ = L/ρ is about 2·10³, and
 * a warm-started AID-CG step needs some 40–165 lower and 15–32 CG passes: about 8–12 s of
 * tuning per run on one core (measured on a shared 2-core machine), 1.5–2 minutes for the 16
 * runs on two workers.
 */
export const dataCleaningDefaults: DataCleaningConfig = {
  runs: 16,
  nTrain: 2000,
  nVal: 1000,
  nTest: 2000,
  flipFraction: 0.3,
  flagFraction: 0.3,
  rho: 10,
  lambda0: 0,
  steps: 60,
  stepSize: 0.2,
  tolLower: 1e-5,
  tolLinear: 1e-4,
  maxT: 3000,
  maxK: 300,
  seed: 0,
}

const dataCleaningTable = fieldTable<DataCleaningConfig>('a data-cleaning configuration', {
  runs: { codec: PositiveInt, kind: 'int', doc: 'independent runs, each its own split and flips (default 16): medians and 10–90% quantiles over them' },
  nTrain: { codec: PositiveInt, kind: 'int', doc: 'MNIST training rows = number of hyperparameters (default 2000)' },
  nVal: { codec: PositiveInt, kind: 'int', doc: 'validation rows (default 1000)' },
  nTest: { codec: PositiveInt, kind: 'int', doc: 'test rows (default 2000)' },
  flipFraction: { codec: Fraction, kind: 'number', doc: 'fraction of training labels flipped (default 0.3)' },
  flagFraction: { codec: Fraction, kind: 'number', doc: 'fraction of lowest-weight samples flagged (default 0.3)' },
  rho: { codec: PositiveNumber, kind: 'number', doc: 'ridge weight ρ of the lower problem (default 10)' },
  lambda0: { codec: FiniteNumber, kind: 'number', doc: 'start of every λᵢ (default 0: weight ½)' },
  steps: { codec: PositiveInt, kind: 'int', doc: 'outer Adam steps (default 60)' },
  stepSize: { codec: PositiveNumber, kind: 'number', doc: 'Adam step on λ (default 0.2)' },
  tolLower: { codec: PositiveNumber, kind: 'number', doc: 'lower-level stop ‖Φ(w) − w‖ ≤ tolLower (default 1e-5)' },
  tolLinear: { codec: PositiveNumber, kind: 'number', doc: 'CG stop at relative residual tolLinear (default 1e-4)' },
  maxT: { codec: PositiveInt, kind: 'int', doc: 'cap on lower-level steps per AID call (default 3000)' },
  maxK: { codec: PositiveInt, kind: 'int', doc: 'cap on CG steps per AID call (default 300)' },
  seed: { codec: Seed, kind: 'int', doc: 'base seed of the splits and the flips (default 0)' },
})

/** The fields, for `hypergrad reproduce list`. */
export const dataCleaningFields: ReadonlyArray<FieldSpec> = dataCleaningTable.fields

/** Decode a data-cleaning configuration (io-ts validation). */
export const decodeDataCleaning = (u: unknown): t.Validation<DataCleaningConfig> => dataCleaningTable.decode(u)

/** The cross-field constraints of a data-cleaning configuration. */
export const checkDataCleaning = (c: DataCleaningConfig): E.Either<HypergradError, void> => {
  if (c.nTrain + c.nVal + c.nTest > 10000)
    return E.left(hgError('config', `reproduce data-cleaning: nTrain + nVal + nTest = ${c.nTrain + c.nVal + c.nTest} exceeds the 10000 MNIST digits of the package`))
  if (Math.round(c.flipFraction * c.nTrain) < 1 || Math.round(c.flagFraction * c.nTrain) < 1)
    return E.left(hgError('config', `reproduce data-cleaning: nTrain ${c.nTrain} is too small for flipFraction ${c.flipFraction} and flagFraction ${c.flagFraction} (need at least one sample each)`))
  return E.right(undefined)
}

// ── detection scores ─────────────────────────────────────────────────────────────────────────

/** How well the lowest λ find the flipped samples. */
export interface Detection {
  /** Flipped samples among the ⌊flag·n⌉ lowest λ, over that count. */
  readonly precision: number
  /** Flipped samples among the lowest λ, over the number of flipped samples. */
  readonly recall: number
  /** Mean σ(λᵢ) over the flipped samples and over the clean ones. */
  readonly meanWeightFlipped: number
  readonly meanWeightClean: number
  /** P(λ_flipped < λ_clean) + ½P(=), over all flipped × clean pairs (Mann–Whitney). */
  readonly auc: number
}

/**
 * Detection scores of λ for the flipped set (`flipped`: row indices). Ties at the cut of the
 * lowest-λ set are broken by the row index (lowest first), so the flagged set has exactly
 * round(flagFraction·n) rows.
 */
export const detection = (lambda: ArrayLike<number>, flipped: ArrayLike<number>, flagFraction: number): Detection => {
  const n = lambda.length
  const isFlipped = new Uint8Array(n)
  for (let k = 0; k < flipped.length; k++) isFlipped[flipped[k]!] = 1
  const nf = flipped.length
  const nc = n - nf
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => lambda[a]! - lambda[b]! || a - b)
  const flag = Math.round(flagFraction * n)
  let hits = 0
  for (let r = 0; r < flag; r++) hits += isFlipped[order[r]!]!
  let wf = 0
  let wc = 0
  for (let i = 0; i < n; i++) {
    const s = sigmoid(lambda[i]!)
    if (isFlipped[i] === 1) wf += s
    else wc += s
  }
  // AUC by ranks: walk the sorted λ in blocks of ties; a flipped sample beats every clean one
  // strictly above it and ties half of those in its block.
  let cleanBelow = 0
  let wins = 0
  for (let r = 0; r < n; ) {
    let e = r
    while (e < n && lambda[order[e]!]! === lambda[order[r]!]!) e++
    let f = 0
    let c = 0
    for (let q = r; q < e; q++) (isFlipped[order[q]!] === 1 ? f++ : c++)
    wins += f * (nc - cleanBelow - c) + 0.5 * f * c
    cleanBelow += c
    r = e
  }
  return {
    precision: flag === 0 ? NaN : hits / flag,
    recall: nf === 0 ? NaN : hits / nf,
    meanWeightFlipped: nf === 0 ? NaN : wf / nf,
    meanWeightClean: nc === 0 ? NaN : wc / nc,
    auc: nf === 0 || nc === 0 ? NaN : wins / (nf * nc),
  }
}

// ── one task: one run ────────────────────────────────────────────────────────────────────────

/** The input of one task. */
export interface DataCleaningTaskInput extends DataCleaningConfig {
  readonly run: number
}

/** One outer step. */
export interface CleaningPoint extends Detection {
  readonly step: number
  readonly seconds: number
  /** Validation loss E(wₜ) of the step's model. */
  readonly value: number
  readonly gradNorm: number
  readonly testAccuracy: number
  readonly testLoss: number
  readonly t: number
  readonly k: number
}

/** A model's validation loss and test scores. */
export interface ModelScores {
  readonly value: number
  readonly testAccuracy: number
  readonly testLoss: number
  readonly iterations: number
}

/** The result of one run. */
export interface DataCleaningTaskResult {
  readonly run: number
  readonly flipped: number
  readonly points: ReadonlyArray<CleaningPoint>
  /** Logistic regression with ridge ρ on the corrupted training set, and on its clean subset. */
  readonly corrupted: ModelScores
  readonly clean: ModelScores
  /** The data-cleaning model at the final λ, re-solved to tolLower/100. */
  readonly cleaned: ModelScores
  readonly final: Detection
  readonly status: 'converged' | 'maxIter' | 'diverged'
  readonly seconds: { readonly load: number; readonly baselines: number; readonly tune: number; readonly refit: number }
}

/** The logistic model with ridge ρ on a training set, solved to tol; its scores. */
const baseline = (train: Dataset, validation: Dataset, test: Dataset, c: DataCleaningConfig): E.Either<HypergradError, ModelScores> => {
  const L = Float64Array.of(c.rho)
  const p = logisticProblem(train, validation, L, { regularization: 'scalar' })
  if (E.isLeft(p)) return p
  return scored(p.right, L, test, c, undefined)
}

const scored = (problem: ErmProblem, lambda: RVec, test: Dataset, c: DataCleaningConfig, w0: RVec | undefined): E.Either<HypergradError, ModelScores> => {
  const r = solveLower(problem, lambda, { tol: c.tolLower / 100, maxIter: 20 * c.maxT, ...(w0 !== undefined ? { w0 } : {}) })
  if (E.isLeft(r)) return r
  const s = classifierScores(test, r.right.w)
  return E.right({ value: r.right.value, testAccuracy: s.accuracy, testLoss: s.loss, iterations: r.right.iterations })
}

/** One task: one run of the experiment. */
export const dataCleaningTask = (input: DataCleaningTaskInput): TaskOutcome<DataCleaningTaskResult> => {
  const out = taskEither(input)
  return outcomeOf(out)
}

const taskEither = (c: DataCleaningTaskInput): E.Either<HypergradError, DataCleaningTaskResult> => {
  const t0 = performance.now()
  const d = mnistOddEven({ nTrain: c.nTrain, nVal: c.nVal, nTest: c.nTest, seed: c.seed + c.run })
  if (E.isLeft(d)) return d
  const fl = flipLabels(d.right.train, c.flipFraction, rngSeed(c.seed * 100003 + c.run + 7919))
  if (E.isLeft(fl)) return fl
  const train = fl.right.data
  const flipped = fl.right.flipped
  const { validation } = d.right
  const test = d.right.test!
  const t1 = performance.now()

  const corrupted = baseline(train, validation, test, c)
  if (E.isLeft(corrupted)) return corrupted
  const isFlipped = new Uint8Array(c.nTrain)
  for (const i of flipped) isFlipped[i] = 1
  const cleanRows: number[] = []
  for (let i = 0; i < c.nTrain; i++) if (isFlipped[i] === 0) cleanRows.push(i)
  const clean = baseline(subsetRows(train, cleanRows), validation, test, c)
  if (E.isLeft(clean)) return clean
  const t2 = performance.now()

  // The oracle hands back v·α as "v": p = αv solves ∇²ℓ p = ∇₁E, independent of the step α,
  // which changes with λ; the next step's warm start divides by its own α.
  const oracle: HyperOracle = ({ lambda, warm }) => {
    const p = dataCleaningProblem(train, validation, lambda, { rho: c.rho })
    if (E.isLeft(p)) return p
    const problem = p.right
    const a = problem.alpha
    const hbE = heavyBallParamsFor(problem, lambda)
    if (E.isLeft(hbE)) return hbE
    const r = aidHeavyBallCg(problem, lambda, hbE.right, c, warmStartAt(warm, a))
    if (E.isLeft(r)) return r
    return E.right({ ...r.right, v: r.right.v.map((x) => x * a) })
  }
  const steps: Array<{ readonly step: TuneStep & { readonly value: number }; readonly det: Detection }> = []
  let pending: Detection | undefined
  const r = tune(new Float64Array(c.nTrain).fill(c.lambda0), oracle, {
    optimizer: 'adam',
    steps: c.steps,
    stepSize: c.stepSize,
    warmStart: true,
    evaluate: (lambda, w) => {
      pending = detection(lambda, flipped, c.flagFraction)
      const s = classifierScores(test, w)
      return { testAccuracy: s.accuracy, testLoss: s.loss }
    },
    onStep: (s) => steps.push({ step: s, det: pending! }),
  })
  if (E.isLeft(r)) return r
  const t3 = performance.now()
  const lambda = r.right.lambda
  const p = dataCleaningProblem(train, validation, lambda, { rho: c.rho })
  if (E.isLeft(p)) return p
  const cleaned = scored(p.right, lambda, test, c, r.right.w)
  if (E.isLeft(cleaned)) return cleaned
  const points: CleaningPoint[] = steps.map(({ step: s, det }) => ({
    step: s.step,
    seconds: s.seconds,
    value: s.value,
    gradNorm: s.gradNorm,
    testAccuracy: s.metrics?.['testAccuracy'] ?? NaN,
    testLoss: s.metrics?.['testLoss'] ?? NaN,
    t: s.t,
    k: s.k,
    ...det,
  }))
  return E.right({
    run: c.run,
    flipped: flipped.length,
    points,
    corrupted: corrupted.right,
    clean: clean.right,
    cleaned: cleaned.right,
    final: detection(lambda, flipped, c.flagFraction),
    status: r.right.status,
    seconds: { load: (t1 - t0) / 1000, baselines: (t2 - t1) / 1000, tune: (t3 - t2) / 1000, refit: (performance.now() - t3) / 1000 },
  })
}

/**
 * What data-cleaning costs, before any work: per run two baselines and a refit (each up to
 * 20·maxT lower steps), and `steps` outer steps of AID-CG with up to maxT lower and maxK CG
 * steps (the caps: tolerances usually stop it far earlier); each step records λ (one number
 * per training sample).
 */
export const dataCleaningCost = (c: DataCleaningConfig): ExperimentCost => {
  const s = mnistSizes(c.nTrain, c.nTrain)
  const perRun = 3 * fullBatchCost(s, 20 * c.maxT).seconds + c.steps * aidCost(s, c.maxT, c.maxK).seconds
  const trajectory = c.steps * (16 * c.nTrain + 600)
  const perTask = resultBytes(20 * c.steps + 40)
  return {
    seconds: c.runs * perRun,
    results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
    perWorker: {
      bytes: WORKER_BYTES + splitBytes(c.nTrain + c.nVal + c.nTest) + 2 * splitBytes(c.nTrain) + mnistProblemBytes(c.nTrain) + aidCost(s, c.maxT, c.maxK).bytes + trajectory,
      heapBytes: aidCost(s, c.maxT, c.maxK).heapBytes + trajectory,
    },
    shared: 0,
    tasks: c.runs,
  }
}

// ── the experiment ───────────────────────────────────────────────────────────────────────────

/** A quantity over the runs with d decimals: "median [10%, 90%], mean m" (the value itself for one run). */
const pm = (xs: ReadonlyArray<number>, d: number): string => {
  const s = spread(xs)
  return xs.length > 1 ? `${fixed(s.median, d)} [${fixed(s.q10, d)}, ${fixed(s.q90, d)}], mean ${fixed(s.mean, d)}` : fixed(s.median, d)
}

/**
 * data-cleaning: one task per run; figure data-cleaning.svg (validation loss, test accuracy
 * with the two baselines, detection of the flipped samples; median and 10–90% band over the
 * runs against the outer step), results.csv (one row per run × step), and a summary table.
 */
export const dataCleaning: ExperimentSweep<DataCleaningConfig> = {
  sweep: (config) => ({
    groups: [
      {
        tasks: Array.from({ length: config.runs }, (_, run) => ({
          module: 'dataCleaningExperiment',
          fn: 'dataCleaningTask',
          input: { ...config, run } satisfies DataCleaningTaskInput,
        })),
      },
    ],
  }),
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<DataCleaningTaskResult>
    const nSteps = maxOf(results.map((r) => r.points.length))
    const xs = Array.from({ length: nSteps }, (_, i) => i)
    const line = (name: string, f: (p: CleaningPoint) => number): Series =>
      bandSeries(
        name,
        xs,
        xs.map((i) => spread(results.map((r) => (r.points[i] === undefined ? null : f(r.points[i]!))))),
      )
    const flat = (name: string, v: number): Series => ({ name, x: xs, y: xs.map(() => v) })
    const mid = (f: (r: DataCleaningTaskResult) => number): number => spread(results.map(f)).median
    const pct = Math.round(100 * config.flagFraction)
    const panels: Panel[] = [
      {
        title: 'validation loss E(w)',
        series: [line('cleaned (AID-CG)', (p) => p.value), flat('corrupted set', mid((r) => r.corrupted.value)), flat('clean subset only', mid((r) => r.clean.value))],
      },
      {
        title: 'test accuracy',
        series: [
          line('cleaned (AID-CG)', (p) => p.testAccuracy),
          flat('corrupted set', mid((r) => r.corrupted.testAccuracy)),
          flat('clean subset only', mid((r) => r.clean.testAccuracy)),
        ],
      },
      {
        title: `flipped samples among the lowest ${pct}% of λ`,
        series: [line('precision', (p) => p.precision), line('recall', (p) => p.recall), line('AUC', (p) => p.auc)],
      },
    ]
    const rows: CsvRow[] = results.flatMap((r) =>
      r.points.map((p) => ({
        experiment: 'data-cleaning',
        run: r.run,
        step: p.step,
        seconds: p.seconds,
        validation_loss: finiteOrNull(p.value),
        grad_norm: finiteOrNull(p.gradNorm),
        test_accuracy: finiteOrNull(p.testAccuracy),
        test_loss: finiteOrNull(p.testLoss),
        precision: finiteOrNull(p.precision),
        recall: finiteOrNull(p.recall),
        auc: finiteOrNull(p.auc),
        mean_weight_flipped: finiteOrNull(p.meanWeightFlipped),
        mean_weight_clean: finiteOrNull(p.meanWeightClean),
        t: p.t,
        k: p.k,
        corrupted_test_accuracy: r.corrupted.testAccuracy,
        clean_test_accuracy: r.clean.testAccuracy,
      })),
    )
    const runs = results.length
    const lines = [
      `data-cleaning: MNIST odd/even ${config.nTrain}/${config.nVal}/${config.nTest}, ${Math.round(100 * config.flipFraction)}% of training labels flipped, ρ = ${config.rho}, ${config.steps} Adam steps, ${runs} run${runs > 1 ? 's' : ''}${runs > 1 ? ' (median [10%, 90%] over the runs, and the mean)' : ''}`,
      `${'model'.padEnd(34)} ${'validation loss'.padEnd(36)} test accuracy`,
      `${'trained on the corrupted set'.padEnd(34)} ${pm(results.map((r) => r.corrupted.value), 1).padEnd(36)} ${pm(results.map((r) => r.corrupted.testAccuracy), 4)}`,
      `${'trained on the clean subset'.padEnd(34)} ${pm(results.map((r) => r.clean.value), 1).padEnd(36)} ${pm(results.map((r) => r.clean.testAccuracy), 4)}`,
      `${'data cleaning (final λ, refit)'.padEnd(34)} ${pm(results.map((r) => r.cleaned.value), 1).padEnd(36)} ${pm(results.map((r) => r.cleaned.testAccuracy), 4)}`,
      `flipped among the lowest ${pct}% of λ: precision ${pm(results.map((r) => r.final.precision), 3)}; recall ${pm(results.map((r) => r.final.recall), 3)}; AUC ${pm(results.map((r) => r.final.auc), 3)}`,
      `mean weight σ(λ) of the flipped samples ${pm(results.map((r) => r.final.meanWeightFlipped), 3)}; of the clean ones ${pm(results.map((r) => r.final.meanWeightClean), 3)}`,
      ...results.filter((r) => r.status === 'diverged').map((r) => `run ${r.run}: DIVERGED at outer step ${r.points.length} (the numbers above include its last good step)`),
    ]
    return E.right({
      experiment: 'data-cleaning',
      config,
      rows,
      figures: [
        {
          file: 'data-cleaning.svg',
          panels,
          options: {
            title: `Data hyper-cleaning on MNIST odd/even: ${config.nTrain} per-sample weights, ${Math.round(100 * config.flipFraction)}% labels flipped; ${bandNote(runs)}`,
            xLabel: 'outer step',
            yLabel: '',
            columns: 3,
          },
        },
      ],
      summary: lines.join('\n'),
      details: { results },
      timing: {
        ...timing,
        taskSeconds: results.map((r) => r.seconds.load + r.seconds.baselines + r.seconds.tune + r.seconds.refit),
        phases: results.map((r) => ({ run: r.run, ...r.seconds })),
      },
    })
  },
}

/** Run data-cleaning (see {@link dataCleaning}). */
export const runDataCleaning = (config: DataCleaningConfig, opts: RunOptions = {}): Promise<E.Either<HypergradError, ExperimentOutput<DataCleaningConfig>>> => runSweep(dataCleaning, config, opts)
