/**
 * The laws every solver must obey (DESIGN "Laws"; the registry pattern of optax's shared
 * optimizer tests): one call runs a lower-level solver (`LowerSolver`) or a linear-system solver
 * (`LinearSolver`) through the same checks, on the stream its init/step unfold to.
 *
 *   solver.check        the solver's own check accepts the problem or system (else the other laws
 *                       are not run: they would test a configuration the library refuses)
 *   solver.start        the first state is the start (iter 0, the very w₀/v₀ values), iter increases
 *                       (a stream may end early, e.g. conjugate gradient once converged; the laws
 *                       then follow it to its end)
 *   solver.replay       iterating the state stream twice gives bit-identical states
 *   solver.determinism  two fresh calls with equal inputs and the same seed give bit-identical states
 *   solver.seeds        stochastic: different seeds give different iterates; deterministic: the seed is ignored
 *   solver.purity       w₀/v₀, λ, the data and every state already yielded stay unchanged, and no state aliases w₀/v₀
 *   solver.values       states are values: stepping the same state twice gives bit-identical states
 *   solver.finite       iterates, residuals and work counts are finite (counts never decrease)
 *   solver.residual     a reported residual is the one the state type documents, recomputed from the iterate
 *   solver.convergence  deterministic methods: after N steps the error is below the start's
 *                       (against ClosedForm.solution(λ) for lower methods, a dense LU solve for linear ones)
 */
import fc from 'fast-check'
import { denseOf, luSolve } from '../linalg/matrix.js'
import type { RVec, Vec } from '../linalg/types.js'
import type { BilevelProblem, ClosedForm } from '../problem/bilevel.js'
import * as rng from '../random/rng.js'
import { take, toArray, type Stream } from '../stream/stream.js'
import * as E from 'fp-ts/lib/Either.js'
import { shapeOfSystem, validateLinear, validateLower } from '../solvers/check.js'
import { unfold } from '../solvers/solver.js'
import type { LinearSolver, LinearState, LinearSystem, LowerContext, LowerSolver, LowerState, Solver, SolverState } from '../solvers/types.js'
import { changedSince, deepCopy, firstDifference, snapshot } from './equal.js'
import { diffNorm, isFiniteArray, norm2, showVec, vecArb } from './numeric.js'
import type { ProblemLawOptions } from './problem.js'
import { once, report, runProperty, skipped, violation, type LawReport, type LawResult, type RunParams } from './report.js'

/** Options shared by the solver checkers (`paths` and `skip` as for the problem laws). */
export interface SolverLawOptions extends Pick<ProblemLawOptions, 'paths' | 'skip'> {
  readonly seed: number
  /** Runs per law (default 5: each run iterates the solver). */
  readonly numRuns?: number
  /** N: how many steps each law follows (default 20). */
  readonly steps?: number
  /** Starts are drawn with entries in [−scale, scale] (default 1). */
  readonly startScale?: number
  /** Data that must never change (e.g. the problem's datasets); the problem or system itself is also walked. */
  readonly data?: unknown
  /** Relative tolerance of the residual law (default 1e-8). */
  readonly residualRtol?: number
}

/** Options of `checkLowerSolver`. */
export interface LowerSolverLawOptions extends SolverLawOptions {
  /** The fixed point w(λ₀) to converge to (default: the problem's own `solution`, when it has a ClosedForm). */
  readonly closedForm?: ClosedForm
}

/** Options of `checkLinearSolver`. */
export interface LinearSolverLawOptions extends SolverLawOptions {
  /** The solution of (I − ∂₁Φᵀ)v = b (default: a dense LU solve of the system). */
  readonly solution?: RVec
}

/** True when a value has the shape of a ClosedForm (solution and hypergradient functions). */
export const hasClosedForm = (x: unknown): x is ClosedForm =>
  typeof x === 'object' && x !== null && typeof (x as Partial<ClosedForm>).solution === 'function' && typeof (x as Partial<ClosedForm>).hypergradient === 'function'

type State = SolverState

/** The subject of a solver on a fixed context: fresh streams and single steps from it, and what the laws read of its states. */
const subjectOf = <Ctx, S extends State>(
  solver: Solver<Ctx, unknown, S>,
  ctx: Ctx,
  dim: number,
  reads: Pick<Subject<S>, 'iterate' | 'inputs' | 'residualOf' | 'target'>,
): Subject<S> => ({
  dim,
  stochastic: solver.stochastic,
  run: (x0, seed) => unfold(solver, ctx, x0, rng.seed(seed)),
  step: (s) => solver.step(ctx, s),
  ...reads,
})

/** What the generic laws need to know about a solver, lower or linear. */
interface Subject<S extends State> {
  readonly dim: number
  readonly stochastic: boolean
  /** A fresh stream from a start and a seed. */
  readonly run: (x0: Vec, seed: number) => Stream<S>
  /** One step from a state. */
  readonly step: (s: S) => S
  readonly iterate: (s: S) => Vec
  /** Values that must not change, besides the start (λ, the system's right-hand side, …). */
  readonly inputs: () => unknown
  /** The residual the state type documents, recomputed from the iterate. */
  readonly residualOf: (x: RVec) => number
  /** The target of convergence, when known and the method is deterministic. */
  readonly target: () => RVec | undefined
}

const statesOf = <S>(s: Stream<S>, n: number): S[] => toArray(take(n + 1)(s))

const params = (o: SolverLawOptions): RunParams => ({
  seed: o.seed,
  numRuns: o.numRuns ?? 5,
  ...(o.paths ? { paths: o.paths } : {}),
  ...(o.skip ? { skip: o.skip } : {}),
})

const solverLaws = <S extends State>(sub: Subject<S>, o: SolverLawOptions): LawResult[] => {
  const p = params(o)
  const N = o.steps ?? 20
  const start = vecArb(sub.dim, o.startScale ?? 1)
  const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 })
  const it = sub.iterate
  const rtol = o.residualRtol ?? 1e-8

  const startLaw = runProperty(
    'solver.start',
    fc.property(start, seedArb, (x0, s) => {
      const st = statesOf(sub.run(x0, s), N)
      if (st.length === 0) violation('the stream is empty: the first state must be the start')
      if (st[0]!.iter !== 0) violation(`the first state has iter ${st[0]!.iter}, expected 0`)
      const d = firstDifference(x0, it(st[0]!))
      if (d !== undefined) violation(`the first state is not the start: ${d}`)
      for (let t = 1; t < st.length; t++)
        if (!(Number.isInteger(st[t]!.iter) && st[t]!.iter > st[t - 1]!.iter)) violation(`iter goes from ${st[t - 1]!.iter} to ${st[t]!.iter} at state ${t}`)
    }),
    p,
  )

  const replayLaw = runProperty(
    'solver.replay',
    fc.property(start, seedArb, (x0, s) => {
      const stream = sub.run(x0, s)
      const a = statesOf(stream, N)
      const b = statesOf(stream, N)
      const d = firstDifference(a, b)
      if (d !== undefined) violation(`iterating the same stream twice differs at ${d}`)
    }),
    p,
  )

  const determinism = runProperty(
    'solver.determinism',
    fc.property(start, seedArb, (x0, s) => {
      const a = statesOf(sub.run(Float64Array.from(x0), s), N)
      const b = statesOf(sub.run(Float64Array.from(x0), s), N)
      const d = firstDifference(a, b)
      if (d !== undefined) violation(`two fresh runs with equal inputs and seed ${s} differ at ${d}`)
    }),
    p,
  )

  const seeds = runProperty(
    'solver.seeds',
    fc.property(start, seedArb, seedArb, (x0, s1, s2) => {
      fc.pre(s1 !== s2)
      const a = statesOf(sub.run(x0, s1), N).map(it)
      const b = statesOf(sub.run(x0, s2), N).map(it)
      const d = firstDifference(a, b)
      if (sub.stochastic && d === undefined) violation(`seeds ${s1} and ${s2} give identical iterates over ${N} steps`)
      if (!sub.stochastic && d !== undefined) violation(`a deterministic method depends on the seed: ${d}`)
    }),
    p,
  )

  const purity = runProperty(
    'solver.purity',
    fc.property(start, seedArb, (x0, s) => {
      const x0copy = Float64Array.from(x0)
      const inputs = snapshot(sub.inputs())
      const data = o.data === undefined ? undefined : snapshot(o.data)
      const kept: { state: S; copy: S }[] = []
      // Copy each state as it is yielded (not after the run), so that a later in-place update shows.
      for (const st of take(N + 1)(sub.run(x0, s))) {
        kept.push({ state: st, copy: deepCopy(st) })
        if (it(st).buffer === x0.buffer) violation(`state ${kept.length - 1} shares its buffer with the start: yield a copy`)
      }
      const d0 = firstDifference(x0copy, x0)
      if (d0 !== undefined) violation(`the start was changed: ${d0}`)
      const ch = changedSince(inputs)
      if (ch.length > 0) violation(`inputs were changed: ${ch.join('; ')}`)
      if (data !== undefined) {
        const cd = changedSince(data)
        if (cd.length > 0) violation(`the data was changed: ${cd.join('; ')}`)
      }
      kept.forEach(({ state, copy }, t) => {
        const d = firstDifference(copy, state)
        if (d !== undefined) violation(`state ${t} was changed after it was yielded (a reused buffer?): ${d}`)
      })
    }),
    p,
  )

  const values = runProperty(
    'solver.values',
    fc.property(start, seedArb, (x0, s) => {
      statesOf(sub.run(x0, s), N).forEach((st, t) => {
        if (st.stop !== undefined) return
        const a = sub.step(st)
        const b = sub.step(st)
        const d = firstDifference(a, b)
        if (d !== undefined) violation(`stepping state ${t} twice gives different states (state kept outside the state?): ${d}`)
      })
    }),
    p,
  )

  const finite = runProperty(
    'solver.finite',
    fc.property(start, seedArb, (x0, s) => {
      const st = statesOf(sub.run(x0, s), N)
      st.forEach((x, t) => {
        if (!isFiniteArray(it(x))) violation(`iterate ${t} is not finite: ${showVec(it(x))}`)
        if (x.residual !== undefined && !(Number.isFinite(x.residual) && x.residual >= 0)) violation(`residual ${t} = ${x.residual}`)
        for (const k of ['phi', 'jacW', 'jacLambda'] as const) {
          const c = x.counts[k]
          if (!(Number.isFinite(c) && c >= 0)) violation(`counts.${k} = ${c} at state ${t}`)
          if (t > 0 && c < st[t - 1]!.counts[k]) violation(`counts.${k} decreases at state ${t}: ${st[t - 1]!.counts[k]} → ${c}`)
        }
      })
    }),
    p,
  )

  const residual = runProperty(
    'solver.residual',
    fc.property(start, seedArb, (x0, s) => {
      statesOf(sub.run(x0, s), N).forEach((x, t) => {
        if (x.residual === undefined) return
        const r = sub.residualOf(it(x))
        const tol = rtol * Math.max(r, x.residual) + 1e-12 * (norm2(it(x)) + 1)
        if (!(Math.abs(r - x.residual) <= tol)) violation(`state ${t} reports residual ${x.residual}, but the iterate's residual is ${r}`)
      })
    }),
    p,
  )

  const target = sub.stochastic ? undefined : sub.target()
  const convergence =
    target === undefined
      ? skipped('solver.convergence', o.seed, sub.stochastic ? 'stochastic method' : 'no known solution to converge to')
      : runProperty(
          'solver.convergence',
          fc.property(start, seedArb, (x0, s) => {
            const st = statesOf(sub.run(x0, s), N)
            const e0 = diffNorm(it(st[0]!), target)
            const eN = diffNorm(it(st[st.length - 1]!), target)
            if (e0 > 1e-12 * (1 + norm2(target)) ? !(eN < e0) : !(eN <= e0 + 1e-12 * (1 + norm2(target))))
              violation(`after ${st.length - 1} steps the error is ${eN}, not below the start's ${e0}`)
          }),
          p,
        )

  return [startLaw, replayLaw, determinism, seeds, purity, values, finite, residual, convergence]
}

/** The report of a solver whose check refuses the problem or system: only that law, failed. */
const refused = (seed: number, message: string): LawReport => report([once('solver.check', seed, () => violation(`the solver's check refuses: ${message}`))])

/** The solver's check accepted the problem or system. */
const passed = (law: string, seed: number): LawResult => ({ law, ok: true, seed, numRuns: 1 })

/**
 * Run the solver laws (see the module comment) on a lower-level solver at λ₀, from random
 * starts w₀ with random seeds. Convergence is checked for deterministic solvers when the
 * problem has a ClosedForm (or one is passed).
 */
export const checkLowerSolver = (solver: LowerSolver, problem: BilevelProblem, lambda0: RVec, opts: LowerSolverLawOptions): LawReport => {
  const ok = validateLower('checkLowerSolver', solver, problem, opts.steps ?? 20)
  if (E.isLeft(ok)) return refused(opts.seed, ok.left.message)
  const closed = opts.closedForm ?? (hasClosedForm(problem) ? problem : undefined)
  const lambda = Float64Array.from(lambda0)
  const ctx = { problem, lambda }
  const sub = subjectOf<LowerContext, LowerState>(solver, ctx, problem.dim, {
    iterate: (s) => s.w,
    inputs: () => ({ lambda, problem }),
    residualOf: (w) => diffNorm(problem.phi(w, lambda), w),
    target: () => closed?.solution(lambda),
  })
  return report([passed('solver.check', opts.seed), ...solverLaws(sub, opts)])
}

/** ‖A x − b‖, the residual of a linear system (SID eq. 6 for the AID/SID system), recomputed densely from A's product. */
const linearResidual = (sys: LinearSystem, v: RVec): number => {
  const av = sys.matvec(v)
  const r = new Float64Array(v.length)
  for (let i = 0; i < r.length; i++) r[i] = av[i]! - sys.rhs[i]!
  return norm2(r)
}

/** The solution of A v = b by a dense LU solve (for small systems); Left when A is singular. */
export const denseLinearSolution = (sys: LinearSystem): E.Either<string, Vec> => {
  const v = luSolve(denseOf(sys.dim, sys.matvec), sys.rhs)
  return v === undefined ? E.left(`A is singular (${sys.dim}×${sys.dim})`) : E.right(v)
}

/**
 * Run the solver laws on a linear-system solver. `build` makes the system A v = b afresh at
 * each call, e.g. `() => linearSystemAt(problem, λ, w)`; stochastic solvers need a system with
 * minibatch operators. Convergence of deterministic solvers is measured against a dense LU
 * solve (or `opts.solution`).
 */
export const checkLinearSolver = (solver: LinearSolver, build: () => LinearSystem, opts: LinearSolverLawOptions): LawReport => {
  const sys = build()
  const ok = validateLinear('checkLinearSolver', solver, shapeOfSystem(sys), opts.steps ?? 20)
  if (E.isLeft(ok)) return refused(opts.seed, ok.left.message)
  const sub = subjectOf<LinearSystem, LinearState>(solver, sys, sys.dim, {
    iterate: (s) => s.v,
    inputs: () => sys,
    residualOf: (v) => linearResidual(sys, v),
    target: () => {
      if (opts.solution !== undefined) return opts.solution
      const v = denseLinearSolution(sys)
      return E.isRight(v) ? v.right : undefined
    },
  })
  const fresh = runProperty(
    'solver.freshSystem',
    fc.property(vecArb(sys.dim, opts.startScale ?? 1), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (v0, s) => {
      const n = opts.steps ?? 20
      const a = statesOf(unfold(solver, build(), v0, rng.seed(s)), n)
      const b = statesOf(unfold(solver, build(), v0, rng.seed(s)), n)
      const d = firstDifference(a, b)
      if (d !== undefined) violation(`two freshly built systems give different states: ${d}`)
    }),
    params(opts),
  )
  return report([passed('solver.check', opts.seed), ...solverLaws(sub, opts), fresh])
}
