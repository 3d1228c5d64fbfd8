/**
 * The algebra every stream must obey (DESIGN "Laws"), as property factories over any
 * stream-producing function `make: X → Stream<A>` and an arbitrary of its input X:
 *
 *   take(n)∘take(m) = take(min(n, m))     map(f)∘map(g) = map(f∘g)
 *   drop(n)∘drop(m) = drop(n + m)         every(1) = id
 *   every(n) then take(k) selects the elements at indices 0, n, …, (k−1)n
 *   the first element of scan(f, init) is init, and scan's last element is the fold
 *   replay: iterating a stream twice gives bit-identical values; so does making it twice.
 *
 * Infinite streams are always cut by a take before they are compared. Elements are compared
 * with `bitEqual` unless an `eq` is given (Float64Array entries bit for bit, NaN-safe).
 */
import fc from 'fast-check'
import type { Schedule } from '../schedule/schedule.js'
import { drop, every, map, scan, take, toArray, type Stream } from '../stream/stream.js'
import { bitEqual, firstDifference } from './equal.js'
import { report, runProperty, violation, type LawReport, type LawResult, type RunParams } from './report.js'

/** Options of the stream checkers. */
export interface StreamLawOptions<A> {
  readonly seed: number
  readonly numRuns?: number
  /** Element equality (default: bit-for-bit `bitEqual`). */
  readonly eq?: (a: A, b: A) => boolean
  /** The largest n, m, k the laws draw for take/drop/every (default 12). */
  readonly maxTake?: number
  /** Replay single failing paths, by law name. */
  readonly paths?: Readonly<Record<string, string>>
  /** Laws to leave out, by name. */
  readonly skip?: ReadonlyArray<string>
}

const sameList = <A>(what: string, a: ReadonlyArray<A>, b: ReadonlyArray<A>, eq: (x: A, y: A) => boolean): void => {
  if (a.length !== b.length) violation(`${what}: lengths ${a.length} and ${b.length} differ`)
  for (let i = 0; i < a.length; i++)
    if (!eq(a[i]!, b[i]!)) violation(`${what}: element ${i} differs${eq === bitEqual ? ` (${firstDifference(a[i], b[i])})` : ''}`)
}

const sizes = (max: number): fc.Arbitrary<number> => fc.integer({ min: 0, max })

/** take(n)(take(m)(s)) = take(min(n, m))(s). */
export const takeTakeLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, sizes(max), sizes(max), (x, n, m) => {
    const s = make(x)
    sameList(`take(${n})∘take(${m}) vs take(${Math.min(n, m)})`, toArray(take(n)(take(m)(s))), toArray(take(Math.min(n, m))(s)), eq)
  })

/** map(f)(map(g)(s)) = map(f∘g)(s) on the first k elements, for random pure f and g (indices passed through). */
export const mapFusionLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, max = 12) =>
  fc.property(input, fc.func<[A, number], number>(fc.integer()), fc.func<[number, number], number>(fc.integer()), sizes(max), (x, g, f, k) => {
    const s = make(x)
    const lhs = toArray(take(k)(map(f)(map(g)(s))))
    const rhs = toArray(take(k)(map((a: A, i: number) => f(g(a, i), i))(s)))
    sameList(`map(f)∘map(g) vs map(f∘g) (first ${k})`, lhs, rhs, bitEqual)
  })

/** drop(n)(drop(m)(s)) = drop(n + m)(s) on the first k elements. */
export const dropDropLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, sizes(max), sizes(max), sizes(max), (x, n, m, k) => {
    const s = make(x)
    sameList(`drop(${n})∘drop(${m}) vs drop(${n + m}) (first ${k})`, toArray(take(k)(drop(n)(drop(m)(s)))), toArray(take(k)(drop(n + m)(s))), eq)
  })

/** every(1)(s) = s on the first k elements. */
export const everyOneLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, sizes(max), (x, k) => {
    const s = make(x)
    sameList(`every(1) vs id (first ${k})`, toArray(take(k)(every(1)(s))), toArray(take(k)(s)), eq)
  })

/** take(k)(every(n)(s)) = [s₀, sₙ, …, s₍ₖ₋₁₎ₙ] (as far as s goes). */
export const everyIndexLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, fc.integer({ min: 1, max: 5 }), sizes(max), (x, n, k) => {
    const s = make(x)
    const all = toArray(take(k * n)(s))
    const picked: A[] = []
    for (let j = 0; j < k && j * n < all.length; j++) picked.push(all[j * n]!)
    sameList(`take(${k})∘every(${n}) vs indices 0, ${n}, …`, toArray(take(k)(every(n)(s))), picked, eq)
  })

/**
 * scan(f, init): its first element is init itself, it has one element more than the stream,
 * and its last is the left fold of f over the stream (checked on the first k elements).
 */
export const scanInitLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, max = 12) =>
  fc.property(input, fc.func<[number, A, number], number>(fc.integer()), fc.integer(), sizes(max), (x, f, init, k) => {
    const s = take(k)(make(x))
    const sc = toArray(scan(f, init)(s))
    if (sc.length === 0 || !Object.is(sc[0], init)) violation(`scan's first element is ${String(sc[0])}, not init = ${init}`)
    const xs = toArray(s)
    if (sc.length !== xs.length + 1) violation(`scan has ${sc.length} elements for a stream of ${xs.length}`)
    let acc = init
    xs.forEach((a, i) => (acc = f(acc, a, i)))
    if (!Object.is(sc[sc.length - 1], acc)) violation(`scan's last element ${String(sc[sc.length - 1])} is not the fold ${acc}`)
  })

/** Iterating one stream twice gives bit-identical values (state lives in values, not in a shared closure). */
export const replayLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, sizes(max), (x, k) => {
    const s = make(x)
    const first = toArray(take(k)(s))
    const second = toArray(take(k)(s))
    sameList(`second iteration vs first (first ${k})`, second, first, eq)
  })

/** Making the stream twice from equal inputs gives bit-identical values. */
export const determinismLaw = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, eq: (a: A, b: A) => boolean = bitEqual, max = 12) =>
  fc.property(input, sizes(max), (x, k) => {
    sameList(`two streams made from equal inputs (first ${k})`, toArray(take(k)(make(x))), toArray(take(k)(make(x))), eq)
  })

const params = <A>(o: StreamLawOptions<A>): RunParams => ({
  seed: o.seed,
  numRuns: o.numRuns ?? fc.readConfigureGlobal().numRuns ?? 100,
  ...(o.paths ? { paths: o.paths } : {}),
  ...(o.skip ? { skip: o.skip } : {}),
})

/** Run every stream law on `make` over inputs drawn from `input`; collect the outcomes. */
export const checkStreamLaws = <X, A>(make: (x: X) => Stream<A>, input: fc.Arbitrary<X>, opts: StreamLawOptions<A>): LawReport => {
  const eq = opts.eq ?? bitEqual
  const max = opts.maxTake ?? 12
  const p = params(opts)
  const results: LawResult[] = [
    runProperty('stream.takeTake', takeTakeLaw(make, input, eq, max), p),
    runProperty('stream.mapFusion', mapFusionLaw(make, input, max), p),
    runProperty('stream.dropDrop', dropDropLaw(make, input, eq, max), p),
    runProperty('stream.everyOne', everyOneLaw(make, input, eq, max), p),
    runProperty('stream.everyIndex', everyIndexLaw(make, input, eq, max), p),
    runProperty('stream.scanInit', scanInitLaw(make, input, max), p),
    runProperty('stream.replay', replayLaw(make, input, eq, max), p),
    runProperty('stream.determinism', determinismLaw(make, input, eq, max), p),
  ]
  return report(results)
}

/**
 * The laws of a step-size schedule: iterating it yields exactly at(0), at(1), … (bit for bit),
 * every step is positive and finite, plus every stream law.
 */
export const checkScheduleLaws = <X>(make: (x: X) => Schedule, input: fc.Arbitrary<X>, opts: StreamLawOptions<number>): LawReport => {
  const p = params(opts)
  const max = Math.max(opts.maxTake ?? 12, 40)
  const agree = runProperty(
    'schedule.at',
    fc.property(input, sizes(max), (x, k) => {
      const s = make(x)
      toArray(take(k)(s)).forEach((eta, t) => {
        const at = s.at(t)
        if (!Object.is(eta, at)) violation(`the stream's element ${t} is ${eta}, at(${t}) is ${at}`)
      })
    }),
    p,
  )
  const positive = runProperty(
    'schedule.positive',
    fc.property(input, fc.nat({ max: 1_000_000 }), (x, t) => {
      const eta = make(x).at(t)
      if (!(Number.isFinite(eta) && eta > 0)) violation(`at(${t}) = ${eta} is not a positive finite step`)
    }),
    p,
  )
  return report([agree, positive, ...checkStreamLaws(make, input, opts).results])
}
