/**
 * `grazzi-newsgroups`: Grazzi, Franceschi, Pontil, Salzo (ICML 2020) §5's 20 Newsgroups
 * experiment — multinomial logistic regression with one regularization parameter per feature,
 *
 *   ℓ(W, λ) = Σ_train CE(Wᵀxᵢ, yᵢ) + ½ Σⱼ λⱼ‖W_{j,:}‖²,   E(W) = Σ_val CE(Wᵀxᵢ, yᵢ)
 *
 * (`softmaxProblem` with regularization 'perFeature'; W is d × C) — the hypergradient error of
 * ITD (reverse mode), AID-FP and AID-CG against t = k, each after t steps of the fixed-point
 * iteration Φ = W − α∇ℓ from W₀ = 0 (errorSweep.ts, shared with the other grazzi-* experiments).
 *
 * The corpus cannot be downloaded here: the data are synthetic text-like rows with 20 classes
 * (`textLikeClasses`, the recipe of the peer script sparse_ref.py: Zipf-like column frequencies,
 * log-normal values, unit-norm rows), by default 1000 training and 500 validation rows over
 * 5000 columns, about 100 entries a row — news20 has 19,996 × 1,355,191 and about 455 a row,
 * which the fields reach but which ITD, storing t iterates of d·C numbers, cannot afford.
 * λⱼ = lambdaScale·e^{εⱼ}, εⱼ ~ U[epsLow, epsHigh], per instance.
 *
 * The reference: d·C (100,000 by default) is far too large for `exact` (a dense d·C × d·C
 * Jacobian), so the truth is AID run to the rounding level (`aidTruth`: Newton-CG on the lower
 * problem to ‖∇ℓ‖ ≤ 1e-11‖∇ℓ(0)‖, conjugate gradient on the linear system to a relative residual
 * of 1e-12), whose certificate — the radius ‖ŵ − w(λ)‖ ≤ ‖∇ℓ(ŵ)‖/τ and the residual — is
 * reported with each instance.
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as t from 'io-ts'
import { FiniteNumber, nonEmpty, NonNegativeInt, PositiveInt, PositiveNumber, Seed } from '../config/codecs.js'
import { aidCost, fullBatchCost, itdCost, STATE_BYTES, type Sizes } from '../config/cost.js'
import { subsetRows } from '../data/split.js'
import { textLikeClasses } from '../data/textLike.js'
import { hgError, type HypergradError } from '../errors.js'
import { nnz } from '../linalg/csr.js'
import { norm } from '../linalg/vector.js'
import { softmaxProblem } from '../problems/softmax.js'
import { seed as rngSeed, uniformsIn } from '../random/rng.js'
import { fieldTable } from './fieldTable.js'
import { aidTruth } from './aidTruth.js'
import { fmt, outcomeOf, resultBytes, spread, WORKER_BYTES, type ExperimentSweep, type TaskGroup } from './common.js'
import { errorsAgainstT, sweepBands, sweepOutput, type SweepMethod, type SweepPoint } from './errorSweep.js'
import type { ExperimentCost, FieldSpec, TaskOutcome } from './types.js'

/** The configuration of grazzi-newsgroups. */
export interface GzNewsgroupsConfig {
  /** Independent instances (data and λ drawn from seed + run). */
  readonly runs: number
  /** The values of t (= k). */
  readonly iterations: ReadonlyArray<number>
  readonly nTrain: number
  readonly nVal: number
  /** Columns d of the synthetic text (the vocabulary). */
  readonly features: number
  /** Mean stored entries per row. */
  readonly nnzPerRow: number
  /** Classes C. */
  readonly classes: number
  /** λⱼ = lambdaScale·e^{εⱼ}, εⱼ ~ U[epsLow, epsHigh]. */
  readonly lambdaScale: number
  readonly epsLow: number
  readonly epsHigh: number
  readonly seed: number
}

/**
 * Defaults: 4 instances, t = k up to 150, 1000/500 rows × 5000 columns, ~100 entries a row,
 * 20 classes, λⱼ ∈ 3·[1, e²] (κ = L/τ ≈ 25 from the library's bound L = σ_max(X)²/2 + max λ).
 * A pass over the data touches each of the ~80,000 stored entries 20 times, scattered over
 * W's 100,000 numbers: about 30 ms measured on a shared 2-core machine, and an instance about
 * 50 s (ITD's passes dominate).
 */
export const gzNewsgroupsDefaults: GzNewsgroupsConfig = {
  runs: 4,
  iterations: [0, 10, 25, 50, 75, 100, 150],
  nTrain: 1000,
  nVal: 500,
  features: 5000,
  nnzPerRow: 100,
  classes: 20,
  lambdaScale: 3,
  epsLow: 0,
  epsHigh: 2,
  seed: 0,
}

const gzNewsgroupsTable = fieldTable<GzNewsgroupsConfig>('a grazzi-newsgroups configuration', {
  runs: { codec: PositiveInt, kind: 'int', doc: 'independent instances, each its own synthetic data and λ (default 4): medians and 10–90% quantiles over them' },
  iterations: { codec: nonEmpty(NonNegativeInt, 'a non-empty list of integers ≥ 0'), kind: 'intList', doc: `the values of t = k (default ${gzNewsgroupsDefaults.iterations.join(',')})` },
  nTrain: { codec: PositiveInt, kind: 'int', doc: 'training rows (default 1000; news20 has 19,996 documents in all)' },
  nVal: { codec: PositiveInt, kind: 'int', doc: 'validation rows (default 500)' },
  features: { codec: PositiveInt, kind: 'int', doc: 'columns d of the synthetic text = hyperparameters (default 5000; news20 has 1,355,191)' },
  nnzPerRow: { codec: PositiveNumber, kind: 'number', doc: 'mean stored entries per row (default 100; news20 about 455)' },
  classes: { codec: PositiveInt, kind: 'int', doc: 'classes C (default 20, as 20 Newsgroups); W has d·C entries' },
  lambdaScale: { codec: PositiveNumber, kind: 'number', doc: 'λⱼ = lambdaScale·e^εⱼ (default 3)' },
  epsLow: { codec: FiniteNumber, kind: 'number', doc: 'εⱼ ~ U[epsLow, epsHigh] (default 0)' },
  epsHigh: { codec: FiniteNumber, kind: 'number', doc: '(default 2)' },
  seed: { codec: Seed, kind: 'int', doc: 'base seed of the data and the λ draws (default 0)' },
})

/** The fields, for `hypergrad reproduce list`. */
export const gzNewsgroupsFields: ReadonlyArray<FieldSpec> = gzNewsgroupsTable.fields

/** Decode a configuration (io-ts). */
export const decodeGzNewsgroups = (u: unknown): t.Validation<GzNewsgroupsConfig> => gzNewsgroupsTable.decode(u)

/** The cross-field constraints. */
export const checkGzNewsgroups = (c: GzNewsgroupsConfig): E.Either<HypergradError, void> => {
  const bad = (m: string) => E.left(hgError('config', `reproduce grazzi-newsgroups: ${m}`))
  if (c.classes < 2) return bad(`classes ${c.classes} must be ≥ 2`)
  if (c.epsLow > c.epsHigh) return bad(`epsLow ${c.epsLow} exceeds epsHigh ${c.epsHigh}`)
  return E.right(undefined)
}

// ── one task: one instance ──────────────────────────────────────────────────────────────────

/** The input of one task. */
export interface GzNewsgroupsTaskInput extends GzNewsgroupsConfig {
  readonly run: number
}

/** The result of one instance. */
export interface GzNewsgroupsTaskResult {
  readonly run: number
  /** d·C and d. */
  readonly dim: number
  readonly hyperDim: number
  /** Stored entries of the training matrix. */
  readonly nnz: number
  readonly q: number
  readonly kappa: number
  /** ‖∇f(λ)‖ of the reference. */
  readonly gradNorm: number
  /** The reference's certificate (aidTruth.ts). */
  readonly truth: { readonly relGradLower: number; readonly radius: number; readonly relResidual: number; readonly newtonSteps: number; readonly products: number }
  readonly points: ReadonlyArray<SweepPoint>
  readonly seconds: number
}

const METHODS: ReadonlyArray<SweepMethod> = ['itd', 'aidFp', 'aidCg']

/** One task: the instance, its reference hypergradient, the errors at every t. */
export const gzNewsgroupsTask = (input: GzNewsgroupsTaskInput): TaskOutcome<GzNewsgroupsTaskResult> => outcomeOf(taskEither(input))

const taskEither = (c: GzNewsgroupsTaskInput): E.Either<HypergradError, GzNewsgroupsTaskResult> => {
  const started = performance.now()
  const seed = c.seed + c.run
  const data = textLikeClasses({ rows: c.nTrain + c.nVal, cols: c.features, nnzPerRow: c.nnzPerRow, classes: c.classes, seed })
  if (E.isLeft(data)) return data
  const range = (from: number, n: number) => Int32Array.from({ length: n }, (_, i) => from + i)
  const train = subsetRows(data.right, range(0, c.nTrain))
  const validation = subsetRows(data.right, range(c.nTrain, c.nVal))
  const [eps] = uniformsIn(rngSeed(1_000_003 * (seed + 1)), c.features, c.epsLow, c.epsHigh)
  const lambda = eps.map((e) => c.lambdaScale * Math.exp(e))
  const problem = softmaxProblem(train, validation, lambda, { regularization: 'perFeature', nClasses: c.classes })
  if (E.isLeft(problem)) return problem
  const p = problem.right
  const truth = aidTruth(p, lambda)
  if (E.isLeft(truth)) return truth
  const points = errorsAgainstT(p, lambda, truth.right.gradient, c.iterations, METHODS)
  if (E.isLeft(points)) return points
  const { tau, L } = p.lower.curvature(lambda)
  const tr = truth.right
  return E.right({
    run: c.run,
    dim: p.dim,
    hyperDim: p.hyperDim,
    nnz: nnz(train.X),
    q: p.contraction(lambda),
    kappa: L / tau,
    gradNorm: norm(tr.gradient),
    truth: { relGradLower: tr.relGradLower, radius: tr.radius, relResidual: tr.relResidual, newtonSteps: tr.newtonSteps, products: tr.products },
    points: points.right,
    seconds: (performance.now() - started) / 1000,
  })
}

// ── cost ────────────────────────────────────────────────────────────────────────────────────

/**
 * What a run costs, before any work. A pass touches each stored entry C times (C dots, then C
 * axpys); vectors have d·C entries. Per instance: the reference (counted as 600 passes: Newton-CG
 * and CG to the rounding level at κ ≈ 40 took 130–250 products measured), the lower stream to
 * the largest t, and at each t ITD reverse (which keeps t iterates of d·C numbers) and two AIDs.
 */
export const gzNewsgroupsCost = (c: GzNewsgroupsConfig): ExperimentCost => {
  const entries = Math.round(c.nTrain * Math.min(c.nnzPerRow, c.features))
  const s: Sizes = { rows: c.nTrain, cols: c.features * c.classes, nnz: entries * c.classes, hyper: c.features }
  const grid = [...new Set(c.iterations)].sort((a, b) => a - b)
  const maxT = grid[grid.length - 1] ?? 0
  const seconds = fullBatchCost(s, 600 + maxT).seconds + grid.reduce((a, tt) => a + itdCost(s, tt, 'reverse').seconds + 2 * aidCost(s, 0, tt).seconds, 0)
  const perTask = resultBytes(4 * 3 * grid.length + 20)
  // The data: CSR of all rows (12 bytes an entry) and its train/validation copies, and the problem's snapshots.
  const data = 3 * 12 * (c.nTrain + c.nVal) * Math.min(c.nnzPerRow, c.features) + 8 * c.features
  return {
    seconds: c.runs * seconds,
    results: { bytes: c.runs * perTask, heapBytes: c.runs * perTask },
    perWorker: {
      bytes: WORKER_BYTES + data + itdCost(s, maxT, 'reverse').bytes + 12 * 8 * s.cols + grid.length * (8 * s.cols + STATE_BYTES.bytes),
      heapBytes: itdCost(s, maxT, 'reverse').heapBytes + grid.length * STATE_BYTES.heapBytes,
    },
    shared: 0,
    tasks: c.runs,
  }
}

// ── the sweep ───────────────────────────────────────────────────────────────────────────────

/**
 * The experiment: one task per instance; the figure grazzi-newsgroups.svg (relative error against
 * t = k, log scale, median and 10–90% band over the instances), results.csv with one row per
 * instance × method × t, and a summary with the errors at the largest t and the references'
 * certificates.
 */
export const gzNewsgroups: ExperimentSweep<GzNewsgroupsConfig> = {
  sweep: (config) => {
    const groups: TaskGroup[] = []
    for (let run = 0; run < config.runs; run++)
      groups.push({ tasks: [{ module: 'grazziNewsgroups', fn: 'gzNewsgroupsTask', input: { ...config, iterations: [...config.iterations], run } satisfies GzNewsgroupsTaskInput }] })
    return { groups }
  },
  assemble: (config, raw, timing) => {
    const results = raw as ReadonlyArray<GzNewsgroupsTaskResult>
    const name = 'grazzi-newsgroups'
    const grid = [...new Set(config.iterations)].sort((a, b) => a - b)
    const { series, cells, aggregate } = sweepBands(grid, METHODS, results)
    const med = (f: (r: GzNewsgroupsTaskResult) => number) => spread(results.map(f)).median
    const worst = (f: (r: GzNewsgroupsTaskResult) => number) => results.reduce((a, r) => Math.max(a, f(r)), 0)
    const shape = `n = ${config.nTrain}, d = ${config.features}, C = ${config.classes}, d·C = ${results[0]?.dim ?? '—'}, nnz ≈ ${fmt(med((r) => r.nnz))}, q ≈ ${med((r) => r.q).toFixed(4)}, κ ≈ ${med((r) => r.kappa).toFixed(0)}`
    const certificate = `reference (Newton-CG + CG): worst ‖∇ℓ(ŵ)‖/‖∇ℓ(0)‖ = ${fmt(worst((r) => r.truth.relGradLower))}, worst ‖ŵ − w(λ)‖ ≤ ${fmt(worst((r) => r.truth.radius))}, worst relative residual ${fmt(worst((r) => r.truth.relResidual))}`
    const panels = [{ title: `synthetic news20-like text, softmax with λ per feature (${shape})`, series }]
    const title = 'Grazzi et al. 2020 §5 (20 Newsgroups, synthetic stand-in): error against t = k'
    return E.right(sweepOutput(name, config, results, { grid, panels, title, shape, cells, aggregate, notes: [certificate] }, timing))
  },
}
