/** From a decoded config to a problem, its data and λ (the parts shared by estimate, tune, reproduce). */
import * as E from 'fp-ts/lib/Either.js'
import { resolve } from 'node:path'
import type { DesignDataset } from '../data/dataset.js'
import { readLibsvmSplit, type LibsvmLabels } from '../data/libsvm.js'
import { mnist } from '../data/mnist.js'
import { hgError, type HypergradError } from '../errors.js'
import { storedEntries } from '../linalg/csr.js'
import type { RVec, Vec } from '../linalg/types.js'
import { ermProblem, optimalStep, type ErmProblem } from '../problem/erm.js'
import { dataCleaningProblem } from '../problems/dataCleaning.js'
import { logisticProblem } from '../problems/logistic.js'
import { RidgeProblem, ridgeProblem } from '../problems/ridge.js'
import { softmaxCleaningProblem, softmaxProblem } from '../problems/softmax.js'
import type { Sizes } from '../config/cost.js'
import { multiclass, perClassOnlySoftmax, perSample, type DataConfig, type EstimateConfig, type ProblemName, type Regularization } from './config.js'

export interface Splits {
  readonly train: DesignDataset
  readonly validation: DesignDataset
  readonly test?: DesignDataset
}

/** How the libsvm labels of a problem are read: real responses, ±1 (or 0/1), or integer classes. */
export const labelsFor = (problem: ProblemName): LibsvmLabels => (problem === 'ridge' ? 'real' : multiclass(problem) ? 'multiclass' : 'binary')

/**
 * Load the data a config names; file paths are relative to `baseDir` (the config's folder).
 * libsvm files are read into compressed sparse rows (memory O(nnz), whatever the number of
 * features) with the labels of the problem (`labelsFor`); the files agree on the number of
 * features (`nFeatures`, else the largest index over all of them) and, for a multiclass problem,
 * on the classes (those of the training file). MNIST gives the ten digits to a multiclass
 * problem, odd versus even to the others. An error names the field (`config.data.train: …`),
 * and for a file fault the file and the line.
 */
export const loadData = (data: DataConfig, problem: ProblemName, baseDir: string): E.Either<HypergradError, Splits> => {
  if ('mnist' in data) {
    const m = data.mnist
    const r = mnist({
      classes: multiclass(problem) ? 10 : 2,
      ...(m.nTrain !== undefined ? { nTrain: m.nTrain } : {}),
      ...(m.nVal !== undefined ? { nVal: m.nVal } : {}),
      ...(m.nTest !== undefined ? { nTest: m.nTest } : {}),
      ...(m.seed !== undefined ? { seed: m.seed } : {}),
    })
    return E.bimap(
      (e: HypergradError) => hgError(e.kind, `config.data.mnist: ${e.message}`),
      (s: { train: DesignDataset; validation: DesignDataset; test?: DesignDataset }): Splits => s,
    )(r)
  }
  const paths = {
    train: resolve(baseDir, data.train),
    validation: resolve(baseDir, data.validation),
    ...(data.test !== undefined ? { test: resolve(baseDir, data.test) } : {}),
  }
  const r = readLibsvmSplit(paths, { labels: labelsFor(problem), ...(data.nFeatures !== undefined ? { nFeatures: data.nFeatures } : {}) })
  if (E.isLeft(r)) {
    // The reader's messages start with the file's path: name the field of that file.
    const field = (['train', 'validation', 'test'] as const).find((k) => paths[k] !== undefined && r.left.message.startsWith(`${paths[k]}:`))
    return E.left(hgError(r.left.kind, `config.data${field !== undefined ? `.${field}` : ''}: ${r.left.message}`))
  }
  const { train, validation, test } = r.right
  return E.right({ train, validation, ...(test !== undefined ? { test } : {}) })
}

/** The number of classes of a multiclass training set (0 when it has none). */
const classesOf = (splits: Splits): number => splits.train.nClasses ?? 0

/** λ from the config, checked against the problem's number of hyperparameters. */
export const lambdaFor = (
  problem: ProblemName,
  regularization: Regularization,
  lambda: number | ReadonlyArray<number>,
  splits: Splits,
): E.Either<HypergradError, Vec> => {
  const p = splits.train.X.cols
  const n = splits.train.X.rows
  const count = (m: number, what: string): E.Either<HypergradError, Vec> => {
    // One number for m hyperparameters: the same λ for each (a uniform start).
    if (typeof lambda === 'number') return E.right(new Float64Array(m).fill(lambda))
    return lambda.length === m
      ? E.right(Float64Array.from(lambda))
      : E.left(hgError('config', `config.lambda: expected ${m} values (${what}), got ${lambda.length}`))
  }
  if (perSample(problem)) return count(n, 'one per training sample')
  if (regularization === 'scalar') {
    if (typeof lambda === 'number') return E.right(Float64Array.of(lambda))
    return lambda.length === 1
      ? E.right(Float64Array.from(lambda))
      : E.left(hgError('config', `config.lambda: expected one number (scalar regularization), got ${lambda.length} values`))
  }
  if (regularization === 'perClass') return count(classesOf(splits), 'one per class')
  return count(p, 'one per feature')
}

/** Build the bilevel problem at λ (its step α = 2/(L+τ) is chosen at this λ). */
export const problemFor = (
  cfg: Pick<EstimateConfig, 'problem' | 'regularization' | 'rho'>,
  splits: Splits,
  lambda: Vec,
): E.Either<HypergradError, ErmProblem> => {
  const wrap = <A>(r: E.Either<HypergradError, A>) =>
    E.mapLeft((e: HypergradError) => (/^config\./.test(e.message) ? e : hgError(e.kind, `config.lambda: ${e.message}`)))(r)
  const reg = cfg.regularization
  switch (cfg.problem) {
    case 'logistic':
      return reg === 'perClass' ? perClassOnlySoftmax(cfg.problem) : wrap(logisticProblem(splits.train, splits.validation, lambda, { regularization: reg }))
    case 'ridge':
      return reg === 'perClass' ? perClassOnlySoftmax(cfg.problem) : wrap(ridgeProblem(splits.train, splits.validation, lambda, { regularization: reg }))
    case 'dataCleaning':
      return wrap(dataCleaningProblem(splits.train, splits.validation, lambda, cfg.rho !== undefined ? { rho: cfg.rho } : {}))
    case 'softmax':
      return wrap(softmaxProblem(splits.train, splits.validation, lambda, { regularization: cfg.regularization }))
    case 'softmaxCleaning':
      return wrap(softmaxCleaningProblem(splits.train, splits.validation, lambda, cfg.rho !== undefined ? { rho: cfg.rho } : {}))
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

/**
 * The sizes of a config's problem on its data, for the limits (config/cost.ts): n rows, the
 * d weights of the lower problem (p features, or p·C for a softmax model with C classes), the
 * work of one pass over the data (the stored entries: rows·cols dense, the non-zeros of a CSR
 * matrix; a softmax pass does C multiply-adds per entry) and the m hyperparameters.
 */
export const sizesOf = (cfg: Pick<EstimateConfig, 'problem' | 'regularization'>, splits: Splits): Sizes => {
  const { rows, cols } = splits.train.X
  const C = multiclass(cfg.problem) ? Math.max(classesOf(splits), 1) : 1
  const hyper = perSample(cfg.problem) ? rows : cfg.regularization === 'perFeature' ? cols : cfg.regularization === 'perClass' ? C : 1
  return { rows, cols: cols * C, nnz: storedEntries(splits.train.X) * C, hyper }
}
