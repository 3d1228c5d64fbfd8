/** From a decoded config to a problem, its data and λ (the parts shared by estimate, tune, reproduce). */
import * as E from 'fp-ts/lib/Either.js'
import { resolve } from 'node:path'
import type { Dataset } from '../data/dataset.js'
import { readLibsvmFile } from '../data/libsvm.js'
import { mnistOddEven } from '../data/mnist.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec, Vec } from '../linalg/types.js'
import { ermProblem, optimalStep, type ErmProblem } from '../problem/erm.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { logisticProblem } from '../problems/logistic.js'
import { RidgeProblem, ridgeProblem } from '../problems/ridge.js'
import type { Sizes } from '../config/cost.js'
import type { DataConfig, EstimateConfig, ProblemName, Regularization } from './config.js'

export interface Splits {
  readonly train: Dataset
  readonly validation: Dataset
  readonly test?: Dataset
}

/** Load the data a config names; file paths are relative to `baseDir` (the config's folder). */
export const loadData = (data: DataConfig, problem: ProblemName, baseDir: string): E.Either<HypergradError, Splits> => {
  if ('mnist' in data) {
    const m = data.mnist
    const r = mnistOddEven({
      ...(m.nTrain !== undefined ? { nTrain: m.nTrain } : {}),
      ...(m.nVal !== undefined ? { nVal: m.nVal } : {}),
      ...(m.nTest !== undefined ? { nTest: m.nTest } : {}),
      ...(m.seed !== undefined ? { seed: m.seed } : {}),
    })
    return E.bimap(
      (e: HypergradError) => hgError(e.kind, `config.data.mnist: ${e.message}`),
      (s: { train: Dataset; validation: Dataset; test?: Dataset }): Splits => s,
    )(r)
  }
  const labels = problem === 'ridge' ? 'real' : 'binary'
  const files: Array<[keyof Splits, string]> = [
    ['train', data.train],
    ['validation', data.validation],
    ...(data.test !== undefined ? [['test', data.test] as [keyof Splits, string]] : []),
  ]
  const read = (nFeatures?: number) => {
    const out: Partial<Record<keyof Splits, Dataset>> = {}
    for (const [k, f] of files) {
      const r = readLibsvmFile(resolve(baseDir, f), { labels, ...(nFeatures !== undefined ? { nFeatures } : {}) })
      if (E.isLeft(r)) return E.left(hgError(r.left.kind, `config.data.${k}: ${r.left.message}`))
      out[k] = r.right
    }
    return E.right(out as Splits)
  }
  const first = data.nFeatures !== undefined ? read(data.nFeatures) : read()
  if (E.isLeft(first) || data.nFeatures !== undefined) return first
  const p = Math.max(first.right.train.X.cols, first.right.validation.X.cols, first.right.test?.X.cols ?? 0)
  const same = first.right.train.X.cols === p && first.right.validation.X.cols === p && (first.right.test?.X.cols ?? p) === p
  return same ? first : read(p)
}

/** λ from the config, checked against the problem's number of hyperparameters. */
export const lambdaFor = (
  problem: ProblemName,
  regularization: Regularization,
  lambda: number | ReadonlyArray<number>,
  splits: Splits,
): E.Either<HypergradError, Vec> => {
  const p = splits.train.X.cols
  const n = splits.train.X.rows
  if (problem === 'dataCleaning') {
    if (typeof lambda === 'number') return E.right(new Float64Array(n).fill(lambda))
    return lambda.length === n
      ? E.right(Float64Array.from(lambda))
      : E.left(hgError('config', `config.lambda: expected ${n} values (one per training sample), got ${lambda.length}`))
  }
  if (regularization === 'scalar') {
    if (typeof lambda === 'number') return E.right(Float64Array.of(lambda))
    return lambda.length === 1
      ? E.right(Float64Array.from(lambda))
      : E.left(hgError('config', `config.lambda: expected one number (scalar regularization), got ${lambda.length} values`))
  }
  // One number with per-feature regularization: the same λ for every feature (a uniform start).
  if (typeof lambda === 'number') return E.right(new Float64Array(p).fill(lambda))
  return lambda.length === p
    ? E.right(Float64Array.from(lambda))
    : E.left(hgError('config', `config.lambda: expected ${p} values (one per feature), got ${lambda.length}`))
}

/** Build the bilevel problem at λ (its step α = 2/(L+τ) is chosen at this λ). */
export const problemFor = (
  cfg: Pick<EstimateConfig, 'problem' | 'regularization' | 'rho'>,
  splits: Splits,
  lambda: Vec,
): E.Either<HypergradError, ErmProblem> => {
  const wrap = <A>(r: E.Either<HypergradError, A>) =>
    E.mapLeft((e: HypergradError) => (/^config\./.test(e.message) ? e : hgError(e.kind, `config.lambda: ${e.message}`)))(r)
  switch (cfg.problem) {
    case 'logistic':
      return wrap(logisticProblem(splits.train, splits.validation, lambda, { regularization: cfg.regularization }))
    case 'ridge':
      return wrap(ridgeProblem(splits.train, splits.validation, lambda, { regularization: cfg.regularization }))
    case 'dataCleaning':
      return wrap(dataCleaningProblem(splits.train, splits.validation, lambda, cfg.rho !== undefined ? { rho: cfg.rho } : {}))
  }
}

/**
 * The problems of a config at every λ of a run, with the set-up done once: the data are
 * validated and the objectives built (with their cached constants: σ_max(X)², XᵀX for ridge) by
 * the first `problemFor`, and each λ then only checks λ and picks α = 2/(L+τ) there, as
 * `problemFor` does (the same problem, bit for bit, without the passes over the data).
 */
export const problemFamily = (
  cfg: Pick<EstimateConfig, 'problem' | 'regularization' | 'rho'>,
  splits: Splits,
  lambda0: Vec,
): E.Either<HypergradError, (lambda: RVec) => E.Either<HypergradError, ErmProblem>> => E.map(familyOf)(problemFor(cfg, splits, lambda0))

/** The problems at every λ from one built by `problemFor` (see `problemFamily`). */
export const familyOf =
  (p0: ErmProblem) =>
  (lambda: RVec): E.Either<HypergradError, ErmProblem> => {
    const lam = p0.lower.checkLambda(lambda)
    if (E.isLeft(lam)) return E.left(hgError(lam.left.kind, `config.lambda: ${lam.left.message}`))
    const alpha = optimalStep(p0.lower.curvature(lam.right))
    return p0 instanceof RidgeProblem ? p0.withStep(alpha) : ermProblem(p0.lower, p0.upperObjective, { alpha, name: p0.name })
  }

export interface Built {
  readonly splits: Splits
  readonly lambda: Vec
  readonly problem: ErmProblem
}

/** λ and the problem of a config on data already loaded. */
export const buildFrom = (cfg: EstimateConfig, splits: Splits): E.Either<HypergradError, Built> => {
  const lambda = lambdaFor(cfg.problem, cfg.regularization, cfg.lambda, splits)
  if (E.isLeft(lambda)) return lambda
  const problem = problemFor(cfg, splits, lambda.right)
  if (E.isLeft(problem)) return problem
  return E.right({ splits, lambda: lambda.right, problem: problem.right })
}

/** The sizes of a config's problem on its data: n, d, the stored entries and m (for the limits). */
export const sizesOf = (cfg: Pick<EstimateConfig, 'problem' | 'regularization'>, splits: Splits): Sizes => {
  const { rows, cols } = splits.train.X
  const hyper = cfg.problem === 'dataCleaning' ? rows : cfg.regularization === 'perFeature' ? cols : 1
  return { rows, cols, nnz: rows * cols, hyper }
}
