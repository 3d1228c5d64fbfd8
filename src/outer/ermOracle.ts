/**
 * A hypergradient oracle for `tune` on ERM problems (Φ = w − α∇₁ℓ) with everything an outer
 * loop can carry from one evaluation to the next:
 *
 *   - set-up once: the caller's `problemAt(λ)` builds the problem at each λ from objectives it
 *     built once (cli/build.ts `problemFamily`: data validated and σ_max(X)² computed once);
 *   - warm starts of w and of the linear-system solution through every evaluation. The system
 *     (I − ∂₁Φᵀ)v = ∇₁E is α∇²ℓ v = ∇₁E, so v scales with 1/α and α changes with λ: the oracle
 *     hands back p = αv, which does not depend on α, and divides a warm start by the α of the
 *     point it evaluates;
 *   - inner accuracy tied to the outer progress (`accuracy: 'progress'`, the default with
 *     stopping tolerances): the relative CG tolerance of evaluation k is
 *       ρₖ = clamp(ρ₀·‖∇̂f_{k−1}‖/‖∇̂f₀‖, ρmin, ρ₀)     (ρ₀ = 1e-4, ρmin = 1e-12),
 *     so that the accuracy asked of ∇̂f shrinks with ‖∇̂f‖ itself, as the inexact-gradient
 *     conditions of HOAG (Pedregosa 2016, Thm 2) and of inexact quasi-Newton methods ask, and the
 *     lower-level tolerance on ‖Φ(w) − w‖ = α‖∇ℓ(w)‖ is 1e-3·ρₖ·α‖∇ℓ(0, λ)‖ (Newton-CG converges
 *     quadratically: tight lower solves are cheap). With a requested accuracy (HOAG, adaptive
 *     mode) the oracle runs the certified `aidAdaptive` instead;
 *   - a record of where the time goes (`timing` on every result): the lower solve, the linear
 *     solve, and the rest (building the problem at λ, the checks, ∇₁E, the final product).
 */
import * as E from 'fp-ts/lib/Either.js'
import { hgError, type HypergradError } from '../errors.js'
import { aid } from '../hypergrad/aid.js'
import { exact } from '../hypergrad/exact.js'
import type { HypergradResult } from '../hypergrad/types.js'
import type { RVec, Vec } from '../linalg/types.js'
import { norm } from '../linalg/vector.js'
import type { ErmProblem } from '../problem/erm.js'
import { conjugateGradient } from '../solvers/linear/conjugateGradient.js'
import { lbfgs } from '../solvers/lower/lbfgs.js'
import { newtonCg } from '../solvers/lower/newtonCg.js'
import type { AnySolver, LinearSolver, LowerSolver } from '../solvers/types.js'
import { aPosterioriInputsAt } from '../bounds/constants.js'
import { aPosterioriBound } from '../bounds/ehrhardtRoberts.js'
import { aidAdaptive } from './adaptive.js'
import type { HyperOracle } from './tune.js'

/** Where one evaluation's time went, in milliseconds. */
export interface OracleTiming {
  /** The lower-level solve (w). */
  readonly lowerMs: number
  /** The linear-system solve (v). */
  readonly linearMs: number
  /** Everything else: the problem at λ, the checks, ∇₁E, the final ∂₂Φᵀv, the certificate. */
  readonly setupMs: number
  readonly totalMs: number
}

/**
 * The lower solver: one the oracle builds itself with the tolerances of each evaluation, a
 * solver value, or a solver made for the problem at each λ (heavy ball's parameters depend on λ).
 */
export type ErmLower = 'newtonCg' | 'lbfgs' | LowerSolver | ((problem: ErmProblem, lambda: RVec) => E.Either<HypergradError, LowerSolver>)
/** The linear solver: a value, or one made for the problem at each λ. */
export type ErmLinear = LinearSolver | ((problem: ErmProblem, lambda: RVec) => E.Either<HypergradError, LinearSolver>)

/** How each evaluation computes ∇̂f. */
export type ErmMethod =
  /** `exact`: Newton with dense solves (small d). */
  | { readonly name: 'exact' }
  /** `aid` with the given solvers, at most t lower and k linear steps. */
  | {
      readonly name: 'aid'
      readonly lower: ErmLower
      /** Default: conjugate gradient. */
      readonly linear?: ErmLinear
      readonly t: number
      readonly k: number
      /**
       * 'progress' (default): the tolerances of the module comment; fixed tolerances; or 'none'
       * (t and k steps, or until the solvers stop themselves).
       */
      readonly accuracy?: 'progress' | { readonly tolLower?: number; readonly tolLinear?: number } | 'none'
    }

export interface ErmOracleOptions {
  readonly method: ErmMethod
  /** ρ₀ of the progress rule (default 1e-4). */
  readonly initialRelativeTolerance?: number
  /** ρmin of the progress rule (default 1e-12). */
  readonly minRelativeTolerance?: number
  /** The seed of each evaluation (stochastic solvers): default the step index. */
  readonly seed?: (step: number) => number
  /**
   * Attach to every AID result the a posteriori bound of Ehrhardt & Roberts on ‖∇̂f − ∇f‖
   * (`bound`, recorded in the trajectory); default false (it costs several passes, and with
   * many hyperparameters a dense ‖∇²_{wλ}ℓ‖).
   */
  readonly certify?: boolean
}

/** A result with where its time went. */
export type TimedResult = HypergradResult & { readonly bound?: number; readonly timing: OracleTiming }

/** A solver that adds the time spent in its init and steps to `clock.ms` (its states are the wrapped solver's own). */
function timed(m: LowerSolver, clock: { ms: number }): LowerSolver
function timed(m: LinearSolver, clock: { ms: number }): LinearSolver
function timed(m: AnySolver, clock: { ms: number }): AnySolver {
  const f = m as unknown as { readonly init: (...a: unknown[]) => unknown; readonly step: (...a: unknown[]) => unknown }
  const time = (g: () => unknown): unknown => {
    const t0 = performance.now()
    try {
      return g()
    } finally {
      clock.ms += performance.now() - t0
    }
  }
  return { ...m, init: (...a: unknown[]) => time(() => f.init(...a)), step: (...a: unknown[]) => time(() => f.step(...a)) } as unknown as AnySolver
}

/** The a posteriori bound of Ehrhardt & Roberts at an AID result, when it has one. */
const aPosterioriBoundAt = (problem: ErmProblem, lambda: RVec, r: HypergradResult): number | undefined => {
  if (r.status === 'diverged') return undefined
  const inputs = aPosterioriInputsAt(problem, lambda, r.w, r.v)
  if (E.isLeft(inputs)) return undefined
  const b = aPosterioriBound(inputs.right)
  return E.isRight(b) && Number.isFinite(b.right) ? b.right : undefined
}

const checkRelative = (name: string, x: number | undefined, fallback: number): E.Either<HypergradError, number> => {
  const v = x ?? fallback
  return Number.isFinite(v) && v > 0 && v < 1 ? E.right(v) : E.left(hgError('domain', `ermOracle: ${name} must lie in (0, 1), got ${v}`))
}

/**
 * The oracle (see the module comment). `problemAt(λ)` gives the ERM problem at λ (a Left is
 * passed on). Left when an option is out of range; a method's own Left or divergence is the
 * evaluation's, as `tune` expects.
 */
export const ermOracle = (
  problemAt: (lambda: RVec) => E.Either<HypergradError, ErmProblem>,
  opts: ErmOracleOptions,
): E.Either<HypergradError, HyperOracle> => {
  const rho0 = checkRelative('initialRelativeTolerance', opts.initialRelativeTolerance, 1e-4)
  if (E.isLeft(rho0)) return rho0
  const rhoMin = checkRelative('minRelativeTolerance', opts.minRelativeTolerance, 1e-12)
  if (E.isLeft(rhoMin)) return rhoMin
  const m = opts.method
  // The progress of the outer loop, as the evaluations report it.
  let first: number | undefined
  let last: number | undefined
  // ‖∇ℓ(0, λ)‖ of the objective (the scale of the lower residual), computed once.
  let gradScale: number | undefined
  const relative = (): number => {
    if (first === undefined || last === undefined || !(first > 0)) return rho0.right
    return Math.min(rho0.right, Math.max(rhoMin.right, (rho0.right * last) / first))
  }
  const oracle: HyperOracle = ({ lambda, warm, tolerance, step }) => {
    const t0 = performance.now()
    const p = problemAt(lambda)
    if (E.isLeft(p)) return p
    const problem = p.right
    const a = problem.alpha
    const w0 = warm.w !== undefined ? { w0: warm.w } : {}
    const v0 = warm.v !== undefined ? { v0: warm.v.map((x) => x / a) } : {}
    const lowerClock = { ms: 0 }
    const linearClock = { ms: 0 }
    let r: E.Either<HypergradError, HypergradResult & { readonly bound?: number }>
    if (m.name === 'exact') {
      r = exact(problem, lambda, warm.w !== undefined ? { w: warm.w } : {})
    } else {
      const rho = relative()
      if (gradScale === undefined) gradScale = norm(problem.lower.grad(new Float64Array(problem.dim), lambda))
      const progress = m.accuracy === undefined || m.accuracy === 'progress'
      const tolLower = progress ? Math.max(1e-3 * rho * a * gradScale, Number.MIN_VALUE) : undefined
      const lowerOf = (tol: number | undefined): E.Either<HypergradError, LowerSolver> =>
        m.lower === 'newtonCg'
          ? E.right(newtonCg({ ...(tol !== undefined ? { tol } : {}), ...(warm.w !== undefined ? { eta0: 1e-2 } : {}) }))
          : m.lower === 'lbfgs'
            ? E.right(lbfgs(tol !== undefined ? { tol } : {}))
            : typeof m.lower === 'function'
              ? m.lower(problem, lambda)
              : E.right(m.lower)
      const lin = m.linear === undefined ? E.right(conjugateGradient()) : typeof m.linear === 'function' ? m.linear(problem, lambda) : E.right(m.linear)
      if (E.isLeft(lin)) return lin
      const linear = timed(lin.right, linearClock)
      const fixed = typeof m.accuracy === 'object' ? m.accuracy : {}
      const tols = progress ? { tolLower: tolLower!, tolLinear: rho } : { ...fixed }
      const lower = lowerOf(tolerance !== undefined ? undefined : tols.tolLower)
      if (E.isLeft(lower)) return lower
      if (tolerance !== undefined) {
        r = aidAdaptive(problem, lambda, { lower: timed(lower.right, lowerClock), linear, tolerance, maxT: m.t, maxK: m.k, ...w0, ...v0 })
      } else {
        r = aid(problem, lambda, { lower: timed(lower.right, lowerClock), linear, t: m.t, k: m.k, seed: opts.seed?.(step) ?? step, ...w0, ...v0, ...tols })
        if (opts.certify === true && E.isRight(r)) {
          const bound = aPosterioriBoundAt(problem, lambda, r.right)
          if (bound !== undefined) r = E.right({ ...r.right, bound })
        }
      }
    }
    if (E.isLeft(r)) return r
    const res = r.right
    if (res.status !== 'diverged') {
      const gn = norm(res.gradient)
      if (Number.isFinite(gn)) {
        if (first === undefined && gn > 0) first = gn
        last = gn
      }
    }
    const totalMs = performance.now() - t0
    const timing: OracleTiming = { lowerMs: lowerClock.ms, linearMs: linearClock.ms, setupMs: Math.max(0, totalMs - lowerClock.ms - linearClock.ms), totalMs }
    const scaled: Vec = res.v.map((x) => x * a)
    return E.right({ ...res, v: scaled, timing } as TimedResult)
  }
  return E.right(oracle)
}
