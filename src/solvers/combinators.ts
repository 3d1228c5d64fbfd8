/**
 * Combinators: each takes a solver and returns a solver of the same kind (lower-level or
 * linear), usable wherever a solver is (aid, sid, runLower/runLinear, tune's oracles; itd takes
 * a stopping rule and an observer). Each keeps the work counts, the stop flags and the laws of
 * the solver it wraps (replay, determinism, purity), and runs the wrapped solver's check.
 *
 *   averaged(m, { from })      Polyak–Ruppert averaging of the iterates from step `from` on
 *   stopWhen(m, rule)          end the stream at the first state the rule accepts: 'converged'
 *   tap(m, observe)            call observe on every state (progress, traces); change nothing
 *   restarted(m, every)        re-initialize m at its current iterate every `every` steps
 *   switchAfter(m, n, next)    run m for n steps, then `next` from m's iterate (a schedule swap)
 *
 * Stopping rules (`rules`): a residual tolerance, a relative one for linear systems, a budget of
 * Φ evaluations or products, wall time, and their disjunction.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Vec } from '../linalg/types.js'
import { checkCount, checkInteger, fail, firstOf, type Check } from './check.js'
import { addCounts, iterateOf, NO_COUNTS, sumSquares } from './solver.js'
import type { Counts, LinearSolver, LinearState, LinearSystem, LowerContext, LowerSolver, LowerState, Solver, SolverState } from './types.js'

type AnyState = LowerState | LinearState
// The combinators work on either kind; the overloads below give each its precise type.
type Any = Solver<any, any, any> & { readonly kind: 'lower' | 'linear' } // eslint-disable-line @typescript-eslint/no-explicit-any

/** A state built around an inner solver's state: it shows the fields of a state of its kind. */
export type Wrapped<S extends AnyState, X = unknown> = (S extends LowerState ? LowerState : LinearState) & { readonly inner: S } & X

/** The fields of a state of `kind` with iterate x, from a state s (its stop flags included). */
const view = (kind: 'lower' | 'linear', s: SolverState, x: Vec, over: Partial<SolverState> = {}): AnyState => {
  const base: SolverState = {
    iter: s.iter,
    counts: s.counts,
    rng: s.rng,
    ...(s.residual === undefined ? {} : { residual: s.residual }),
    ...(s.stop === undefined ? {} : { stop: s.stop, ...(s.reason === undefined ? {} : { reason: s.reason }) }),
    ...over,
  }
  return kind === 'lower' ? { ...base, w: x } : { ...base, v: x }
}

/**
 * The fields of a solver that wraps m: m's kind, stochasticity and batch size under a new name,
 * and a check that runs the wrapper's own check of its options, then m's.
 */
const around = (m: Any, name: string, own: () => Check<unknown>) => ({
  kind: m?.kind,
  name,
  stochastic: m?.stochastic,
  ...(m?.batchSize === undefined ? {} : { batchSize: m.batchSize }),
  check: (shape: unknown, steps: number) => firstOf(own, () => m.check(shape, steps)),
})

// ---------------------------------------------------------------------------------------------
// averaged

/** Options of `averaged`. */
export interface AveragedOptions {
  /** Average the iterates x_from, x_from+1, …, xₜ (default 0: all of them, Polyak–Ruppert); before `from`, the iterate is the solver's own. */
  readonly from?: number
}

/** An averaged state: the running mean of the inner iterates (no residual: that of the mean is not computed). */
export type AveragedState<S extends AnyState> = Wrapped<S, { readonly count: number }>

/**
 * Polyak–Ruppert (tail) averaging: the iterate of state t is the mean of the wrapped solver's
 * iterates x_from … xₜ (for t ≥ from; before, xₜ itself). Averaging SGD with a constant step
 * removes most of its plateau variance (SID Thm 4.1's ησ₁/(1−q²)) at a bias that decays with t.
 * The states report no residual (that of the mean would cost an extra evaluation); counts and
 * stop flags are the wrapped solver's. One fresh vector per step.
 */
export function averaged<S extends LowerState>(m: LowerSolver<S>, opts?: AveragedOptions): LowerSolver<AveragedState<S>>
export function averaged<S extends LinearState>(m: LinearSolver<S>, opts?: AveragedOptions): LinearSolver<AveragedState<S>>
export function averaged(m: Any, opts: AveragedOptions = {}): Any {
  const from = opts?.from ?? 0
  const name = `averaged(${m?.name}${from === 0 ? '' : `, from=${from}`})`
  const wrap = (inner: AnyState, mean: Vec, count: number) => {
    const s = view(m.kind, inner, mean) as SolverState & { residual?: number }
    delete s.residual
    return { ...s, inner, count }
  }
  return {
    ...around(m, name, () => checkCount(name, 'from', from)),
    init: (ctx: unknown, start: Vec, rng: never) => {
      const inner = m.init(ctx, start, rng) as AnyState
      const x = iterateOf(inner)
      return from === 0 ? wrap(inner, Float64Array.from(x), 1) : wrap(inner, x, 0)
    },
    step: (ctx: unknown, s: AveragedState<AnyState>) => {
      const inner = m.step(ctx, s.inner) as AnyState
      const x = iterateOf(inner)
      if (inner.iter < from) return wrap(inner, x, 0)
      if (s.count === 0) return wrap(inner, Float64Array.from(x), 1)
      const count = s.count + 1
      const prev = iterateOf(s)
      const mean = new Float64Array(x.length)
      for (let i = 0; i < x.length; i++) mean[i] = prev[i]! + (x[i]! - prev[i]!) / count
      return wrap(inner, mean, count)
    },
  }
}

// ---------------------------------------------------------------------------------------------
// stopping rules and stopWhen

/** What a rule sees besides the state: the solver's context and the milliseconds since init. */
export interface RuleInfo<Ctx> {
  readonly ctx: Ctx
  readonly elapsedMs: number
}

/**
 * A stopping rule: a test on a state (and its context), with a description for reports. A rule
 * that reads the clock says so (`clock: true`): its states then record the start time, and runs
 * are not replayable bit for bit.
 */
export interface StopRule<S extends SolverState = SolverState, Ctx = unknown> {
  readonly describe: string
  readonly clock?: boolean
  test(state: S, info: RuleInfo<Ctx>): boolean
}

/** The stopping rules a researcher reaches for. */
export const rules = {
  /** The monitored residual is ≤ tol (absolute); never fires for solvers that report none. */
  residual: (tol: number): StopRule => ({ describe: `residual ≤ ${tol}`, test: (s) => s.residual !== undefined && s.residual <= tol }),
  /** Linear systems: the monitored residual is ≤ tol·‖b‖. */
  relativeResidual: (tol: number): StopRule<LinearState, LinearSystem> => ({
    describe: `residual ≤ ${tol}·‖b‖`,
    test: (s, { ctx }) => {
      if (s.residual === undefined) return false
      return s.residual <= tol * Math.sqrt(sumSquares(ctx.rhs))
    },
  }),
  /** The work reached a budget: Φ evaluations, products with ∂₁Φ (or A), with ∂₂Φ, or all products. */
  budget: (b: { readonly phi?: number; readonly jacW?: number; readonly jacLambda?: number; readonly products?: number }): StopRule => ({
    describe: `budget ${Object.entries(b)
      .map(([k, v]) => `${k} ≤ ${v}`)
      .join(', ')}`,
    test: ({ counts: c }) =>
      (b.phi !== undefined && c.phi >= b.phi) ||
      (b.jacW !== undefined && c.jacW >= b.jacW) ||
      (b.jacLambda !== undefined && c.jacLambda >= b.jacLambda) ||
      (b.products !== undefined && c.jacW + c.jacLambda >= b.products),
  }),
  /** At least `seconds` of wall time since init (not replayable: the clock is outside the state). */
  wallTime: (seconds: number): StopRule => ({ describe: `wall time ≥ ${seconds} s`, clock: true, test: (_s, { elapsedMs }) => elapsedMs >= seconds * 1000 }),
  /** Any of the rules. */
  any: <S extends SolverState, Ctx>(...rs: ReadonlyArray<StopRule<S, Ctx>>): StopRule<S, Ctx> => ({
    describe: rs.map((r) => r.describe).join(' or '),
    clock: rs.some((r) => r.clock === true),
    test: (s, info) => rs.some((r) => r.test(s, info)),
  }),
}

const checkRule = (who: string, rule: unknown) =>
  typeof rule === 'object' && rule !== null && typeof (rule as StopRule).test === 'function'
    ? E.right(undefined)
    : fail('config', who, 'the rule must be a stopping rule { describe, test(state, info) } (see solvers.rules)')

/** A state of `stopWhen`: the wrapped state's fields, the wrapped state and (for a rule that reads the clock) the start time. */
export type StoppedState<S extends AnyState> = Wrapped<S, { readonly startedAt?: number }>

/**
 * End the stream at the first state the rule accepts, flagged `stop: 'converged'` (a run that
 * stops by a rule reports 'converged', with the rule in its reason). Iterates, residuals,
 * counts and the wrapped solver's own stops are unchanged.
 */
export function stopWhen<S extends LowerState>(m: LowerSolver<S>, rule: StopRule<LowerState, LowerContext> | StopRule): LowerSolver<StoppedState<S>>
export function stopWhen<S extends LinearState>(m: LinearSolver<S>, rule: StopRule<LinearState, LinearSystem> | StopRule): LinearSolver<StoppedState<S>>
export function stopWhen(m: Any, rule: StopRule<any, any>): Any { // eslint-disable-line @typescript-eslint/no-explicit-any
  const name = `stopWhen(${m?.name}, ${rule?.describe})`
  const clock = rule?.clock === true
  const wrap = (ctx: unknown, inner: AnyState, startedAt: number | undefined) => {
    const s = { ...view(m.kind, inner, iterateOf(inner)), inner, ...(startedAt === undefined ? {} : { startedAt }) }
    if (inner.stop === undefined && rule.test(s, { ctx, elapsedMs: startedAt === undefined ? 0 : performance.now() - startedAt }))
      return { ...s, stop: 'converged' as const, reason: `stopped by rule: ${rule.describe}` }
    return s
  }
  return {
    ...around(m, name, () => checkRule(name, rule)),
    init: (ctx: unknown, start: Vec, rng: never) => wrap(ctx, m.init(ctx, start, rng) as AnyState, clock ? performance.now() : undefined),
    step: (ctx: unknown, s: StoppedState<AnyState>) => wrap(ctx, m.step(ctx, s.inner) as AnyState, s.startedAt),
  }
}

// ---------------------------------------------------------------------------------------------
// tap

/**
 * Call `observe(state, ctx)` on every state (the start included), for progress bars and traces;
 * the states are the wrapped solver's own, unchanged. The observer must not write to the
 * state; an exception it throws ends a run with a Left.
 */
export function tap<S extends LowerState>(m: LowerSolver<S>, observe: (s: S, ctx: LowerContext) => void): LowerSolver<S>
export function tap<S extends LinearState>(m: LinearSolver<S>, observe: (s: S, ctx: LinearSystem) => void): LinearSolver<S>
export function tap(m: Any, observe: (s: never, ctx: never) => void): Any {
  const name = `tap(${m?.name})`
  const seen = <T>(ctx: unknown, s: T): T => {
    observe(s as never, ctx as never)
    return s
  }
  return {
    ...around(m, name, () => (typeof observe === 'function' ? E.right(undefined) : fail('config', name, 'observe must be a function'))),
    init: (ctx: unknown, start: Vec, rng: never) => seen(ctx, m.init(ctx, start, rng)),
    step: (ctx: unknown, s: unknown) => seen(ctx, m.step(ctx, s)),
  }
}

// ---------------------------------------------------------------------------------------------
// restarted and switchAfter: solvers run in phases, each started at the previous one's iterate

/** A phased state: the current phase's state and the work and steps done before it began. */
export type PhasedState<S extends AnyState> = Wrapped<S, { readonly phase: number; readonly before: { readonly iter: number; readonly counts: Counts } }>

const phased = (kind: 'lower' | 'linear', inner: AnyState, phase: number, before: { iter: number; counts: Counts }) => ({
  ...view(kind, inner, iterateOf(inner), { iter: before.iter + inner.iter, counts: addCounts(before.counts, inner.counts) }),
  inner,
  phase,
  before,
})

/**
 * Re-initialize the solver at its current iterate every `every` steps (restarting momentum,
 * as adaptive-restart schemes do; for a stochastic solver the random stream goes on). A
 * restart costs what the solver's init costs (e.g. one Φ evaluation for heavy ball), counted.
 */
export function restarted<S extends LowerState>(m: LowerSolver<S>, every: number): LowerSolver<PhasedState<S>>
export function restarted<S extends LinearState>(m: LinearSolver<S>, every: number): LinearSolver<PhasedState<S>>
export function restarted(m: Any, every: number): Any {
  const name = `restarted(${m?.name}, every=${every})`
  return {
    ...around(m, name, () => checkInteger(name, 'every', every, 1)),
    init: (ctx: unknown, start: Vec, rng: never) => phased(m.kind, m.init(ctx, start, rng) as AnyState, 0, { iter: 0, counts: NO_COUNTS }),
    step: (ctx: unknown, s: PhasedState<AnyState>) => {
      const inner = m.step(ctx, s.inner) as AnyState
      const total = s.before.iter + inner.iter
      if (total % every !== 0 || inner.stop !== undefined) return phased(m.kind, inner, s.phase, s.before)
      const before = { iter: total, counts: addCounts(s.before.counts, inner.counts) }
      return phased(m.kind, m.init(ctx, iterateOf(inner), inner.rng as never) as AnyState, s.phase + 1, before)
    },
  }
}

/**
 * Run `first` for n steps, then `next` from first's iterate (and random stream): a schedule
 * swap (a constant step until the plateau, then a decreasing one), or a cheap solver to warm
 * up an expensive one. Both must be of the same kind; counts add up.
 */
export function switchAfter<S extends LowerState, T extends LowerState>(first: LowerSolver<S>, n: number, next: LowerSolver<T>): LowerSolver<PhasedState<S | T>>
export function switchAfter<S extends LinearState, T extends LinearState>(first: LinearSolver<S>, n: number, next: LinearSolver<T>): LinearSolver<PhasedState<S | T>>
export function switchAfter(first: Any, n: number, next: Any): Any {
  const name = `switchAfter(${first?.name}, ${n}, ${next?.name})`
  return {
    kind: first?.kind,
    name,
    stochastic: first?.stochastic || next?.stochastic,
    ...(first?.batchSize ?? next?.batchSize) !== undefined ? { batchSize: first?.batchSize ?? next?.batchSize } : {},
    check: (shape: unknown, steps: number) =>
      firstOf(
        () => checkCount(name, 'n', n),
        () => (first?.kind === next?.kind ? E.right(undefined) : fail('config', name, `both solvers must be of the same kind, got ${first?.kind} and ${next?.kind}`)),
        () => first.check(shape, Math.min(n, steps)),
        () => next.check(shape, Math.max(0, steps - n)),
      ),
    init: (ctx: unknown, start: Vec, rng: never) => {
      const s = phased(first.kind, first.init(ctx, start, rng) as AnyState, 0, { iter: 0, counts: NO_COUNTS })
      return n === 0 ? phased(first.kind, next.init(ctx, start, rng) as AnyState, 1, { iter: 0, counts: s.inner.counts }) : s
    },
    step: (ctx: unknown, s: PhasedState<AnyState>) => {
      const m = s.phase === 0 ? first : next
      const inner = m.step(ctx, s.inner) as AnyState
      if (s.phase === 1 || inner.iter < n || inner.stop !== undefined) return phased(first.kind, inner, s.phase, s.before)
      const before = { iter: inner.iter, counts: inner.counts }
      return phased(first.kind, next.init(ctx, iterateOf(inner), inner.rng as never) as AnyState, 1, before)
    },
  }
}
