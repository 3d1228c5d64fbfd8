/**
 * The solver registry: how to configure each solver factory exported by src/solvers/lower and
 * src/solvers/linear for the law suite (laws/solvers.test.ts), keyed by its export name.
 *
 * To register a new solver: export it from src/solvers/lower/index.ts or
 * src/solvers/linear/index.ts. An exported LowerMethod/LinearMethod value, or a factory that
 * works with no arguments, is picked up automatically with its defaults; a factory that needs
 * options gets one line here, building it from the problem's constants (`make` returns
 * undefined where the solver does not apply, e.g. conjugate gradient on a non-symmetric system).
 */
import { isStochastic, type BilevelProblem } from '../src/problem/bilevel.js'
import { ErmProblem } from '../src/problem/erm.js'
import { constantOrThrow } from '../src/schedule/schedule.js'
import * as linear from '../src/solvers/linear/index.js'
import * as lower from '../src/solvers/lower/index.js'
import type { LinearMethod, LinearSystem, LowerMethod } from '../src/solvers/types.js'

/** What a solver configuration may read: the problem, λ₀ and (for linear solvers) the system. */
export interface SolverEnv {
  readonly problem: BilevelProblem
  readonly lambda0: Float64Array
  readonly system?: LinearSystem
}

/** Curvature bounds τ, L of an ERM problem's ℓ(·, λ₀) and its step α, when it is one. */
const ermConstants = (env: SolverEnv): { tau: number; L: number; alpha: number } | undefined =>
  env.problem instanceof ErmProblem ? { ...env.problem.lower.curvature(env.lambda0), alpha: env.problem.alpha } : undefined

const heavyBallFor = (env: SolverEnv): { beta: number; eta: number } | undefined => {
  const c = ermConstants(env)
  if (c === undefined) return undefined
  const hb = lower.heavyBallParams(c.tau, c.L, c.alpha)
  return { beta: hb.beta, eta: hb.eta }
}

/** Configurations of the lower-level factories that need options. */
export const lowerConfigs: Readonly<Record<string, (env: SolverEnv) => LowerMethod | undefined>> = {
  heavyBall: (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined ? undefined : lower.heavyBall(hb)
  },
  sgd: (env) => (isStochastic(env.problem) ? lower.sgd({ schedule: constantOrThrow(0.5), batchSize: 2 }) : undefined),
}

/** Configurations of the linear-system factories that need options. */
export const linearConfigs: Readonly<Record<string, (env: SolverEnv) => LinearMethod | undefined>> = {
  heavyBallLinear: (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined || env.system?.symmetric !== true ? undefined : linear.heavyBallLinear(hb)
  },
  stochasticFixedPoint: () => linear.stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 2 }),
  sgdQuadratic: (env) => (env.system?.symmetric === true ? linear.sgdQuadratic({ gamma: constantOrThrow(0.5), batchSize: 2 }) : undefined),
  stochasticNeumann: () => linear.stochasticNeumann({ maxTerms: 8, batchSize: 2 }),
}

/**
 * Solvers that knowingly depart from a law, with the reason. The suite skips those laws for them
 * and checks that each really fails, so an entry cannot outlive the deviation it records.
 */
export const knownDeviations: Readonly<Record<string, { readonly laws: ReadonlyArray<string>; readonly why: string }>> = {}

/** Export names that are helpers, not solvers (functions the discovery must not call). */
export const notSolvers: ReadonlySet<string> = new Set([
  'checkRelaxation',
  'heavyBallParams',
  'checkHeavyBall',
  'checkLowerMethod',
  'checkBatchSize',
  'checkStep',
  'checkSchedule',
  'throwLeft',
  'asStochastic',
  'shapeOfSystem',
  'shapeOfProblem',
  'checkLinearMethod',
  'checkStochasticShape',
  'stochasticParts',
  'neumannProduct',
  'neumannDraw',
])

export const isLowerMethod = (x: unknown): x is LowerMethod =>
  typeof x === 'object' && x !== null && typeof (x as LowerMethod).iterates === 'function' && typeof (x as LowerMethod).name === 'string'

export const isLinearMethod = (x: unknown): x is LinearMethod =>
  typeof x === 'object' && x !== null && typeof (x as LinearMethod).iterates === 'function' && typeof (x as LinearMethod).name === 'string'

/** One solver found in a module, or why an export was not used. */
export type Discovered<M> =
  | { readonly exportName: string; readonly kind: 'method'; readonly make: (env: SolverEnv) => M | undefined }
  | { readonly exportName: string; readonly kind: 'unusable'; readonly why: string }

/**
 * Every solver a module exports: method values, configured factories, and factories that work
 * without arguments. Other functions that are not listed as helpers are reported as unusable,
 * so that a new solver cannot silently escape the laws.
 */
export const discover = <M>(
  mod: Readonly<Record<string, unknown>>,
  configs: Readonly<Record<string, (env: SolverEnv) => M | undefined>>,
  isMethod: (x: unknown) => x is M,
): Discovered<M>[] => {
  const out: Discovered<M>[] = []
  for (const [exportName, value] of Object.entries(mod)) {
    if (isMethod(value)) out.push({ exportName, kind: 'method', make: () => value })
    else if (configs[exportName] !== undefined) out.push({ exportName, kind: 'method', make: configs[exportName] })
    else if (typeof value === 'function' && !notSolvers.has(exportName)) {
      let made: unknown
      try {
        made = (value as () => unknown)()
      } catch (e) {
        out.push({ exportName, kind: 'unusable', why: `needs options (${e instanceof Error ? e.message : String(e)}): add it to the solver registry` })
        continue
      }
      if (isMethod(made)) out.push({ exportName, kind: 'method', make: () => (value as () => M)() })
      else out.push({ exportName, kind: 'unusable', why: 'a function that returns no method: list it in notSolvers if it is a helper' })
    }
  }
  return out
}

export const lowerSolvers = (): Discovered<LowerMethod>[] => discover(lower as Record<string, unknown>, lowerConfigs, isLowerMethod)
export const linearSolvers = (): Discovered<LinearMethod>[] => discover(linear as Record<string, unknown>, linearConfigs, isLinearMethod)
