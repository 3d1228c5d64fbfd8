/**
 * An outer optimizer from a config (the `outer` object of `hypergrad tune`, or tune's options):
 * the named optimizer with its options, on θ = log λ when `logScale`, kept in `bounds` (on λ
 * itself) — `chain(optimizer, logScale(), box(lo, hi))`. Messages name the config field
 * (`outer.stepSize must be a number > 0, got -1`).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../../errors.js'
import { makeAdam } from './adam.js'
import { box } from './box.js'
import { makeGd } from './gd.js'
import { makeHoag } from './hoag.js'
import { makeLbfgs } from './lbfgs.js'
import { logScale } from './logScale.js'
import { outerField } from './options.js'
import { makeSecant } from './secant.js'
import { chain, type OuterOptimizer, type Transform } from './types.js'

/** The optimizers a config can name. */
export const optimizerNames = ['gd', 'adam', 'lbfgs', 'hoag', 'secant'] as const
export type OptimizerName = (typeof optimizerNames)[number]

export interface OptimizerConfig {
  readonly optimizer: OptimizerName
  /** gd, adam: the step (required); lbfgs, hoag, secant: the length of the first step (default 1). */
  readonly stepSize?: number
  /** Optimize θ = log λ. */
  readonly logScale?: boolean
  /** Keep λ in [lo, hi] (lo > 0 with logScale). */
  readonly bounds?: readonly [number, number]
  /** lbfgs: pairs kept (default 10). */
  readonly memory?: number
  /** lbfgs, hoag, secant: the longest step (default 10 with logScale, else none). */
  readonly maxStep?: number
  /** lbfgs, hoag, secant: stop when a step is shorter than xTol·(1 + ‖θ‖) (default 1e-10). */
  readonly xTol?: number
  /** adam: the moment decays and ε. */
  readonly beta1?: number
  readonly beta2?: number
  readonly eps?: number
  /** hoag: ε₀, ρ, κ and the floor of the accuracy asked (see `hoag`). */
  readonly initialTolerance?: number
  readonly tolDecrease?: number
  readonly adaptiveFactor?: number
  readonly minTolerance?: number
}

/** The longest step on θ = log λ unless set: a factor e¹⁰ ≈ 2·10⁴ in λ. */
const LOG_MAX_STEP = 10

/** Options that only one kind of optimizer reads: naming one for another optimizer is a mistake. */
const ownOptions: Record<OptimizerName, ReadonlyArray<keyof OptimizerConfig>> = {
  gd: [],
  adam: ['beta1', 'beta2', 'eps'],
  lbfgs: ['memory', 'maxStep', 'xTol'],
  hoag: ['tolDecrease', 'maxStep', 'xTol'],
  secant: ['maxStep', 'xTol'],
}
const specific = [...new Set(Object.values(ownOptions).flat())]

const base = (c: OptimizerConfig, log: boolean): E.Either<HypergradError, OuterOptimizer> => {
  const maxStep = c.maxStep ?? (log ? LOG_MAX_STEP : undefined)
  switch (c.optimizer) {
    case 'gd':
      return makeGd({ stepSize: c.stepSize }, outerField)
    case 'adam':
      return makeAdam({ stepSize: c.stepSize, beta1: c.beta1, beta2: c.beta2, eps: c.eps }, outerField)
    case 'lbfgs':
      return makeLbfgs({ stepSize: c.stepSize, memory: c.memory, maxStep, xTol: c.xTol }, outerField)
    case 'hoag':
      return makeHoag(
        { stepSize: c.stepSize, maxStep, initialTolerance: c.initialTolerance, tolDecrease: c.tolDecrease, adaptiveFactor: c.adaptiveFactor, minTolerance: c.minTolerance, xTol: c.xTol },
        outerField,
      )
    case 'secant':
      return makeSecant({ stepSize: c.stepSize, maxStep, xTol: c.xTol }, outerField)
  }
}

/**
 * The optimizer a config describes. A Left names the field: an unknown optimizer, an option out
 * of range, an option that the chosen optimizer does not read, bounds with lo ≥ hi, or bounds
 * with lo ≤ 0 under logScale.
 */
export const optimizerFromConfig = (c: OptimizerConfig): E.Either<HypergradError, OuterOptimizer> => {
  if (!(optimizerNames as ReadonlyArray<string>).includes(c.optimizer))
    return E.left(hgError('config', `outer.optimizer: unknown optimizer "${String(c.optimizer)}" (one of ${optimizerNames.join(', ')})`))
  const stray = specific.find((k) => c[k] !== undefined && !ownOptions[c.optimizer].includes(k))
  if (stray !== undefined) return E.left(hgError('config', `outer.${stray}: not an option of ${c.optimizer}`))
  const log = c.logScale === true
  const transforms: Transform[] = []
  if (log) transforms.push(logScale())
  if (c.bounds !== undefined) {
    const [lo, hi] = c.bounds
    if (!(lo < hi)) return E.left(hgError('config', `outer.bounds: empty box [${lo}, ${hi}] (need lo < hi)`))
    if (log && !(lo > 0)) return E.left(hgError('config', `outer.bounds: with logScale the lower bound must be > 0, got ${lo}`))
    transforms.push(box(lo, hi))
  }
  return chain(base(c, log), ...transforms)
}
