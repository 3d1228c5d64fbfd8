/**
 * The config files of `hypergrad estimate` and `hypergrad tune` (a contract: the shapes below
 * are exact). Every object is strict: a field it does not have is an error naming the field
 * and, when one is close, the field meant (`config.regularisation: unknown field; did you mean
 * "regularization"?`). Settings that contradict each other or that the chosen method would
 * ignore (a SID preset with explicit solvers, MNIST with data files, `tol` without conjugate
 * gradient) are errors too: nothing a user writes is silently dropped. Decoding is staged
 * (first the method's name, then that method's fields) so that an error names the field at
 * fault rather than every union branch.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { FiniteNumber, NonNegativeInt, nonEmpty, oneOf, PositiveInt, PositiveNumber, strict } from '../config/codecs.js'
import { decodeWith } from '../config/report.js'
import { hgError, type HypergradError } from '../errors.js'
import { PRESET_NAMES, type PresetName } from '../hypergrad/presets.js'

export const problemNames = ['logistic', 'ridge', 'dataCleaning', 'softmax', 'softmaxCleaning'] as const
export type ProblemName = (typeof problemNames)[number]
export const regularizations = ['scalar', 'perFeature', 'perClass'] as const
export type Regularization = (typeof regularizations)[number]

/** The problems with one λ per training sample (σ(λᵢ) weights and a fixed ridge ρ). */
export const perSample = (problem: ProblemName): boolean => problem === 'dataCleaning' || problem === 'softmaxCleaning'
/** The problems on integer class labels (softmax regression), against those on ±1 or real labels. */
export const multiclass = (problem: ProblemName): boolean => problem === 'softmax' || problem === 'softmaxCleaning'

/** A file name (relative to the config's folder). */
const FileName = new t.Type<string, string, unknown>(
  'a file name',
  (u): u is string => typeof u === 'string' && u.length > 0,
  (u, c) => (typeof u === 'string' && u.length > 0 ? t.success(u) : t.failure(u, c, 'a file name')),
  t.identity,
)

const FilesData = strict('an object with "train" and "validation" files', { train: FileName, validation: FileName }, { test: FileName, nFeatures: PositiveInt })
const MnistData = strict('an object with "mnist"', {
  mnist: strict('an object of MNIST sizes', {}, { nTrain: PositiveInt, nVal: PositiveInt, nTest: NonNegativeInt, seed: NonNegativeInt }),
})
export type DataConfig = t.TypeOf<typeof FilesData> | t.TypeOf<typeof MnistData>
const FILE_FIELDS = ['train', 'validation', 'test', 'nFeatures'] as const

export const lowerNames = ['gd', 'heavyBall', 'newtonCg', 'lbfgs'] as const
export const linearNames = ['fp', 'cg', 'neumann', 'heavyBall'] as const
export const presetNames: ReadonlyArray<PresetName> = PRESET_NAMES
export const stochLowerNames = ['sgd', 'svrg', 'saga', 'gd'] as const
export const stochLinearNames = ['sfp', 'sgd', 'svrg', 'neumann', 'fp', 'cg'] as const

const FinalSamplesCodec = new t.Type<'one' | 'exact' | number, 'one' | 'exact' | number, unknown>(
  'final samples ("one", "exact" or an integer ≥ 1)',
  (u): u is 'one' | 'exact' | number => u === 'one' || u === 'exact' || (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1),
  (u, c) => (u === 'one' || u === 'exact' || (typeof u === 'number' && Number.isSafeInteger(u) && u >= 1) ? t.success(u) : t.failure(u, c, 'final samples ("one", "exact" or an integer ≥ 1)')),
  t.identity,
)

const Exact = strict('an exact method', { name: t.literal('exact') })
const Auto = strict('an automatic method', { name: t.literal('auto') })
const Aid = strict(
  'an AID method',
  { name: t.literal('aid'), lower: oneOf(lowerNames, 'a lower solver'), linear: oneOf(linearNames, 'a linear solver'), t: NonNegativeInt, k: NonNegativeInt },
  { tol: PositiveNumber, tolLower: PositiveNumber, tolLinear: PositiveNumber, momentum: FiniteNumber },
)
const Itd = strict('an ITD method', { name: t.literal('itd'), t: NonNegativeInt }, { mode: oneOf(['reverse', 'forward'] as const, 'an ITD mode'), truncate: PositiveInt })
const SidPreset = strict(
  'a SID preset method',
  { name: t.literal('sid'), preset: oneOf(presetNames, 'a SID preset'), epochs: PositiveInt },
  { batchSize: PositiveInt, finalSamples: FinalSamplesCodec },
)
const StepConfig = t.union([PositiveNumber, strict('a decreasing step {beta, gamma}', { beta: PositiveNumber, gamma: PositiveNumber })])
const SidCustom = strict(
  'a SID method',
  {
    name: t.literal('sid'),
    lower: oneOf(stochLowerNames, 'a stochastic lower solver'),
    linear: oneOf(stochLinearNames, 'a stochastic linear solver'),
    t: NonNegativeInt,
    k: NonNegativeInt,
  },
  { batchSize: PositiveInt, step: StepConfig, finalSamples: FinalSamplesCodec },
)
export type MethodConfig =
  | t.TypeOf<typeof Exact>
  | t.TypeOf<typeof Auto>
  | t.TypeOf<typeof Aid>
  | t.TypeOf<typeof Itd>
  | t.TypeOf<typeof SidPreset>
  | t.TypeOf<typeof SidCustom>

const methodNames = ['auto', 'exact', 'aid', 'itd', 'sid'] as const
const MethodName = t.type({ name: oneOf(methodNames, 'a method name') }, 'a method (an object with a "name")')

/** The fields of a SID method that a preset sets itself. */
const PRESET_SETS = ['lower', 'linear', 't', 'k', 'step'] as const

const has = (u: unknown, k: string): boolean => typeof u === 'object' && u !== null && !Array.isArray(u) && Object.prototype.hasOwnProperty.call(u, k)
const given = (u: unknown, keys: ReadonlyArray<string>): string[] => keys.filter((k) => has(u, k))
const quoted = (ks: ReadonlyArray<string>): string => ks.map((k) => `"${k}"`).join(', ')
const contradiction = (path: string, message: string): E.Either<HypergradError, never> => E.left(hgError('config', `${path}: ${message}`))

/** Settings of a decoded method that its solvers would not read. */
const unusedSettings = (m: MethodConfig): E.Either<HypergradError, MethodConfig> => {
  if (m.name === 'aid') {
    if (m.tol !== undefined && m.linear !== 'cg')
      return contradiction('config.method.tol', `the tolerance of conjugate gradient, but linear is "${m.linear}" (use "tolLinear", or linear "cg")`)
    if (m.momentum !== undefined && m.lower !== 'heavyBall' && m.linear !== 'heavyBall')
      return contradiction('config.method.momentum', `the momentum of heavy ball, but lower is "${m.lower}" and linear "${m.linear}"`)
  }
  if (m.name === 'sid' && !('preset' in m)) {
    const stepped = m.lower === 'sgd' || m.linear === 'sfp' || m.linear === 'sgd'
    if (m.step !== undefined && !stepped)
      return contradiction('config.method.step', `no solver here takes a step (lower "${m.lower}", linear "${m.linear}"); "sgd" and "sfp" do`)
    const sampled = m.lower !== 'gd' || (m.linear !== 'fp' && m.linear !== 'cg')
    if (m.batchSize !== undefined && !sampled)
      return contradiction('config.method.batchSize', `lower "${m.lower}" and linear "${m.linear}" draw no minibatches`)
  }
  return E.right(m)
}

export const decodeMethod = (u: unknown): E.Either<HypergradError, MethodConfig> =>
  pipe(
    decodeWith(MethodName, u, 'config.method'),
    E.chain(({ name }): E.Either<HypergradError, MethodConfig> => {
      switch (name) {
        case 'exact':
          return decodeWith(Exact, u, 'config.method')
        case 'auto':
          return decodeWith(Auto, u, 'config.method')
        case 'aid':
          return decodeWith(Aid, u, 'config.method')
        case 'itd':
          return decodeWith(Itd, u, 'config.method')
        case 'sid': {
          if (has(u, 'preset')) {
            const both = given(u, PRESET_SETS)
            if (both.length > 0)
              return contradiction('config.method', `"preset" sets the solvers, steps and t, k of SID, and ${quoted(both)} ${both.length === 1 ? 'is' : 'are'} given too; drop ${quoted(both)} or drop "preset"`)
            return decodeWith(SidPreset, u, 'config.method')
          }
          if (has(u, 'epochs')) return contradiction('config.method.epochs', 'a budget in epochs is read with a "preset"; without one, give "lower", "linear", "t" and "k"')
          return decodeWith(SidCustom, u, 'config.method')
        }
      }
    }),
    E.chain(unusedSettings),
  )

export const decodeData = (u: unknown): E.Either<HypergradError, DataConfig> => {
  if (has(u, 'mnist')) {
    const files = given(u, FILE_FIELDS)
    if (files.length > 0) return contradiction('config.data', `"mnist" and ${quoted(files)} name two data sources; keep one`)
    return decodeWith(MnistData, u, 'config.data')
  }
  return decodeWith(FilesData, u, 'config.data')
}

const Lambda = t.union([FiniteNumber, nonEmpty(FiniteNumber, 'a non-empty list of finite numbers')])
const BASE_REQUIRED = { problem: oneOf(problemNames, 'a problem'), data: t.unknown, lambda: Lambda, method: t.unknown }
const BASE_OPTIONAL = { regularization: oneOf(regularizations, 'a regularization'), seed: NonNegativeInt, rho: PositiveNumber }
const EstimateBase = strict('an estimate config (an object)', BASE_REQUIRED, BASE_OPTIONAL)

export interface EstimateConfig {
  readonly problem: ProblemName
  readonly regularization: Regularization
  readonly data: DataConfig
  /** A number (scalar regularization) or one value per feature, per class or per training sample. */
  readonly lambda: number | ReadonlyArray<number>
  readonly method: MethodConfig
  readonly seed: number
  /** The fixed ridge weight ρ of the data-cleaning problems. */
  readonly rho?: number
}

type Base = t.TypeOf<typeof EstimateBase>

/** The error of "perClass" regularization with a problem that has no classes. */
export const perClassOnlySoftmax = (problem: ProblemName): E.Either<HypergradError, never> =>
  contradiction('config.regularization', `"perClass" (one λ per class) is for the softmax problem; problem "${problem}" has no classes (use "scalar" or "perFeature")`)

/** The fields of the base that only some problems read. */
const problemSettings = (b: Base): E.Either<HypergradError, Base> => {
  if (perSample(b.problem) && b.regularization !== undefined)
    return contradiction('config.regularization', `the ${b.problem} problem has one λ per training sample; drop "regularization"`)
  if (b.regularization === 'perClass' && b.problem !== 'softmax') return perClassOnlySoftmax(b.problem)
  if (!perSample(b.problem) && b.rho !== undefined)
    return contradiction('config.rho', `the ridge weight of the dataCleaning problem and of softmaxCleaning; problem "${b.problem}" has none`)
  return E.right(b)
}

const fromBase = (b: Base): E.Either<HypergradError, EstimateConfig> =>
  pipe(
    E.Do,
    E.apS('base', problemSettings(b)),
    E.apS('data', decodeData(b.data)),
    E.apS('method', decodeMethod(b.method)),
    E.map(({ base, data, method }) => ({
      problem: base.problem,
      regularization: base.regularization ?? 'scalar',
      data,
      lambda: base.lambda,
      method,
      seed: base.seed ?? 0,
      ...(base.rho !== undefined ? { rho: base.rho } : {}),
    })),
  )

/** Decode an estimate config (the JSON of `hypergrad estimate CONFIG.json`). */
export const decodeEstimateConfig = (u: unknown): E.Either<HypergradError, EstimateConfig> =>
  has(u, 'outer')
    ? contradiction('config.outer', 'unknown field in an estimate config ("outer" is read by hypergrad tune)')
    : pipe(decodeWith(EstimateBase, u), E.chain(fromBase))

// ── tune ─────────────────────────────────────────────────────────────────────────────────────

/**
 * The outer optimizers a tune config may name, and what each is: the one list of names. A new
 * optimizer is a name here and its case in `tuneOptimizer` (tune.ts).
 */
export const outerOptimizers = {
  gd: 'gradient descent on λ (or log λ)',
  adam: 'Adam (Kingma & Ba 2015) on λ (or log λ)',
  lbfgs: 'L-BFGS on λ (or log λ), projected onto bounds, with a line search that tolerates inexact gradients',
  hoag: 'gradient descent with a backtracking line search and inner accuracy that shrinks with the outer progress (HOAG, Pedregosa 2016)',
  secant: 'for one hyperparameter: safeguarded secant/Newton steps on f′ inside a shrinking bracket',
} as const
export type OuterOptimizerName = keyof typeof outerOptimizers
const OuterOptimizer = oneOf(Object.keys(outerOptimizers) as OuterOptimizerName[], 'an optimizer')

const Bounds = new t.Type<readonly [number, number], readonly [number, number], unknown>(
  'a box [low, high] of two finite numbers',
  (u): u is readonly [number, number] => Array.isArray(u) && u.length === 2 && u.every((x) => typeof x === 'number' && Number.isFinite(x)),
  (u, c) =>
    Array.isArray(u) && u.length === 2 && u.every((x) => typeof x === 'number' && Number.isFinite(x))
      ? t.success([u[0] as number, u[1] as number] as const)
      : t.failure(u, c, 'a box [low, high] of two finite numbers'),
  t.identity,
)
const Tolerance = new t.Type<number | 'adaptive', number | 'adaptive', unknown>(
  'a positive number or "adaptive"',
  (u): u is number | 'adaptive' => u === 'adaptive' || PositiveNumber.is(u),
  (u, c) => (u === 'adaptive' || PositiveNumber.is(u) ? t.success(u) : t.failure(u, c, 'a positive number or "adaptive"')),
  t.identity,
)
const Outer = strict(
  'an outer object',
  { optimizer: OuterOptimizer, steps: PositiveInt },
  {
    stepSize: PositiveNumber,
    logScale: t.boolean,
    bounds: Bounds,
    tolerance: Tolerance,
    warmStart: t.union([t.boolean, strict('warm starts {lower, linear}', { lower: t.boolean, linear: t.boolean })]),
    gradTol: PositiveNumber,
    fTol: PositiveNumber,
    maxEvaluations: PositiveInt,
    maxSeconds: PositiveNumber,
    memory: PositiveInt,
    maxStep: PositiveNumber,
    xTol: PositiveNumber,
    beta1: PositiveNumber,
    beta2: PositiveNumber,
    eps: PositiveNumber,
    initialTolerance: PositiveNumber,
    tolDecrease: PositiveNumber,
    adaptiveFactor: PositiveNumber,
    minTolerance: PositiveNumber,
  },
)
export type OuterConfig = t.TypeOf<typeof Outer>

export interface TuneConfig extends EstimateConfig {
  readonly outer: OuterConfig
}

/** A tune config may leave the method out: `{ "name": "auto" }` then (methods.ts `resolveAuto` says what that is). */
const { method: _method, ...TUNE_REQUIRED } = BASE_REQUIRED
const TuneBase = strict('a tune config (an object)', { ...TUNE_REQUIRED, outer: t.unknown }, { ...BASE_OPTIONAL, method: t.unknown })

/** The settings of the outer loop that contradict the method or λ. */
const outerSettings = (c: TuneConfig): E.Either<HypergradError, TuneConfig> => {
  const { outer } = c
  if ((outer.optimizer === 'gd' || outer.optimizer === 'adam') && outer.stepSize === undefined)
    return contradiction('config.outer.stepSize', `${outer.optimizer} needs a step size (the line-search optimizers lbfgs, hoag and secant do not)`)
  if (outer.tolerance !== undefined && c.method.name !== 'aid')
    return contradiction(
      'config.outer.tolerance',
      c.method.name === 'auto'
        ? 'accuracy control uses the a posteriori bound of AID: give method "aid" with its solvers and budget (the automatic method sets its own accuracy)'
        : `accuracy control uses the a posteriori bound of AID; method "${c.method.name}" runs with its fixed budget (drop outer.tolerance or use method "aid")`,
    )
  if (outer.logScale === true) {
    if (outer.bounds !== undefined && !(outer.bounds[0] > 0))
      return contradiction('config.outer.bounds', `with logScale the lower bound must be > 0, got ${outer.bounds[0]}`)
    const lambdas = typeof c.lambda === 'number' ? [c.lambda] : c.lambda
    const i = lambdas.findIndex((l) => !(l > 0))
    if (i >= 0) return contradiction(typeof c.lambda === 'number' ? 'config.lambda' : `config.lambda.${i}`, `logScale optimizes log λ and needs λ > 0, got ${lambdas[i]}`)
  }
  return E.right(c)
}

/** Decode a tune config: an estimate config plus an `outer` object. */
export const decodeTuneConfig = (u: unknown): E.Either<HypergradError, TuneConfig> =>
  pipe(
    decodeWith(TuneBase, u),
    E.chain((b) =>
      pipe(
        E.Do,
        E.apS('base', fromBase({ ...b, method: b.method === undefined ? { name: 'auto' } : b.method })),
        E.apS(
          'outer',
          pipe(
            decodeWith(Outer, b.outer, 'config.outer'),
            E.chain((outer) =>
              outer.bounds !== undefined && !(outer.bounds[0] < outer.bounds[1])
                ? contradiction('config.outer.bounds', `expected [low, high] with low < high, got [${outer.bounds[0]}, ${outer.bounds[1]}]`)
                : E.right(outer),
            ),
          ),
        ),
        E.chain(({ base, outer }) => outerSettings({ ...base, outer })),
      ),
    ),
  )
