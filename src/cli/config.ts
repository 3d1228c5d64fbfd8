/**
 * The config files of `hypergrad estimate` and `hypergrad tune` (a contract: the shapes
 * below are exact). Decoding is staged (first the method's name, then that method's
 * fields) so that an error names the field at fault rather than every union branch.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { hgError, type HypergradError } from '../errors.js'
import { decodeWith, FiniteNumber, NonNegativeInt, oneOf, PositiveInt, PositiveNumber } from './decode.js'

export const problemNames = ['logistic', 'ridge', 'dataCleaning'] as const
export type ProblemName = (typeof problemNames)[number]
export const regularizations = ['scalar', 'perFeature'] as const
export type Regularization = (typeof regularizations)[number]

const FilesData = t.intersection([
  t.type({ train: t.string, validation: t.string }),
  t.partial({ test: t.string, nFeatures: PositiveInt }),
])
const MnistData = t.type({
  mnist: t.partial({ nTrain: PositiveInt, nVal: PositiveInt, nTest: NonNegativeInt, seed: NonNegativeInt }),
})
export type DataConfig = t.TypeOf<typeof FilesData> | t.TypeOf<typeof MnistData>

export const lowerNames = ['gd', 'heavyBall'] as const
export const linearNames = ['fp', 'cg', 'neumann', 'heavyBall'] as const
export const presetNames = ['batch', 'stochConst', 'stochDec', 'twoPhase'] as const
export const stochLowerNames = ['sgd', 'svrg', 'saga', 'gd'] as const
export const stochLinearNames = ['sfp', 'sgd', 'svrg', 'neumann', 'fp', 'cg'] as const

const Exact = t.type({ name: t.literal('exact') })
const Aid = t.intersection([
  t.type({ name: t.literal('aid'), lower: oneOf(lowerNames, 'a lower solver'), linear: oneOf(linearNames, 'a linear solver'), t: NonNegativeInt, k: NonNegativeInt }),
  t.partial({ tol: PositiveNumber, tolLower: PositiveNumber, tolLinear: PositiveNumber, momentum: FiniteNumber }),
])
const Itd = t.intersection([
  t.type({ name: t.literal('itd'), t: NonNegativeInt }),
  t.partial({ mode: oneOf(['reverse', 'forward'] as const, 'an ITD mode'), truncate: PositiveInt }),
])
const SidPreset = t.intersection([
  t.type({ name: t.literal('sid'), preset: oneOf(presetNames, 'a SID preset'), epochs: PositiveInt }),
  t.partial({ batchSize: PositiveInt, finalSamples: t.union([oneOf(['one', 'exact'] as const, 'final samples'), PositiveInt]) }),
])
const StepConfig = t.union([PositiveNumber, t.type({ beta: PositiveNumber, gamma: PositiveNumber })])
const SidCustom = t.intersection([
  t.type({
    name: t.literal('sid'),
    lower: oneOf(stochLowerNames, 'a stochastic lower solver'),
    linear: oneOf(stochLinearNames, 'a stochastic linear solver'),
    t: NonNegativeInt,
    k: NonNegativeInt,
  }),
  t.partial({ batchSize: PositiveInt, step: StepConfig, finalSamples: t.union([oneOf(['one', 'exact'] as const, 'final samples'), PositiveInt]) }),
])
export type MethodConfig =
  | t.TypeOf<typeof Exact>
  | t.TypeOf<typeof Aid>
  | t.TypeOf<typeof Itd>
  | t.TypeOf<typeof SidPreset>
  | t.TypeOf<typeof SidCustom>

const methodNames = ['exact', 'aid', 'itd', 'sid'] as const
const MethodName = t.type({ name: oneOf(methodNames, 'a method name') })

const within = (field: string) => (e: HypergradError): HypergradError =>
  hgError(e.kind, e.message.replace(/^config(\.|:)/, (_m, sep: string) => `config.${field}${sep === '.' ? '.' : ':'}`))

export const decodeMethod = (u: unknown): E.Either<HypergradError, MethodConfig> =>
  pipe(
    decodeWith(MethodName, u),
    E.chain(({ name }): E.Either<HypergradError, MethodConfig> => {
      switch (name) {
        case 'exact':
          return decodeWith(Exact, u)
        case 'aid':
          return decodeWith(Aid, u)
        case 'itd':
          return decodeWith(Itd, u)
        case 'sid':
          return typeof u === 'object' && u !== null && 'preset' in u ? decodeWith(SidPreset, u) : decodeWith(SidCustom, u)
      }
    }),
    E.mapLeft(within('method')),
  )

const decodeData = (u: unknown): E.Either<HypergradError, DataConfig> =>
  pipe(
    typeof u === 'object' && u !== null && 'mnist' in u
      ? (decodeWith(MnistData, u) as E.Either<HypergradError, DataConfig>)
      : (decodeWith(FilesData, u) as E.Either<HypergradError, DataConfig>),
    E.mapLeft(within('data')),
  )

const Base = t.intersection([
  t.type({
    problem: oneOf(problemNames, 'a problem'),
    data: t.unknown,
    lambda: t.union([FiniteNumber, t.array(FiniteNumber)]),
    method: t.unknown,
  }),
  t.partial({ regularization: oneOf(regularizations, 'a regularization'), seed: NonNegativeInt, rho: PositiveNumber }),
])

export interface EstimateConfig {
  readonly problem: ProblemName
  readonly regularization: Regularization
  readonly data: DataConfig
  /** A number (scalar regularization) or one value per feature / per training sample. */
  readonly lambda: number | ReadonlyArray<number>
  readonly method: MethodConfig
  readonly seed: number
  /** The fixed ridge weight ρ of the data-cleaning problem. */
  readonly rho?: number
}

/** Decode an estimate config (the JSON of `hypergrad estimate CONFIG.json`). */
export const decodeEstimateConfig = (u: unknown): E.Either<HypergradError, EstimateConfig> =>
  pipe(
    decodeWith(Base, u),
    E.chain((b) =>
      pipe(
        decodeData(b.data),
        E.chain((data) =>
          pipe(
            decodeMethod(b.method),
            E.map(
              (method): EstimateConfig => ({
                problem: b.problem,
                regularization: b.regularization ?? 'scalar',
                data,
                lambda: b.lambda,
                method,
                seed: b.seed ?? 0,
                ...(b.rho !== undefined ? { rho: b.rho } : {}),
              }),
            ),
          ),
        ),
      ),
    ),
  )

const Bounds = t.tuple([FiniteNumber, FiniteNumber])
const Outer = t.intersection([
  t.type({ optimizer: oneOf(['gd', 'adam'] as const, 'an optimizer'), steps: PositiveInt, stepSize: PositiveNumber }),
  t.partial({
    logScale: t.boolean,
    bounds: Bounds,
    tolerance: t.union([PositiveNumber, t.literal('adaptive')]),
    warmStart: t.union([t.boolean, t.type({ lower: t.boolean, linear: t.boolean })]),
  }),
])
export type OuterConfig = t.TypeOf<typeof Outer>

export interface TuneConfig extends EstimateConfig {
  readonly outer: OuterConfig
}

/** Decode a tune config: an estimate config plus an `outer` object. */
export const decodeTuneConfig = (u: unknown): E.Either<HypergradError, TuneConfig> =>
  pipe(
    decodeEstimateConfig(u),
    E.chain((base) =>
      pipe(
        decodeWith(t.type({ outer: Outer }), u),
        E.chain(({ outer }) =>
          outer.bounds !== undefined && !(outer.bounds[0] < outer.bounds[1])
            ? E.left(hgError('config', `config.outer.bounds: expected [low, high] with low < high, got ${JSON.stringify(outer.bounds)}`))
            : E.right(outer),
        ),
        E.map((outer) => ({ ...base, outer })),
      ),
    ),
  )
