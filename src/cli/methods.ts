/**
 * From a decoded method config to a hypergradient computation on a built problem: the
 * solvers the config names, with the steps and parameters the papers use by default.
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import type { RVec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import { itd } from '../hypergrad/itd.js'
import { sidWithPreset } from '../hypergrad/presets.js'
import { sid, type FinalSamples } from '../hypergrad/sid.js'
import type { HypergradResult } from '../hypergrad/types.js'
import { constant, decreasing, type Schedule } from '../schedule/schedule.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { fixedPointLinear } from '../solvers/linear/fixedPoint.js'
import { heavyBallLinear } from '../solvers/linear/heavyBall.js'
import { neumann } from '../solvers/linear/neumann.js'
import { sgdQuadratic } from '../solvers/linear/sgdQuadratic.js'
import { stochasticFixedPoint } from '../solvers/linear/stochasticFixedPoint.js'
import { stochasticNeumann } from '../solvers/linear/stochasticNeumann.js'
import { svrgLinear } from '../solvers/linear/svrgLinear.js'
import { fixedPointIteration } from '../solvers/lower/fixedPoint.js'
import { heavyBall } from '../solvers/lower/heavyBall.js'
import { lbfgs } from '../solvers/lower/lbfgs.js'
import { newtonCg } from '../solvers/lower/newtonCg.js'
import { heavyBallParamsFor } from '../solvers/params.js'
import { saga } from '../solvers/lower/saga.js'
import { sgd } from '../solvers/lower/sgd.js'
import { svrg } from '../solvers/lower/svrg.js'
import type { LinearSolver, LowerSolver } from '../solvers/types.js'
import type { MethodConfig } from './config.js'

/** Warm starts for the inner solvers (the outer loop passes the previous step's iterates). */
export interface Warm {
  readonly w0?: RVec
  readonly v0?: RVec
}

const attempt = <A>(f: () => A): E.Either<HypergradError, A> => {
  try {
    return E.right(f())
  } catch (e) {
    return E.left(hgError('config', `config.method: ${e instanceof Error ? e.message : String(e)}`))
  }
}

const hbParams = (problem: ErmProblem, lambda: RVec) => {
  const p = heavyBallParamsFor(problem, lambda)
  if (E.isLeft(p)) throw new Error(p.left.message)
  return p.right
}

const finalOf = (f: 'one' | 'exact' | number | undefined): FinalSamples | undefined =>
  f === undefined ? undefined : typeof f === 'number' ? { draws: f } : f

/** Default stochastic steps: SID §6's Stoch dec, η = β/(γ+t), β = γ = 2/(1−q²). */
const defaultSchedule = (q: number): E.Either<HypergradError, Schedule> => {
  const beta = 2 / (1 - q * q)
  return decreasing(beta, beta)
}

/**
 * The automatic method (a tune config without "method", or `{ "name": "auto" }`) for a problem
 * with d weights: `exact` (Newton with dense Cholesky solves) up to AUTO_EXACT_MAX_DIM weights,
 * AID with Newton-CG on ℓ and conjugate gradient above, where d Hessian-vector products per
 * dense Jacobian and the O(d³) factorization cost more than the few CG passes that a warm-started
 * Newton-CG needs (measured in bench/tune.bench.ts). The budget t, k is a cap: the accuracy of
 * each evaluation follows the outer progress (outer/ermOracle.ts).
 */
export const AUTO_EXACT_MAX_DIM = 16
export type ConcreteMethod = Exclude<MethodConfig, { readonly name: 'auto' }>
export const resolveAuto = (method: MethodConfig, dim: number): ConcreteMethod =>
  method.name !== 'auto' ? method : dim <= AUTO_EXACT_MAX_DIM ? { name: 'exact' } : { name: 'aid', lower: 'newtonCg', linear: 'cg', t: 50, k: 10_000 }

/** The lower and linear solvers an AID config names (heavy ball with the optimal parameters for τ, L). */
export const aidSolvers = (method: Extract<MethodConfig, { name: 'aid' }>, problem: ErmProblem, lambda: RVec): E.Either<HypergradError, [LowerSolver, LinearSolver]> =>
  attempt((): [LowerSolver, LinearSolver] => {
    const tol = method.tolLower !== undefined ? { tol: method.tolLower } : {}
    const lower = method.lower === 'gd' ? fixedPointIteration() : method.lower === 'newtonCg' ? newtonCg(tol) : method.lower === 'lbfgs' ? lbfgs(tol) : (() => {
      const p = hbParams(problem, lambda)
      return heavyBall({ beta: method.momentum ?? p.beta, eta: p.eta })
    })()
    const linear =
      method.linear === 'fp'
        ? fixedPointLinear()
        : method.linear === 'cg'
          ? conjugateGradient(method.tol !== undefined ? { tol: method.tol } : {})
          : method.linear === 'neumann'
            ? neumann()
            : (() => {
                const p = hbParams(problem, lambda)
                return heavyBallLinear({ beta: method.momentum ?? p.beta, eta: p.eta })
              })()
    return [lower, linear]
  })

/** Run the configured method on `problem` at λ. */
export const runMethod = (
  method: MethodConfig,
  problem: ErmProblem,
  lambda: RVec,
  seed: number,
  warm: Warm = {},
  tolerances: { readonly tolLower?: number; readonly tolLinear?: number } = {},
): E.Either<HypergradError, HypergradResult> => {
  const w0 = warm.w0 !== undefined ? { w0: warm.w0 } : {}
  const v0 = warm.v0 !== undefined ? { v0: warm.v0 } : {}
  switch (method.name) {
    case 'auto': {
      const m = resolveAuto(method, problem.dim)
      if (m.name !== 'aid') return runMethod(m, problem, lambda, seed, warm, tolerances)
      // One hypergradient to full accuracy: ‖Φ(w) − w‖ ≤ 1e-12·α‖∇ℓ(0)‖ and CG to 1e-12 relative.
      const scale = problem.alpha * norm(problem.lower.grad(new Float64Array(problem.dim), lambda))
      return runMethod({ ...m, tolLower: Math.max(1e-12 * scale, Number.MIN_VALUE), tolLinear: 1e-12 }, problem, lambda, seed, warm, tolerances)
    }
    case 'exact':
      return exact(problem, lambda, warm.w0 !== undefined ? { w: warm.w0 } : {})
    case 'itd':
      return itd(problem, lambda, { t: method.t, mode: method.mode ?? 'reverse', ...(method.truncate !== undefined ? { truncate: method.truncate } : {}), ...w0 })
    case 'aid': {
      const solvers = aidSolvers(method, problem, lambda)
      if (E.isLeft(solvers)) return solvers
      const [lower, linear] = solvers.right
      const tols = {
        ...(method.tolLower !== undefined ? { tolLower: method.tolLower } : {}),
        ...(method.tolLinear !== undefined ? { tolLinear: method.tolLinear } : {}),
        ...tolerances,
      }
      return aid(problem, lambda, { lower, linear, t: method.t, k: method.k, seed, ...w0, ...v0, ...tols })
    }
    case 'sid': {
      if ('preset' in method) {
        const fs = finalOf(method.finalSamples)
        return sidWithPreset(method.preset, problem, lambda, {
          epochs: method.epochs,
          seed,
          ...(method.batchSize !== undefined ? { batchSize: method.batchSize } : {}),
          ...(fs !== undefined ? { finalSamples: fs } : {}),
          ...w0,
          ...v0,
        })
      }
      const b = method.batchSize ?? 50
      const q = problem.contraction(lambda)
      const schedule: E.Either<HypergradError, Schedule> =
        method.step === undefined ? defaultSchedule(q) : typeof method.step === 'number' ? constant(method.step) : decreasing(method.step.beta, method.step.gamma)
      if (E.isLeft(schedule)) return E.left(hgError(schedule.left.kind, `config.method.step: ${schedule.left.message}`))
      const s = schedule.right
      const solvers = attempt((): [LowerSolver, LinearSolver] => {
        const lower: LowerSolver =
          method.lower === 'sgd' ? sgd({ schedule: s, batchSize: b }) : method.lower === 'svrg' ? svrg({ batchSize: b }) : method.lower === 'saga' ? saga({ batchSize: b }) : fixedPointIteration()
        const linear: LinearSolver =
          method.linear === 'sfp'
            ? stochasticFixedPoint({ schedule: s, batchSize: b })
            : method.linear === 'sgd'
              ? sgdQuadratic({ gamma: s, batchSize: b })
              : method.linear === 'svrg'
                ? svrgLinear({ batchSize: b })
                : method.linear === 'neumann'
                  ? stochasticNeumann({ maxTerms: Math.max(1, method.k), batchSize: b })
                  : method.linear === 'cg'
                    ? conjugateGradient()
                    : fixedPointLinear()
        return [lower, linear]
      })
      if (E.isLeft(solvers)) return solvers
      const fs = finalOf(method.finalSamples)
      return sid(problem, lambda, {
        lower: solvers.right[0],
        linear: solvers.right[1],
        t: method.t,
        k: method.k,
        seed,
        batchSize: b,
        ...(fs !== undefined ? { finalSamples: fs } : {}),
        ...w0,
        ...v0,
      })
    }
  }
}

/**
 * The method's own checks against the problem (batch size and samples, solver options,
 * schedules), by running it with no iterations: a mistake is reported before a long run
 * starts. `exact` has no budget to cut and is not run here.
 */
export const checkMethod = (method: MethodConfig, problem: ErmProblem, lambda: RVec, seed: number): E.Either<HypergradError, void> => {
  const none: MethodConfig | undefined =
    method.name === 'exact' || method.name === 'auto'
      ? undefined
      : method.name === 'itd'
        ? { ...method, t: 0 }
        : method.name === 'aid'
          ? { ...method, t: 0, k: 0 }
          : 'preset' in method
            ? { ...method, epochs: 0 }
            : { ...method, t: 0, k: 0 }
  if (none === undefined) return E.right(undefined)
  return E.bimap(
    (e: HypergradError) => (e.message.startsWith('config.') ? e : hgError(e.kind, `config.method: ${e.message}`)),
    () => undefined,
  )(runMethod(none, problem, lambda, seed))
}
