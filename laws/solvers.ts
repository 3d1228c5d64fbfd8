/**
 * The solver registry: every solver factory exported by src/solvers/lower and
 * src/solvers/linear (those modules export factories and nothing else), every combinator
 * applied to a few solvers, and solvers written outside the library (examples/), each run by
 * laws/solvers.test.ts through the same laws.
 *
 * To register a new solver: export its factory from src/solvers/lower/index.ts or
 * src/solvers/linear/index.ts. A factory that works with no arguments is picked up with its
 * defaults; one that needs options gets one line in `lowerConfigs`/`linearConfigs`, building
 * it from the problem's constants (`make` returns undefined where the solver does not apply,
 * e.g. heavy ball without curvature bounds). A factory whose defaults are refused by every test
 * bed fails the discovery test, so that no solver escapes the laws.
 */
import * as E from 'fp-ts/lib/Either.js'
import { isStochastic, type BilevelProblem } from '../src/problem/bilevel.js'
import { ErmProblem } from '../src/problem/erm.js'
import { constantOrThrow } from '../src/schedule/schedule.js'
import { averaged, restarted, rules, stopWhen, switchAfter, tap } from '../src/solvers/combinators.js'
import * as linear from '../src/solvers/linear/index.js'
import * as lower from '../src/solvers/lower/index.js'
import { heavyBallParams } from '../src/solvers/params.js'
import type { LinearSolver, LinearSystem, LowerSolver } from '../src/solvers/types.js'
import { nesterov } from '../examples/nesterov.js'

/** What a solver configuration may read: the problem, λ₀ and (for linear solvers) the system. */
export interface SolverEnv {
  readonly problem: BilevelProblem
  readonly lambda0: Float64Array
  readonly system?: LinearSystem
}

/** Heavy-ball parameters from the curvature bounds of an ERM problem's ℓ(·, λ₀), when it is one. */
const heavyBallFor = (env: SolverEnv): { beta: number; eta: number } | undefined => {
  if (!(env.problem instanceof ErmProblem)) return undefined
  const { tau, L } = env.problem.lower.curvature(env.lambda0)
  const hb = heavyBallParams(tau, L, env.problem.alpha)
  return E.isRight(hb) ? { beta: hb.right.beta, eta: hb.right.eta } : undefined
}

const sgdHalf = (env: SolverEnv) => (isStochastic(env.problem) ? lower.sgd({ schedule: constantOrThrow(0.5), batchSize: 2 }) : undefined)

/** Configurations of the lower-level factories that need options. */
export const lowerConfigs: Readonly<Record<string, (env: SolverEnv) => LowerSolver<any> | undefined>> = {
  heavyBall: (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined ? undefined : lower.heavyBall(hb)
  },
  sgd: sgdHalf,
}

/** Configurations of the linear-system factories that need options. */
export const linearConfigs: Readonly<Record<string, (env: SolverEnv) => LinearSolver<any> | undefined>> = {
  heavyBallLinear: (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined || env.system?.symmetric !== true ? undefined : linear.heavyBallLinear(hb)
  },
  stochasticFixedPoint: () => linear.stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 2 }),
  sgdQuadratic: () => linear.sgdQuadratic({ gamma: constantOrThrow(0.5), batchSize: 2 }),
  stochasticNeumann: () => linear.stochasticNeumann({ maxTerms: 8, batchSize: 2 }),
}

/** The combinators, each applied to solvers of both kinds, and solvers written outside the library. */
export const composedLower: Readonly<Record<string, (env: SolverEnv) => LowerSolver<any> | undefined>> = {
  'averaged(sgd)': (env) => {
    const s = sgdHalf(env)
    return s === undefined ? undefined : averaged(s, { from: 3 })
  },
  'averaged(fp)': () => averaged(lower.fixedPointIteration()),
  'sgd (reshuffled passes)': (env) => (isStochastic(env.problem) ? lower.sgd({ schedule: constantOrThrow(0.5), batchSize: 3, sampling: 'reshuffle' }) : undefined),
  'stopWhen(fp, budget)': () => stopWhen(lower.fixedPointIteration(), rules.budget({ phi: 12 })),
  'tap(svrg)': () => tap(lower.svrg({ batchSize: 2 }), () => undefined),
  'restarted(heavyBall)': (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined ? undefined : restarted(lower.heavyBall(hb), 5)
  },
  'switchAfter(fp, heavyBall)': (env) => {
    const hb = heavyBallFor(env)
    return hb === undefined ? undefined : switchAfter(lower.fixedPointIteration(), 4, lower.heavyBall(hb))
  },
  // Acceleration is for gradient maps (a symmetric ∂₁Φ); on the non-symmetric test bed it does not apply.
  'nesterov (examples/nesterov.ts)': (env) => (env.problem.symmetric ? nesterov({ momentum: 0.5 }) : undefined),
}

export const composedLinear: Readonly<Record<string, (env: SolverEnv) => LinearSolver<any> | undefined>> = {
  'stochasticFixedPoint (reshuffled passes)': () => linear.stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 3, sampling: 'reshuffle' }),
  'averaged(stochasticFixedPoint)': () => averaged(linear.stochasticFixedPoint({ schedule: constantOrThrow(0.5), batchSize: 2 })),
  'stopWhen(cg, relative residual)': () => stopWhen(linear.conjugateGradient({ tol: 0 }), rules.relativeResidual(1e-6)),
  'tap(neumann)': () => tap(linear.neumann(), () => undefined),
  'restarted(fixedPointLinear)': () => restarted(linear.fixedPointLinear(), 3),
  'switchAfter(fixedPointLinear, cg)': () => switchAfter(linear.fixedPointLinear(), 3, linear.conjugateGradient()),
}

/**
 * Solvers that knowingly depart from a law, with the reason. The suite skips those laws for them
 * and checks that each really fails, so an entry cannot outlive the deviation it records.
 */
export const knownDeviations: Readonly<Record<string, { readonly laws: ReadonlyArray<string>; readonly why: string }>> = {}

const isSolverOf =
  (kind: 'lower' | 'linear') =>
  (x: unknown): boolean =>
    typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === kind && typeof (x as { step?: unknown }).step === 'function'

/** One solver found in a module, or why an export was not used. */
export type Discovered<M> =
  | { readonly exportName: string; readonly kind: 'solver'; readonly make: (env: SolverEnv) => M | undefined }
  | { readonly exportName: string; readonly kind: 'unusable'; readonly why: string }

/**
 * Every solver factory a module exports: configured ones, and ones that work without
 * arguments. A function that returns no solver of the module's kind is reported as unusable,
 * so that a new export cannot silently escape the laws.
 */
export const discover = <M>(
  mod: Readonly<Record<string, unknown>>,
  configs: Readonly<Record<string, (env: SolverEnv) => M | undefined>>,
  kind: 'lower' | 'linear',
): Discovered<M>[] => {
  const out: Discovered<M>[] = []
  for (const [exportName, value] of Object.entries(mod)) {
    if (typeof value !== 'function') continue
    const config = configs[exportName]
    if (config !== undefined) {
      out.push({ exportName, kind: 'solver', make: config })
      continue
    }
    const made: unknown = (value as () => unknown)()
    if (isSolverOf(kind)(made)) out.push({ exportName, kind: 'solver', make: () => (value as () => M)() })
    else out.push({ exportName, kind: 'unusable', why: `a function that returns no ${kind} solver: only solver factories belong in this module` })
  }
  return out
}

export const lowerSolvers = (): Discovered<LowerSolver<any>>[] => discover(lower as Record<string, unknown>, lowerConfigs, 'lower')
export const linearSolvers = (): Discovered<LinearSolver<any>>[] => discover(linear as Record<string, unknown>, linearConfigs, 'linear')
