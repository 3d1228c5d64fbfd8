/**
 * The one registry of problems: every concrete problem of the library, built small, with a
 * hyperparameter λ₀ in its domain. The law suite (laws/problems.test.ts) and the properties
 * (properties/contraction.test.ts, properties/closedForms.test.ts) run over all of it, so a new
 * problem is covered by adding one entry here.
 *
 * Datasets are synthetic and tiny (6–10 rows, 3–5 features, ±1 labels for the classifiers),
 * drawn from src/random with fixed seeds. Problems whose step α is fixed at build time from the
 * curvature at λ₀ (ridge, logistic, data cleaning) are rebuilt with 0.9·α, so that Φ(·, λ) still
 * contracts at the perturbed λ = λ₀·exp(±0.1) the laws draw.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Dataset, DesignDataset } from '../src/data/dataset.js'
import { csrFromDense } from '../src/linalg/csr.js'
import { matrix } from '../src/linalg/types.js'
import { orThrow, type HypergradError } from '../src/errors.js'
import type { Vec } from '../src/linalg/types.js'
import type { BilevelProblem } from '../src/problem/bilevel.js'
import type { ErmProblem } from '../src/problem/erm.js'
import { carsRegression } from '../src/data/cars.js'
import { biasedRegularizationProblem } from '../src/problems/biasedRegularization.js'
import { dataCleaningProblem } from '../src/problems/dataCleaning.js'
import { kernelRidgeProblem } from '../src/problems/kernelRidge.js'
import { erQuadraticProblem } from '../src/problems/erQuadratic.js'
import { linearFixedPointProblem } from '../src/problems/linearFixedPoint.js'
import { logisticProblem } from '../src/problems/logistic.js'
import { quadraticProblem } from '../src/problems/quadratic.js'
import { ridgeProblem } from '../src/problems/ridge.js'
import { softmaxCleaningProblem, softmaxProblem, type SoftmaxRegularization } from '../src/problems/softmax.js'
import * as rng from '../src/random/rng.js'
import { syntheticDataset } from './fixtures.js'

/** One registered problem. */
export interface RegistryEntry {
  readonly name: string
  /** Build the problem (afresh at each call). */
  readonly build: () => BilevelProblem
  /** A hyperparameter in the domain; the laws test at perturbations of it. */
  readonly lambda0: Vec
  /** True when the problem is a StochasticBilevelProblem (a finite sum with minibatch maps). */
  readonly stochastic: boolean
  /** Batch size for the unbiasedness law (all b-subsets are enumerated). */
  readonly batchSize?: number
  /** Data the problem must never change (checked by the purity laws). */
  readonly data?: unknown
}

/** Build with the default step α, then again with 0.9·α (see the module comment). */
const withSafeStep = (build: (alpha?: number) => E.Either<HypergradError, ErmProblem>): (() => ErmProblem) => () => {
  const first = orThrow(build())
  return orThrow(build(0.9 * first.alpha))
}

const split = (seed: number, nTrain: number, nVal: number, p: number, labels: boolean): { train: Dataset; validation: Dataset } => ({
  train: syntheticDataset(seed, nTrain, p, labels),
  validation: syntheticDataset(seed + 100, nVal, p, labels),
})

/** The same data with entries below 0.6 in magnitude dropped, in CSR layout. */
const sparsified = (d: { train: DesignDataset; validation: DesignDataset }): { train: DesignDataset; validation: DesignDataset } => {
  const csr = (ds: DesignDataset): DesignDataset => {
    const X = ds.X as Dataset['X']
    return { ...ds, X: csrFromDense(matrix(X.rows, X.cols, X.data.map((x) => (Math.abs(x) < 0.6 ? 0 : x)))) }
  }
  return { train: csr(d.train), validation: csr(d.validation) }
}

const ridgeData = split(21, 10, 6, 4, false)
const logisticData = split(31, 10, 6, 4, true)
const cleaningData = split(41, 8, 6, 3, true)
const cleaningLambda0 = rng.normals(rng.seed(42), 8)[0]
/** A 3-class dataset of n rows and 3 features: labels argmax of three fixed linear scores. */
const multiclass = (seed: number, n: number): DesignDataset => {
  const d = syntheticDataset(seed, n, 3)
  const y = Float64Array.from({ length: n }, (_, i) => {
    const x = d.X.data.subarray(3 * i, 3 * i + 3)
    const z = [x[0]! - x[2]!, x[1]!, 0.5 * x[2]! - x[0]!]
    return z.indexOf(Math.max(...z))
  })
  return { X: d.X, y, nClasses: 3 }
}
const softmaxData = { train: multiclass(51, 9), validation: multiclass(52, 6) }
const softmaxCsr = sparsified(softmaxData)
const softmaxCleaningLambda0 = rng.normals(rng.seed(53), 9)[0]
const softmaxLambda0: Record<SoftmaxRegularization, Vec> = {
  scalar: Float64Array.of(0.3),
  perFeature: Float64Array.of(0.2, 0.5, 0.1),
  perClass: Float64Array.of(0.4, 0.1, 0.3),
}
const ridgeCsr = sparsified(ridgeData)
const logisticCsr = sparsified(logisticData)
const cleaningCsr = sparsified(cleaningData)
const carsData = orThrow(carsRegression({ nTrain: 8, nVal: 5, seed: 3 }))
const biasLambda0 = rng.normals(rng.seed(43), 4)[0]

type Split = { readonly train: DesignDataset; readonly validation: DesignDataset }
type StepOption = { readonly alpha?: number }

/**
 * A model fitted to `data` at λ₀, rebuilt with the safe step (see `withSafeStep`): a finite sum
 * whose minibatch laws draw b = 2 rows, and whose data the purity laws watch. `make` gets the
 * split, λ₀ and the step option ({} or { alpha }).
 */
const onData = <D,>(
  name: string,
  data: D,
  lambda0: Vec,
  make: (d: D, lambda0: Vec, step: StepOption) => E.Either<HypergradError, ErmProblem>,
  batchSize = 2,
): RegistryEntry => ({
  name,
  build: withSafeStep((alpha) => make(data, lambda0, alpha === undefined ? {} : { alpha })),
  lambda0,
  stochastic: true,
  batchSize,
  data,
})

const ridge = (regularization: 'scalar' | 'perFeature') => (d: Split, l: Vec, step: StepOption) =>
  ridgeProblem(d.train, d.validation, l, { regularization, ...step })
const logistic = (regularization: 'scalar' | 'perFeature') => (d: Split, l: Vec, step: StepOption) =>
  logisticProblem(d.train, d.validation, l, { regularization, ...step })
const softmax = (regularization: SoftmaxRegularization) => (d: Split, l: Vec, step: StepOption) =>
  softmaxProblem(d.train, d.validation, l, { regularization, ...step })
const dataCleaning = (d: Split, l: Vec, step: StepOption) => dataCleaningProblem(d.train, d.validation, l, step)

/** Every registered problem. */
export const registry: ReadonlyArray<RegistryEntry> = [
  {
    name: 'quadratic',
    build: () => orThrow(quadraticProblem({ dim: 4, hyperDim: 3, nSamples: 10, seed: 1 })),
    lambda0: Float64Array.of(0.5, -0.3, 1),
    stochastic: true,
    batchSize: 2,
  },
  {
    name: 'quadratic (separable)',
    build: () => orThrow(quadraticProblem({ dim: 3, hyperDim: 2, nSamples: 8, seed: 2, separable: true, tau: 0.5, L: 4 })),
    lambda0: Float64Array.of(0.2, 0.7),
    stochastic: true,
    batchSize: 3,
  },
  {
    name: 'linearFixedPoint',
    build: () => orThrow(linearFixedPointProblem({ dim: 4, hyperDim: 2, q: 0.8, seed: 3 })),
    lambda0: Float64Array.of(0.4, -1),
    stochastic: false,
  },
  onData('ridge (scalar)', ridgeData, Float64Array.of(0.5), ridge('scalar')),
  onData('ridge (perFeature)', ridgeData, Float64Array.of(0.5, 1, 0.3, 2), ridge('perFeature')),
  {
    name: 'erQuadratic',
    build: () => orThrow(erQuadraticProblem({ rows: 12, cols: 3, seed: 5 })),
    lambda0: Float64Array.of(1, 1, 1),
    stochastic: true,
    batchSize: 2,
  },
  onData('logistic (scalar)', logisticData, Float64Array.of(0.1), logistic('scalar')),
  onData('logistic (perFeature)', logisticData, Float64Array.of(0.1, 0.2, 0.05, 0.3), logistic('perFeature')),
  onData('dataCleaning', cleaningData, cleaningLambda0, dataCleaning),
  onData('ridge (perFeature, CSR)', ridgeCsr, Float64Array.of(0.5, 1, 0.3, 2), ridge('perFeature')),
  onData('logistic (perFeature, CSR)', logisticCsr, Float64Array.of(0.1, 0.2, 0.05, 0.3), logistic('perFeature')),
  onData('dataCleaning (CSR)', cleaningCsr, cleaningLambda0, dataCleaning),
  ...(['scalar', 'perFeature', 'perClass'] as const).map((reg) => onData(`softmax (${reg})`, softmaxData, softmaxLambda0[reg], softmax(reg))),
  onData('softmax (perFeature, CSR)', softmaxCsr, softmaxLambda0.perFeature, softmax('perFeature')),
  onData('softmax data cleaning', softmaxData, softmaxCleaningLambda0, (d, l, step) => softmaxCleaningProblem(d.train, d.validation, l, step)),
  onData('kernelRidge (cars)', carsData, Float64Array.of(0.3, -0.5), (d, l, step) => kernelRidgeProblem(d.train, d.validation, l, step), 1),
  {
    name: 'biasedRegularization (logistic)',
    build: () => orThrow(biasedRegularizationProblem(logisticData.train, logisticData.validation, 0.5, biasLambda0, { loss: 'logistic' })),
    lambda0: biasLambda0,
    stochastic: true,
    batchSize: 2,
    data: logisticData,
  },
]
