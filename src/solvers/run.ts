/**
 * The one driver: it runs a solver from its start to a stop, the same way for every method
 * (aid, itd, sid, exact) and every stage. A run steps the solver until one of:
 *
 *   - converged: the monitored residual of a state is ≤ `tol`, or the state is flagged
 *     `stop: 'converged'` (the solver met its own tolerance, or a `stopWhen` rule fired). The
 *     state that met the test is the one returned — never an older one.
 *   - maxIter: the state with index `maxIter` was reached, or the solver flagged `stalled`.
 *   - diverged: an iterate has a non-finite entry, its residual is non-finite, its norm left the
 *     blow-up bound below, or the solver flagged the state `stop: 'diverged'` (a breakdown).
 *
 * Blow-up bound: xᵢ is declared blown up when
 *     ‖xᵢ‖ > blowUp · (1 + ‖x₀‖ + r₀ + ‖b‖),   blowUp = 1e12 by default,
 * with r₀ the monitored residual of the start (0 when the solver does not report one) and b the
 * right-hand side of a linear system (0 for lower-level runs). A convergent run of a
 * q-contraction never trips it unless 1 − q < 2·10⁻¹² (docs/theory/solvers.md §1); stochastic
 * iterates that leave the bound — SGD with too large a step — are diverged, whatever the method.
 *
 * On divergence the returned state is the last one that passed every check and `divergedAt` is
 * the index of the state that failed. Bad run options and exceptions thrown by the solver's
 * code (a user's solver or problem) are a Left; nothing here throws.
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import type { HypergradError } from '../errors.js'
import { nrm2 } from '../linalg/kernels.js'
import type { RVec } from '../linalg/types.js'
import type { BilevelProblem } from '../problem/bilevel.js'
import type { Rng } from '../random/rng.js'
import { checkCount, checkLinearRun, checkLowerRun, checkTolerance, fail, faultOf, firstOf, runnerOf } from './check.js'
import { trueResidual } from './linearSystem.js'
import { sumSquares } from './solver.js'
import type { Counts, LinearSolver, LinearState, LinearSystem, LowerSolver, LowerState, Solver, SolverState, Status } from './types.js'

/** Options of a run. */
export interface RunOptions {
  /** The largest state index to reach (a non-negative integer): at most maxIter steps. */
  readonly maxIter: number
  /** Stop when the monitored residual is ≤ tol (absolute). Omitted: run to maxIter. */
  readonly tol?: number
  /** Blow-up factor of the divergence test (see the module comment); default 1e12. */
  readonly blowUp?: number
  /** Also return the last `keep` states that passed every check (oldest first); default 0. */
  readonly keep?: number
}

/** The outcome of a run. */
export interface RunResult<S> {
  /** The returned state: the one that met the stop, the one at maxIter, or the last good one. */
  readonly state: S
  /** Its index (= the number of steps from the start). */
  readonly iterations: number
  /** The monitored residuals of states 0..iterations; empty when some state reports none (stochastic solvers). */
  readonly residuals: Float64Array
  readonly status: Status
  /** When diverged: the index of the state that failed a check. */
  readonly divergedAt?: number
  /** Why the run ended short of maxIter (diverged, stalled), or what stopped it (a rule). */
  readonly reason?: string
  /** Work done by the run: the counts of the last state made (past the returned one on divergence). */
  readonly counts: Counts
  /** The last `keep` good states, oldest first (empty when keep is 0). */
  readonly kept: ReadonlyArray<S>
}

/** The result of a linear run, with the true residual of the returned iterate recomputed. */
export interface LinearRunResult<S> extends RunResult<S> {
  /**
   * ‖b − A v‖ of the returned iterate, recomputed from scratch with one product (not counted).
   * Solvers that update the residual by a recursion (conjugate gradient) report a monitored
   * residual that drifts from this one.
   */
  readonly trueResidual: number
}

/** The default blow-up factor of the divergence test. */
export const DEFAULT_BLOW_UP = 1e12

const checkRunOptions = (who: string, o: RunOptions): E.Either<HypergradError, void> =>
  firstOf(
    () => checkCount(who, 'maxIter', o.maxIter),
    () => checkTolerance(who, 'tol', o.tol),
    () => (o.blowUp === undefined || o.blowUp > 0 ? E.right(undefined) : fail('domain', who, `blowUp must be > 0, got ${o.blowUp}`)),
    () => (o.keep === undefined ? E.right(0) : checkCount(who, 'keep', o.keep)),
  )

const firstNonFinite = (x: RVec): number => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return i
  return -1
}

/**
 * Drive a checked solver (see the module comment). `iterate` reads a state's iterate and
 * `rhsNorm` is ‖b‖ for linear systems (0 otherwise). Exceptions from the solver's code become
 * a Left naming the solver.
 */
export const drive = <Ctx, S extends SolverState>(
  m: Solver<Ctx, unknown, S>,
  ctx: Ctx,
  start: RVec,
  rng: Rng,
  opts: RunOptions,
  iterate: (s: S) => RVec,
  rhsNorm: number,
): E.Either<HypergradError, RunResult<S>> => {
  const maxIter = opts.maxIter
  const tol = opts.tol
  const blowUp = opts.blowUp ?? DEFAULT_BLOW_UP
  const keep = opts.keep ?? 0
  const res: number[] = []
  let allResiduals = true
  const kept: S[] = []
  let good: S | undefined
  let bound2 = Infinity
  const finish = (state: S, status: Status, counts: Counts, extra: { divergedAt?: number; reason?: string } = {}): RunResult<S> => ({
    state,
    iterations: res.length - 1,
    residuals: allResiduals ? Float64Array.from(res) : new Float64Array(0),
    status,
    counts,
    kept,
    ...extra,
  })
  try {
    let s = m.init(ctx, start, rng)
    for (let i = 0; ; i++) {
      const x = iterate(s)
      const ss = sumSquares(x)
      if (i === 0) {
        const b = blowUp * (1 + Math.sqrt(ss) + (Number.isFinite(s.residual) ? s.residual! : 0) + rhsNorm)
        bound2 = b * b
      }
      let failure: string | undefined
      if (!(ss <= bound2)) {
        const bad = firstNonFinite(x)
        failure =
          bad >= 0
            ? `non-finite iterate at iteration ${i} (entry ${bad} = ${x[bad]})`
            : `iterate norm ${Math.sqrt(ss).toExponential(3)} exceeds the blow-up bound ${Math.sqrt(bound2).toExponential(3)} at iteration ${i}`
      } else if (s.residual !== undefined && !Number.isFinite(s.residual)) failure = `non-finite residual ${s.residual} at iteration ${i}`
      if (failure !== undefined) {
        if (good === undefined) {
          res.push(NaN)
          allResiduals = false
          return E.right(finish(s, 'diverged', s.counts, { divergedAt: i, reason: failure }))
        }
        return E.right(finish(good, 'diverged', s.counts, { divergedAt: i, reason: failure }))
      }
      good = s
      res.push(s.residual ?? NaN)
      if (s.residual === undefined) allResiduals = false
      if (keep > 0) {
        kept.push(s)
        if (kept.length > keep) kept.shift()
      }
      if (s.stop === 'diverged') return E.right(finish(s, 'diverged', s.counts, { divergedAt: i, reason: s.reason ?? `${m.name} broke down at iteration ${i}` }))
      if (s.stop === 'stalled') return E.right(finish(s, 'maxIter', s.counts, { reason: s.reason ?? `${m.name} stalled at iteration ${i}` }))
      if (s.stop === 'converged') return E.right(finish(s, 'converged', s.counts, s.reason === undefined ? {} : { reason: s.reason }))
      if (tol !== undefined && s.residual !== undefined && s.residual <= tol) return E.right(finish(s, 'converged', s.counts))
      if (i >= maxIter) return E.right(finish(s, 'maxIter', s.counts))
      s = m.step(ctx, s)
    }
  } catch (e) {
    return E.left(faultOf(m.name, e))
  }
}

/**
 * Run a lower-level solver on a problem at λ from w₀ for at most `maxIter` steps, stopping early
 * when ‖Φ(wₜ) − wₜ‖ ≤ tol, when the solver or a rule stops it, or on divergence (see the module
 * comment). Checks the solver against the problem, λ, w₀ and the options first (Left).
 */
export const runLower = <S extends LowerState>(m: LowerSolver<S>, problem: BilevelProblem, lambda: RVec, w0: RVec, rng: Rng, opts: RunOptions): E.Either<HypergradError, RunResult<S>> => {
  const who = runnerOf('runLower', m)
  return pipe(
    checkRunOptions(who, opts),
    E.chain(() => checkLowerRun(who, m as LowerSolver, problem, lambda, w0, opts.maxIter)),
    E.chain(({ ctx, start }) => drive(m, ctx, start, rng, opts, (s) => s.w, 0)),
  )
}

/**
 * Run a linear solver on A v = b from v₀ for at most `maxIter` steps, stopping early when the
 * monitored residual is ≤ tol (absolute: pass tol·‖b‖ for a relative test), when the solver or
 * a rule stops it, or on divergence; ‖b‖ enters the blow-up bound, and the true residual of the
 * returned iterate is recomputed. Checks first (Left).
 */
export const runLinear = <S extends LinearState>(m: LinearSolver<S>, system: LinearSystem, v0: RVec, rng: Rng, opts: RunOptions): E.Either<HypergradError, LinearRunResult<S>> => {
  const who = runnerOf('runLinear', m)
  return pipe(
    checkRunOptions(who, opts),
    E.chain(() => checkLinearRun(who, m as LinearSolver, system, v0, opts.maxIter)),
    E.chain((start) => drive(m, system, start, rng, opts, (s) => s.v, nrm2(system.rhs.length, system.rhs, 1, 0))),
    E.chain((r) => {
      try {
        return E.right({ ...r, trueResidual: trueResidual(system, r.state.v) })
      } catch (e) {
        return E.left(faultOf(who, e))
      }
    }),
  )
}
