/**
 * The laws every bilevel problem must obey, as fast-check properties a researcher can run on
 * their own problem with one call:
 *
 *   const report = checkProblem(myProblem, { seed: 1, lambda0: Float64Array.of(0.1) })
 *   if (!report.ok) console.log(formatFailures(report))
 *
 * They check what the library assumes and cannot verify by reading code: the hand-written
 * derivative products against central differences, each transpose against its product
 * (⟨Ju, v⟩ = ⟨u, Jᵀv⟩), the contraction constant (SID Assumption A(i)), purity and replay,
 * and for a stochastic problem that the minibatch map is unbiased (SID Assumption B(i)–(ii)).
 */
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import type { RVec, Vec } from '../linalg/types.js'
import { isStochastic, type Batch, type BilevelProblem, type StochasticBilevelProblem } from '../problem/bilevel.js'
import { changedSince, deepCopy, firstDifference, snapshot } from './equal.js'
import {
  EPS,
  MeanAccumulator,
  TINY,
  binomial,
  diffNorm,
  directional,
  fdMismatch,
  inner,
  isFiniteArray,
  norm2,
  perturbation,
  showVec,
  subsets,
  vecArb,
  type Tolerance,
} from './numeric.js'
import { assertReport, defaultNumRuns, mergeReports, once, report, runProperty, skipped, violation, type LawReport, type LawResult, type RunParams } from './report.js'

/** Options of `checkProblem`. Only `seed` and `lambda0` are required. */
export interface ProblemLawOptions {
  /** The fast-check seed of every law (a failing law reports it with the path that replays it). */
  readonly seed: number
  /** Runs per law (default: fast-check's global setting). The costly stochastic laws run a fifth as many. */
  readonly numRuns?: number
  /** A hyperparameter in the problem's domain; the laws run at perturbations of it. */
  readonly lambda0: RVec
  /** The λ to test at (default `perturbation(lambda0)`: each entry times exp(±0.1)). Values outside the domain are skipped. */
  readonly lambda?: fc.Arbitrary<Float64Array>
  /** Lower iterates w are drawn with entries in [−wScale, wScale] (default 1). */
  readonly wScale?: number
  /** Relative tolerance of the finite-difference laws (default 1e-6). */
  readonly rtol?: number
  /** Absolute tolerance of the finite-difference laws (default 1e-10), on top of the difference quotient's own rounding. */
  readonly atol?: number
  /** Relative tolerance of the adjointness, symmetry and unbiasedness laws (default 1e-12). */
  readonly adjointRtol?: number
  /** Batch size b of the unbiasedness law, which averages over every b-subset (default min(n, 2)); random batches have at most max(b, 4) indices. */
  readonly batchSize?: number
  /** Enumerate every b-subset only when there are at most this many (default 5000); else b = 1 is used, and beyond that the law is skipped. */
  readonly subsetCap?: number
  /** Data the problem must never change (its datasets, say): every typed array reachable from it is compared before and after. */
  readonly data?: unknown
  /** Replay single failing paths, by law name (from an earlier report). */
  readonly paths?: Readonly<Record<string, string>>
  /** Laws to leave out, by name. */
  readonly skip?: ReadonlyArray<string>
}

interface Ctx {
  readonly p: BilevelProblem
  readonly run: RunParams
  readonly lambda: fc.Arbitrary<Float64Array>
  readonly w: fc.Arbitrary<Float64Array>
  readonly u: fc.Arbitrary<Float64Array>
  readonly mu: fc.Arbitrary<Float64Array>
  readonly fd: Tolerance
  readonly adj: number
  readonly inDomain: (l: RVec) => boolean
  readonly data: unknown
}

const makeCtx = (p: BilevelProblem, o: ProblemLawOptions): Ctx => {
  const inDomain = (l: RVec): boolean => {
    try {
      return l.length === p.hyperDim && isFiniteArray(l) && E.isRight(p.checkLambda(l))
    } catch {
      return false
    }
  }
  return {
    p,
    run: { seed: o.seed, numRuns: o.numRuns ?? defaultNumRuns(), ...(o.paths ? { paths: o.paths } : {}), ...(o.skip ? { skip: o.skip } : {}) },
    lambda: o.lambda ?? perturbation(o.lambda0),
    w: vecArb(p.dim, o.wScale ?? 1),
    u: vecArb(p.dim),
    mu: vecArb(p.hyperDim),
    fd: { rtol: o.rtol ?? 1e-6, atol: o.atol ?? 1e-10 },
    adj: o.adjointRtol ?? 1e-12,
    inDomain,
    data: o.data,
  }
}

/** Check that an output is a finite Float64Array of length n; return it. */
const out = (what: string, x: unknown, n: number): Vec => {
  if (!(x instanceof Float64Array)) return violation(`${what} returned ${x === null ? 'null' : typeof x}, not a Float64Array`)
  if (x.length !== n) return violation(`${what} returned length ${x.length}, expected ${n}`)
  if (!isFiniteArray(x)) return violation(`${what} returned a non-finite value: ${showVec(x)}`)
  return x
}
const scalar = (what: string, x: unknown): number => {
  if (typeof x !== 'number' || !Number.isFinite(x)) return violation(`${what} returned ${String(x)}, not a finite number`)
  return x
}

/** Skip inputs outside the domain (fast-check counts them as skipped runs). */
const pre = (c: Ctx, lambda: RVec): void => {
  fc.pre(c.inDomain(lambda))
}

/**
 * A law over λ and the further draws of `arbs`: fast-check draws (λ, …arbs) with the checker's
 * seed, skips λ outside the domain, and runs `check`, which throws a violation when the law fails.
 */
const law = <Ts extends unknown[]>(
  c: Ctx, name: string, arbs: { readonly [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, check: (lambda: Float64Array, ...xs: Ts) => void, numRuns?: number,
): LawResult => {
  const predicate = (lambda: Float64Array, ...xs: Ts): void => {
    pre(c, lambda)
    check(lambda, ...xs)
  }
  const property = (fc.property as unknown as (...args: unknown[]) => fc.IProperty<unknown>)(c.lambda, ...arbs, predicate)
  return runProperty(name, property, c.run, numRuns)
}

/** A law whose `gap` returns what is wrong (undefined when it holds); the violation reads `what: gap`. */
const gapLaw = <Ts extends unknown[]>(
  c: Ctx, name: string, what: string, arbs: { readonly [K in keyof Ts]: fc.Arbitrary<Ts[K]> }, gap: (lambda: Float64Array, ...xs: Ts) => string | undefined,
): LawResult =>
  law(c, name, arbs, (lambda, ...xs) => {
    const m = gap(lambda, ...xs)
    if (m !== undefined) violation(`${what}: ${m}`)
  })

const domainLaw = (c: Ctx, lambda0: RVec): LawResult =>
  once('domain', c.run.seed, () => {
    const { p } = c
    if (!(Number.isInteger(p.dim) && p.dim > 0)) violation(`dim must be a positive integer, got ${p.dim}`)
    if (!(Number.isInteger(p.hyperDim) && p.hyperDim > 0)) violation(`hyperDim must be a positive integer, got ${p.hyperDim}`)
    if (lambda0.length !== p.hyperDim) violation(`lambda0 has length ${lambda0.length}, hyperDim is ${p.hyperDim}`)
    const r = p.checkLambda(lambda0)
    if (E.isLeft(r)) violation(`lambda0 = ${showVec(lambda0)} is outside the domain: ${r.left.message}`)
    const q = p.contraction(lambda0)
    if (!(q >= 0 && q < 1)) violation(`contraction(lambda0) = ${q}, expected q in [0, 1) (SID Assumption A(i))`)
  })

// ---------------------------------------------------------------- finite differences

const fdJvpW = (c: Ctx): LawResult =>
  gapLaw(c, 'fd.jvpW', '∂₁Φ(w, λ)u', [c.w, c.u], (lambda, w, u) =>
    fdMismatch(out('jvpW', c.p.jvpW(w, lambda, u), c.p.dim), directional((x) => c.p.phi(x, lambda), w, u), c.fd))

const fdJvpLambda = (c: Ctx): LawResult =>
  gapLaw(c, 'fd.jvpLambda', '∂₂Φ(w, λ)μ', [c.w, c.mu], (lambda, w, mu) =>
    fdMismatch(out('jvpLambda', c.p.jvpLambda(w, lambda, mu), c.p.dim), directional((l) => c.p.phi(w, l), lambda, mu, c.inDomain), c.fd))

/** ⟨∇F, u⟩ against central differences of the scalar F along u. */
const scalarFd = (g: RVec, u: RVec, f: (x: RVec) => number, x: RVec, tol: Tolerance, inDomain?: (x: RVec) => boolean): string | undefined =>
  fdMismatch(Float64Array.of(inner(g, u)), directional((y) => Float64Array.of(f(y)), x, u, inDomain), tol, 1e-3 * norm2(g) * norm2(u))

const fdGradUpperW = (c: Ctx): LawResult =>
  gapLaw(c, 'fd.gradUpperW', '⟨∇₁E(w, λ), u⟩', [c.w, c.u], (lambda, w, u) =>
    scalarFd(out('gradUpperW', c.p.gradUpperW(w, lambda), c.p.dim), u, (x) => c.p.upper(x, lambda), w, c.fd))

const fdGradUpperLambda = (c: Ctx): LawResult =>
  gapLaw(c, 'fd.gradUpperLambda', '⟨∇₂E(w, λ), μ⟩', [c.w, c.mu], (lambda, w, mu) =>
    scalarFd(out('gradUpperLambda', c.p.gradUpperLambda(w, lambda), c.p.hyperDim), mu, (l) => c.p.upper(w, l), lambda, c.fd, c.inDomain))

// ---------------------------------------------------------------- adjointness and symmetry

/**
 * |⟨Ju, v⟩ − ⟨u, Kv⟩| ≤ rtol·(‖Ju‖‖v‖ + ‖u‖‖Kv‖ + extra): the scale bounds both inner products,
 * so cancellation in them does not make the test stricter than the arithmetic allows. `extra`
 * is ‖u‖‖v‖ for maps of the form I − (…), whose rounding is relative to ‖u‖.
 */
const adjointGap = (ju: RVec, v: RVec, u: RVec, kv: RVec, rtol: number, extra: number): string | undefined => {
  const a = inner(ju, v)
  const b = inner(u, kv)
  const scale = norm2(ju) * norm2(v) + norm2(u) * norm2(kv) + extra
  const gap = Math.abs(a - b)
  return gap <= rtol * scale + TINY ? undefined : `${a} vs ${b}: gap ${gap.toExponential(3)} > ${rtol}·${scale.toExponential(3)}`
}

const adjointW = (c: Ctx): LawResult =>
  gapLaw(c, 'adjoint.W', '⟨∂₁Φ u, v⟩ ≠ ⟨u, ∂₁Φᵀ v⟩', [c.w, c.u, c.u], (lambda, w, u, v) =>
    adjointGap(out('jvpW', c.p.jvpW(w, lambda, u), c.p.dim), v, u, out('vjpW', c.p.vjpW(w, lambda, v), c.p.dim), c.adj, norm2(u) * norm2(v)))

const adjointLambda = (c: Ctx): LawResult =>
  gapLaw(c, 'adjoint.Lambda', '⟨∂₂Φ μ, v⟩ ≠ ⟨μ, ∂₂Φᵀ v⟩', [c.w, c.mu, c.u], (lambda, w, mu, v) =>
    adjointGap(out('jvpLambda', c.p.jvpLambda(w, lambda, mu), c.p.dim), v, mu, out('vjpLambda', c.p.vjpLambda(w, lambda, v), c.p.hyperDim), c.adj, 0))

const symmetry = (c: Ctx): LawResult =>
  !c.p.symmetric
    ? skipped('symmetry', c.run.seed, 'the problem does not declare ∂₁Φ symmetric')
    : gapLaw(c, 'symmetry', 'symmetric is declared but ⟨∂₁Φ u, v⟩ ≠ ⟨u, ∂₁Φ v⟩', [c.w, c.u, c.u], (lambda, w, u, v) =>
        adjointGap(out('jvpW', c.p.jvpW(w, lambda, u), c.p.dim), v, u, out('jvpW', c.p.jvpW(w, lambda, v), c.p.dim), c.adj, norm2(u) * norm2(v)))

// ---------------------------------------------------------------- contraction

/**
 * SID Assumption A(i): q = contraction(λ) ∈ [0, 1), and
 *   ‖Φ(w₁, λ) − Φ(w₂, λ)‖ ≤ q‖w₁ − w₂‖(1 + 1e-12) + 1e3·ε·(‖Φ(w₁)‖ + ‖Φ(w₂)‖ + ‖w₁‖ + ‖w₂‖)
 * (the last term is the rounding of Φ itself, which matters only when w₁ ≈ w₂). Also
 * ‖∂₁Φ(w₁, λ)‖ ≤ q: every ratio ‖∂₁Φ x‖/‖x‖ met along a power iteration on ∂₁Φᵀ∂₁Φ started
 * at u is a lower bound of ‖∂₁Φ‖, so none may exceed q(1 + 1e-9) + 1e-12.
 */
const contraction = (c: Ctx): LawResult =>
  law(c, 'contraction', [c.w, c.w, c.u], (lambda, w1, w2, u) => {
      const { p } = c
      const q = scalar('contraction', p.contraction(lambda))
      if (!(q >= 0 && q < 1)) violation(`contraction(λ) = ${q}, not in [0, 1) (SID Assumption A(i))`)
      const f1 = out('phi', p.phi(w1, lambda), p.dim)
      const f2 = out('phi', p.phi(w2, lambda), p.dim)
      const lhs = diffNorm(f1, f2)
      const rhs = q * diffNorm(w1, w2) * (1 + 1e-12) + 1e3 * EPS * (norm2(f1) + norm2(f2) + norm2(w1) + norm2(w2))
      if (!(lhs <= rhs)) violation(`‖Φ(w₁) − Φ(w₂)‖ = ${lhs} > q‖w₁ − w₂‖ = ${q * diffNorm(w1, w2)} with q = ${q}`)
      let x: Vec = Float64Array.from(u)
      if (norm2(x) === 0) x[0] = 1
      const iters = Math.min(60, 2 * p.dim + 10)
      for (let k = 0; k < iters; k++) {
        const nx = norm2(x)
        if (!(nx > 0)) break
        for (let i = 0; i < x.length; i++) x[i] = x[i]! / nx
        const y = out('jvpW', p.jvpW(w1, lambda, x), p.dim)
        const ratio = norm2(y)
        if (!(ratio <= q * (1 + 1e-9) + 1e-12)) violation(`‖∂₁Φ(w, λ)‖ ≥ ${ratio} > q = ${q} (power iteration, step ${k})`)
        x = out('vjpW', p.vjpW(w1, lambda, y), p.dim)
      }
    })

// ---------------------------------------------------------------- purity and replay

interface Call {
  readonly name: string
  readonly args: ReadonlyArray<unknown>
  readonly invoke: (...args: never[]) => unknown
  /** False for checkLambda, which returns its argument (in an Either) by contract. */
  readonly fresh: boolean
}

/** Every function of the problem with arguments drawn for one run. */
const callsOf = (p: BilevelProblem, lambda: Vec, w: Vec, u: Vec, v: Vec, mu: Vec, batch: Batch): ReadonlyArray<Call> => {
  const at = <F extends (...a: never[]) => unknown>(name: string, f: F, ...args: unknown[]): Call => ({
    name,
    args,
    invoke: f.bind(p) as (...a: never[]) => unknown,
    fresh: name !== 'checkLambda',
  })
  const calls: Call[] = [
    at('checkLambda', p.checkLambda, lambda),
    at('contraction', p.contraction, lambda),
    at('phi', p.phi, w, lambda),
    at('jvpW', p.jvpW, w, lambda, u),
    at('vjpW', p.vjpW, w, lambda, v),
    at('jvpLambda', p.jvpLambda, w, lambda, mu),
    at('vjpLambda', p.vjpLambda, w, lambda, v),
    at('upper', p.upper, w, lambda),
    at('gradUpperW', p.gradUpperW, w, lambda),
    at('gradUpperLambda', p.gradUpperLambda, w, lambda),
  ]
  if (isStochastic(p))
    calls.push(
      at('phiHat', p.phiHat, w, lambda, batch),
      at('jvpWHat', p.jvpWHat, w, lambda, batch, u),
      at('vjpWHat', p.vjpWHat, w, lambda, batch, v),
      at('vjpLambdaHat', p.vjpLambdaHat, w, lambda, batch, v),
    )
  return calls
}

const batchArb = (p: BilevelProblem, maxSize: number): fc.Arbitrary<Int32Array> =>
  isStochastic(p)
    ? fc
        .array(fc.integer({ min: 0, max: p.nSamples - 1 }), { minLength: 1, maxLength: Math.max(1, Math.min(maxSize, p.nSamples)) })
        .map((a) => Int32Array.from(a))
    : fc.constant(Int32Array.of(0))

const buffersOf = (args: ReadonlyArray<unknown>): Set<ArrayBufferLike> => {
  const s = new Set<ArrayBufferLike>()
  for (const a of args) if (ArrayBuffer.isView(a)) s.add(a.buffer)
  return s
}
const resultBuffer = (r: unknown): ArrayBufferLike | undefined => (ArrayBuffer.isView(r) ? r.buffer : undefined)

/**
 * No function writes to its arguments (each is compared bit for bit with a copy taken before the
 * call), nor to `data`; every vector result is freshly allocated: it shares no buffer with an
 * argument, and two calls never return the same buffer (a reused workspace would be overwritten
 * by the next call).
 */
const purity = (c: Ctx, maxBatch: number): LawResult =>
  law(c, 'purity', [c.w, c.u, c.u, c.mu, batchArb(c.p, maxBatch)], (lambda, w, u, v, mu, batch) => {
      const data = c.data === undefined ? undefined : snapshot(c.data)
      for (const call of callsOf(c.p, lambda, w, u, v, mu, batch)) {
        const before = call.args.map(deepCopy)
        const r1 = call.invoke(...(call.args as never[]))
        const r2 = call.invoke(...(call.args as never[]))
        call.args.forEach((a, i) => {
          const d = firstDifference(before[i], a)
          if (d !== undefined) violation(`${call.name} changed its argument ${i}: ${d}`)
        })
        const b1 = call.fresh ? resultBuffer(r1) : undefined
        const b2 = call.fresh ? resultBuffer(r2) : undefined
        if (b1 !== undefined && buffersOf(call.args).has(b1)) violation(`${call.name} returned a view of one of its arguments, not a fresh array`)
        if (b1 !== undefined && b1 === b2) violation(`${call.name} returned the same buffer twice: results must be freshly allocated`)
        if (data !== undefined) {
          const changed = changedSince(data)
          if (changed.length > 0) violation(`${call.name} changed the problem's data: ${changed.join('; ')}`)
        }
      }
    })

/** Calling each function twice on equal (separately allocated) inputs gives bit-identical outputs. */
const replay = (c: Ctx, maxBatch: number): LawResult =>
  law(c, 'replay', [c.w, c.u, c.u, c.mu, batchArb(c.p, maxBatch)], (lambda, w, u, v, mu, batch) => {
      for (const call of callsOf(c.p, lambda, w, u, v, mu, batch)) {
        const r1 = call.invoke(...(call.args.map(deepCopy) as never[]))
        const r2 = call.invoke(...(call.args.map(deepCopy) as never[]))
        const d = firstDifference(r1, r2)
        if (d !== undefined) violation(`${call.name} is not deterministic: two calls on equal inputs differ at ${d}`)
      }
    })

// ---------------------------------------------------------------- stochastic laws (SID Assumption B)

interface SCtx extends Ctx {
  readonly p: StochasticBilevelProblem
  readonly b: number
  readonly maxBatch: number
  readonly cap: number
}

/** Compare a mean with its deterministic counterpart: ‖mean − det‖ ≤ rtol·(max‖termᵢ‖ + ‖det‖). */
const meanGap = (what: string, acc: MeanAccumulator, det: RVec, rtol: number): void => {
  const mean = acc.mean()
  const gap = diffNorm(mean, det)
  const scale = acc.maxNorm + norm2(det)
  if (!(gap <= rtol * scale + TINY)) violation(`${what}: the average over batches ${showVec(mean)} differs from the full map ${showVec(det)} by ${gap.toExponential(3)} > ${rtol}·${scale.toExponential(3)}`)
}

type HatMap = (p: StochasticBilevelProblem, w: RVec, lambda: RVec, u: RVec, v: RVec, batch: Batch) => Vec
/** Φ̂ and its products ∂₁Φ̂u, ∂₁Φ̂ᵀv, ∂₂Φ̂ᵀv on a batch, each checked by `out`. */
const HAT_MAPS: ReadonlyArray<HatMap> = [
  (p, w, lambda, _u, _v, batch) => out('phiHat', p.phiHat(w, lambda, batch), p.dim),
  (p, w, lambda, u, _v, batch) => out('jvpWHat', p.jvpWHat(w, lambda, batch, u), p.dim),
  (p, w, lambda, _u, v, batch) => out('vjpWHat', p.vjpWHat(w, lambda, batch, v), p.dim),
  (p, w, lambda, _u, v, batch) => out('vjpLambdaHat', p.vjpLambdaHat(w, lambda, batch, v), p.hyperDim),
]

/**
 * Average `HAT_MAPS` over the batches and compare each of the four means, in order, with its
 * reference (`meanGap`): a label and the map it must equal, evaluated just before the comparison.
 */
const expectMeans = (c: SCtx, w: RVec, lambda: RVec, u: RVec, v: RVec, batches: Iterable<Batch>, refs: ReadonlyArray<readonly [string, () => Vec]>): void => {
  const { p } = c
  const acc = [new MeanAccumulator(p.dim), new MeanAccumulator(p.dim), new MeanAccumulator(p.dim), new MeanAccumulator(p.hyperDim)]
  for (const batch of batches) HAT_MAPS.forEach((f, k) => acc[k]!.add(f(p, w, lambda, u, v, batch)))
  refs.forEach(([what, ref], k) => meanGap(what, acc[k]!, ref(), c.adj))
}

/**
 * SID Assumption B(i)–(ii) on a finite sum: averaged over ALL b-subsets of {0, …, n−1}
 * (each drawn with equal probability by a uniform minibatch), Φ̂ and its products with
 * ∂₁Φ̂, ∂₁Φ̂ᵀ and ∂₂Φ̂ᵀ equal Φ and the deterministic products, to rounding.
 */
const unbiased = (c: SCtx): LawResult => {
  const n = c.p.nSamples
  let b = c.b
  if (binomial(n, b) > c.cap) b = 1
  if (binomial(n, b) > c.cap) return skipped('stochastic.unbiased', c.run.seed, `n = ${n} samples: more than ${c.cap} batches to enumerate`)
  const runs = Math.max(1, Math.ceil(c.run.numRuns / 5))
  const { p } = c
  return law(c, 'stochastic.unbiased', [c.w, c.u, c.u], (lambda, w, u, v) =>
    expectMeans(c, w, lambda, u, v, subsets(n, b), [
      [`E[Φ̂] = Φ (b = ${b})`, () => out('phi', p.phi(w, lambda), p.dim)],
      [`E[∂₁Φ̂ u] = ∂₁Φ u (b = ${b})`, () => out('jvpW', p.jvpW(w, lambda, u), p.dim)],
      [`E[∂₁Φ̂ᵀ v] = ∂₁Φᵀ v (b = ${b})`, () => out('vjpW', p.vjpW(w, lambda, v), p.dim)],
      [`E[∂₂Φ̂ᵀ v] = ∂₂Φᵀ v (b = ${b})`, () => out('vjpLambda', p.vjpLambda(w, lambda, v), p.hyperDim)],
    ]), runs)
}

/**
 * The library's batch convention (src/problem/bilevel.ts): the map on a batch B is the average
 * of the one-sample maps over B, repeated indices counted as often as they occur (batches
 * drawn with replacement), for Φ̂ and each product.
 */
const batchAverage = (c: SCtx): LawResult =>
  law(c, 'stochastic.batchAverage', [c.w, c.u, c.u, batchArb(c.p, c.maxBatch)], (lambda, w, u, v, batch) => {
    const tag = `batch [${Array.from(batch).join(', ')}]`
    const whole = (k: number) => (): Vec => HAT_MAPS[k]!(c.p, w, lambda, u, v, batch)
    expectMeans(c, w, lambda, u, v, Array.from(batch, (i) => Int32Array.of(i)), [
      [`Φ̂(${tag}) = mean of one-sample maps`, whole(0)],
      [`∂₁Φ̂(${tag})u = mean`, whole(1)],
      [`∂₁Φ̂(${tag})ᵀv = mean`, whole(2)],
      [`∂₂Φ̂(${tag})ᵀv = mean`, whole(3)],
    ])
  })

const fdJvpWHat = (c: SCtx): LawResult =>
  gapLaw(c, 'stochastic.fd.jvpWHat', '∂₁Φ̂(w, λ, B)u', [c.w, c.u, batchArb(c.p, c.maxBatch)], (lambda, w, u, batch) =>
    fdMismatch(out('jvpWHat', c.p.jvpWHat(w, lambda, batch, u), c.p.dim), directional((x) => c.p.phiHat(x, lambda, batch), w, u), c.fd))

/** ∂₂Φ̂ᵀ has no forward product to compare with: check ⟨μ, ∂₂Φ̂ᵀv⟩ against differences of ⟨Φ̂(w, ·, B), v⟩ along μ. */
const fdVjpLambdaHat = (c: SCtx): LawResult =>
  gapLaw(c, 'stochastic.fd.vjpLambdaHat', '⟨μ, ∂₂Φ̂(w, λ, B)ᵀv⟩', [c.w, c.mu, c.u, batchArb(c.p, c.maxBatch)], (lambda, w, mu, v, batch) =>
    scalarFd(out('vjpLambdaHat', c.p.vjpLambdaHat(w, lambda, batch, v), c.p.hyperDim), mu, (l) => inner(c.p.phiHat(w, l, batch), v), lambda, c.fd, c.inDomain))

const adjointWHat = (c: SCtx): LawResult =>
  gapLaw(c, 'stochastic.adjoint.WHat', '⟨∂₁Φ̂ u, v⟩ ≠ ⟨u, ∂₁Φ̂ᵀ v⟩', [c.w, c.u, c.u, batchArb(c.p, c.maxBatch)], (lambda, w, u, v, batch) =>
    adjointGap(out('jvpWHat', c.p.jvpWHat(w, lambda, batch, u), c.p.dim), v, u, out('vjpWHat', c.p.vjpWHat(w, lambda, batch, v), c.p.dim), c.adj, norm2(u) * norm2(v)))

/** SID eq. (15): when Φ̂ = Φ̂₁(w, ζ) + Φ̂₂(w, λ), ∂₂Φ̂ᵀv does not depend on the batch (m₂ = 0). */
const separable = (c: SCtx): LawResult =>
  !c.p.separable
    ? skipped('stochastic.separable', c.run.seed, 'the problem does not declare itself separable')
    : law(c, 'stochastic.separable', [c.w, c.u, batchArb(c.p, c.maxBatch), batchArb(c.p, c.maxBatch)], (lambda, w, v, b1, b2) => {
          const g1 = out('vjpLambdaHat', c.p.vjpLambdaHat(w, lambda, b1, v), c.p.hyperDim)
          const g2 = out('vjpLambdaHat', c.p.vjpLambdaHat(w, lambda, b2, v), c.p.hyperDim)
          const gap = diffNorm(g1, g2)
          if (!(gap <= c.adj * (norm2(g1) + norm2(g2)) + TINY))
            violation(`separable is declared but ∂₂Φ̂ᵀv differs between batches: ${showVec(g1)} vs ${showVec(g2)}`)
        })

const stochasticCtx = (p: StochasticBilevelProblem, o: ProblemLawOptions): SCtx => {
  const b = Math.max(1, Math.min(p.nSamples, o.batchSize ?? 2))
  return { ...makeCtx(p, o), p, b, maxBatch: Math.max(b, 4), cap: o.subsetCap ?? 5000 }
}

/**
 * The laws of the stochastic map of a finite-sum problem (SID eq. 2, Assumption B): unbiasedness
 * over all b-subsets, the batch-average convention, finite differences and adjointness of the
 * minibatch products, and batch-independence of ∂₂Φ̂ᵀ when `separable` (eq. 15).
 * (`checkProblem` runs these too, together with purity and replay of the minibatch functions.)
 */
export const checkStochasticProblem = (problem: StochasticBilevelProblem, opts: ProblemLawOptions): LawReport => {
  const c = stochasticCtx(problem, opts)
  return report([unbiased(c), batchAverage(c), fdJvpWHat(c), fdVjpLambdaHat(c), adjointWHat(c), separable(c)])
}

/**
 * Run every law a bilevel problem must obey (see the module comment), each as a fast-check
 * property with the given seed, and collect the outcomes: which law failed, why, and its shrunk
 * counterexample with the `{ seed, path }` that replays it. A StochasticBilevelProblem is also
 * checked with `checkStochasticProblem`.
 */
export const checkProblem = (problem: BilevelProblem, opts: ProblemLawOptions): LawReport => {
  const c = makeCtx(problem, opts)
  const domain = domainLaw(c, opts.lambda0)
  if (!domain.ok) return report([domain])
  const maxBatch = isStochastic(problem) ? stochasticCtx(problem, opts).maxBatch : 1
  const base = report([
    domain,
    fdJvpW(c),
    fdJvpLambda(c),
    fdGradUpperW(c),
    fdGradUpperLambda(c),
    adjointW(c),
    adjointLambda(c),
    symmetry(c),
    contraction(c),
    purity(c, maxBatch),
    replay(c, maxBatch),
  ])
  return isStochastic(problem) ? mergeReports(base, checkStochasticProblem(problem, opts)) : base
}

/** `checkProblem`, throwing an Error that lists every failed law (for use inside a test runner). */
export const checkProblemOrThrow = (problem: BilevelProblem, opts: ProblemLawOptions): LawReport => {
  const r = checkProblem(problem, opts)
  assertReport(r, `checkProblem(${problem.name})`)
  return r
}

