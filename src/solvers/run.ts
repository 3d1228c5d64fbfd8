/**
 * Run a solver's state stream to a stop. A solver yields states x₀, x₁, … (lazily); a run
 * consumes them until one of:
 *
 *   - converged: the monitored residual of a state is ≤ `tol`, or the solver flagged the state
 *     `stop: 'converged'` (it met its own tolerance, e.g. conjugate gradient). The state that
 *     met the tolerance is the one returned — never an older one.
 *   - maxIter: the state with index `maxIter` was reached (or the stream ended unflagged).
 *   - diverged: an iterate has a non-finite entry, its residual is non-finite, its norm left
 *     the blow-up bound below, or the solver flagged the state `stop: 'diverged'` (breakdown).
 *
 * Blow-up bound: xᵢ is declared blown up when
 *     ‖xᵢ‖ > blowUp · (1 + ‖x₀‖ + r₀ + ‖b‖),   blowUp = 1e12 by default,
 * with r₀ the monitored residual of the start (0 when the solver does not report one) and b
 * the right-hand side of the linear system (linear runs given their system; 0 otherwise).
 * Why this never fires on a convergent run of a q-contraction: the fixed point x* satisfies
 * ‖x* − x₀‖ ≤ r₀/(1 − q) (r₀ = ‖Φ(x₀) − x₀‖, or ‖(I − ∂₁Φᵀ)v₀ − b‖ for the linear system),
 * and fixed-point iterates stay within ‖x₀ − x*‖ of x*, so ‖xᵢ‖ ≤ ‖x₀‖ + 2r₀/(1 − q). A
 * false alarm needs 1/(1 − q) beyond ~10¹¹; raise `blowUp` for such problems.
 *
 * On divergence the returned state is the last one that passed every check (its iterate is
 * finite), and `divergedAt` is the index of the state that failed; a solver that flags a
 * breakdown puts its last good iterate on the flagged state, which is then the one returned.
 */
import { axpy, nrm2 } from '../linalg/kernels.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { Stream } from '../stream/stream.js'
import type { Counts, LinearState, LinearSystem, LowerState, Status } from './types.js'

/** Flags a solver may set on a state: it stops its stream there, converged or broken down. */
export interface StopFlag {
  readonly stop?: 'converged' | 'diverged'
  /** Why the solver stopped (for 'diverged': what broke down). */
  readonly reason?: string
}

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
  /** The returned state: the one that met tol, the one at maxIter, or the last good one. */
  readonly state: S
  /** Its index (= the number of steps from the start). */
  readonly iterations: number
  /**
   * The monitored residuals of states 0..iterations. Empty when some state does not report a
   * residual (stochastic solvers).
   */
  readonly residuals: Float64Array
  readonly status: Status
  /** When diverged: the index of the state that failed a check. */
  readonly divergedAt?: number
  /** When diverged: what failed. */
  readonly reason?: string
  /** Work done by the run: the counts of the last state consumed (past the returned one on divergence). */
  readonly counts: Counts
  /** The last `keep` good states, oldest first (present when keep > 0). */
  readonly kept: ReadonlyArray<S>
}

/** The result of a linear run, with the true residual of the returned iterate recomputed. */
export interface LinearRunResult<S> extends RunResult<S> {
  /**
   * ‖(I − ∂₁Φᵀ)v − b‖ of the returned iterate, recomputed from scratch with one product
   * (present when the run was given its system). Solvers that update the residual by a
   * recursion (conjugate gradient) report a monitored residual that drifts from this one.
   */
  readonly trueResidual?: number
}

const DEFAULT_BLOW_UP = 1e12

const finiteVec = (x: RVec): boolean => {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) return false
  return true
}

const checkRunOptions = (what: string, o: RunOptions): void => {
  if (!(Number.isInteger(o.maxIter) && o.maxIter >= 0)) throw new RangeError(`${what}: maxIter must be an integer ≥ 0, got ${o.maxIter}`)
  if (o.tol !== undefined && !(o.tol >= 0)) throw new RangeError(`${what}: tol must be ≥ 0, got ${o.tol}`)
  if (o.blowUp !== undefined && !(o.blowUp > 0)) throw new RangeError(`${what}: blowUp must be > 0, got ${o.blowUp}`)
  if (o.keep !== undefined && !(Number.isInteger(o.keep) && o.keep >= 0)) throw new RangeError(`${what}: keep must be an integer ≥ 0, got ${o.keep}`)
}

interface Monitored {
  readonly residual?: number
  readonly counts: Counts
}

const run = <S extends Monitored & StopFlag>(
  what: string,
  stream: Stream<S>,
  iterate: (s: S) => RVec,
  opts: RunOptions,
  rhsNorm: number,
): RunResult<S> => {
  checkRunOptions(what, opts)
  const { maxIter } = opts
  const tol = opts.tol
  const blowUp = opts.blowUp ?? DEFAULT_BLOW_UP
  const keep = opts.keep ?? 0
  const res: number[] = []
  let allResiduals = true
  const kept: S[] = []
  let good: S | undefined
  let bound = Infinity
  let i = 0
  const finish = (state: S, status: Status, counts: Counts, extra: { divergedAt?: number; reason?: string } = {}): RunResult<S> => ({
    state,
    iterations: res.length - 1,
    residuals: allResiduals ? Float64Array.from(res) : new Float64Array(0),
    status,
    counts,
    kept,
    ...extra,
  })
  const accept = (s: S): void => {
    good = s
    res.push(s.residual ?? NaN)
    if (s.residual === undefined) allResiduals = false
    if (keep > 0) {
      kept.push(s)
      if (kept.length > keep) kept.shift()
    }
  }
  for (const s of stream) {
    const x = iterate(s)
    const nx = nrm2(x.length, x, 1, 0)
    if (i === 0) bound = blowUp * (1 + nx + (Number.isFinite(s.residual) ? s.residual! : 0) + rhsNorm)
    let failure: string | undefined
    if (!finiteVec(x)) failure = `non-finite iterate at iteration ${i}`
    else if (s.residual !== undefined && !Number.isFinite(s.residual)) failure = `non-finite residual ${s.residual} at iteration ${i}`
    else if (!(nx <= bound)) failure = `iterate norm ${nx.toExponential(3)} exceeds the blow-up bound ${bound.toExponential(3)} at iteration ${i}`
    if (failure !== undefined) {
      if (good === undefined) {
        // Even the start fails: return it, flagged.
        res.push(s.residual ?? NaN)
        allResiduals = false
        return finish(s, 'diverged', s.counts, { divergedAt: i, reason: failure })
      }
      return finish(good, 'diverged', s.counts, { divergedAt: i, reason: failure })
    }
    accept(s)
    if (s.stop === 'diverged') return finish(s, 'diverged', s.counts, { divergedAt: i, reason: s.reason ?? `solver broke down at iteration ${i}` })
    if (s.stop === 'converged' || (tol !== undefined && s.residual !== undefined && s.residual <= tol))
      return finish(s, 'converged', s.counts)
    if (i >= maxIter) return finish(s, 'maxIter', s.counts)
    i++
  }
  if (good === undefined) throw new RangeError(`${what}: the solver stream yielded no state`)
  return finish(good, 'maxIter', good.counts)
}

/**
 * Run a lower-level solver's stream (states w₀, w₁, …) for at most `maxIter` steps, stopping
 * early when ‖Φ(wₜ) − wₜ‖ ≤ tol or on divergence (see the module comment).
 */
export const runLower = <S extends LowerState & StopFlag>(stream: Stream<S>, opts: RunOptions): RunResult<S> =>
  run('runLower', stream, (s) => s.w, opts, 0)

/**
 * Run a linear-system solver's stream (states v₀, v₁, …) for at most `maxIter` steps, stopping
 * early when the monitored residual is ≤ tol (absolute: pass tol·‖b‖ for a relative test),
 * when the solver stops itself, or on divergence. Given `system`, ‖b‖ enters the blow-up
 * bound and the true residual of the returned iterate is recomputed (one product with ∂₁Φᵀ,
 * not counted in `counts`).
 */
export const runLinear = <S extends LinearState & StopFlag>(
  stream: Stream<S>,
  opts: RunOptions & { readonly system?: LinearSystem },
): LinearRunResult<S> => {
  const b = opts.system?.rhs
  const r = run('runLinear', stream, (s) => s.v, opts, b === undefined ? 0 : nrm2(b.length, b, 1, 0))
  if (opts.system === undefined) return r
  return { ...r, trueResidual: trueResidual(opts.system, r.state.v) }
}

/** ‖(I − ∂₁Φᵀ)v − b‖ from scratch: one product with ∂₁Φᵀ. */
export const trueResidual = (system: LinearSystem, v: RVec): number => {
  const r: Vec = system.applyJT(v) // ∂₁Φᵀv, then − v + b
  axpy(v.length, -1, v, 1, 0, r, 1, 0)
  axpy(v.length, 1, system.rhs, 1, 0, r, 1, 0)
  return nrm2(r.length, r, 1, 0)
}
