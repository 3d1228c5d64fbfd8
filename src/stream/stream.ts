/**
 * Lazy, replayable streams. A `Stream<A>` is an Iterable whose every iteration starts afresh
 * from the same values: state lives in the values a stream yields (and in the closure of one
 * iteration), never in a closure shared between iterations. Iterating twice gives
 * bit-identical values. Transformers are curried data-last, to read left to right in `pipe`.
 */
export type Stream<A> = Iterable<A>

/** A stream from a function that makes a fresh iterator for each iteration. */
export const fromIterator = <A>(make: () => Iterator<A>): Stream<A> => ({ [Symbol.iterator]: make })

/** x₀, f(x₀), f(f(x₀)), … (infinite). */
export const iterate = <A>(x0: A, f: (a: A) => A): Stream<A> =>
  fromIterator(function* () {
    let x = x0
    for (;;) {
      yield x
      x = f(x)
    }
  })

/** Unfold a state: yields values until `next` returns undefined. */
export const unfold = <S, A>(s0: S, next: (s: S) => readonly [A, S] | undefined): Stream<A> =>
  fromIterator(function* () {
    let s = s0
    for (;;) {
      const r = next(s)
      if (r === undefined) return
      yield r[0]
      s = r[1]
    }
  })

/** a, a, a, … (infinite). */
export const repeat = <A>(a: A): Stream<A> =>
  fromIterator(function* () {
    for (;;) yield a
  })

/** 0, 1, 2, …, n−1 (or infinite when n is omitted). */
export const range = (n = Infinity): Stream<number> =>
  fromIterator(function* () {
    for (let i = 0; i < n; i++) yield i
  })

export const fromArray = <A>(xs: ReadonlyArray<A>): Stream<A> => fromIterator(() => xs[Symbol.iterator]())

export const map = <A, B>(f: (a: A, i: number) => B) => (s: Stream<A>): Stream<B> =>
  fromIterator(function* () {
    let i = 0
    for (const a of s) yield f(a, i++)
  })

/** The first n elements. */
export const take = (n: number) => <A>(s: Stream<A>): Stream<A> =>
  fromIterator(function* () {
    if (n <= 0) return
    let i = 0
    for (const a of s) {
      yield a
      if (++i >= n) return
    }
  })

/** All but the first n elements. */
export const drop = (n: number) => <A>(s: Stream<A>): Stream<A> =>
  fromIterator(function* () {
    let i = 0
    for (const a of s) if (i++ >= n) yield a
  })

/** Every n-th element, starting with the first: s₀, sₙ, s₂ₙ, … */
export const every = (n: number) => <A>(s: Stream<A>): Stream<A> => {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`every: n must be a positive integer, got ${n}`)
  return fromIterator(function* () {
    let i = 0
    for (const a of s) if (i++ % n === 0) yield a
  })
}

/** Running fold: init, f(init, s₀), f(f(init, s₀), s₁), … */
export const scan = <A, B>(f: (acc: B, a: A, i: number) => B, init: B) => (s: Stream<A>): Stream<B> =>
  fromIterator(function* () {
    let acc = init
    yield acc
    let i = 0
    for (const a of s) {
      acc = f(acc, a, i++)
      yield acc
    }
  })

/** Pairs, as long as the shorter stream. */
export const zip = <B>(other: Stream<B>) => <A>(s: Stream<A>): Stream<readonly [A, B]> =>
  fromIterator(function* () {
    const ib = other[Symbol.iterator]()
    for (const a of s) {
      const b = ib.next()
      if (b.done) return
      yield [a, b.value] as const
    }
  })

/** Elements up to and including the first that satisfies `pred`. */
export const takeUntil = <A>(pred: (a: A, i: number) => boolean) => (s: Stream<A>): Stream<A> =>
  fromIterator(function* () {
    let i = 0
    for (const a of s) {
      yield a
      if (pred(a, i++)) return
    }
  })

/** Elements while `pred` holds. */
export const takeWhile = <A>(pred: (a: A, i: number) => boolean) => (s: Stream<A>): Stream<A> =>
  fromIterator(function* () {
    let i = 0
    for (const a of s) {
      if (!pred(a, i++)) return
      yield a
    }
  })

/** Running averages of a stream of vectors: x̄ₙ = (1/n) Σᵢ<ₙ xᵢ (fresh arrays). */
export const average = (s: Stream<Float64Array>): Stream<Float64Array> =>
  fromIterator(function* () {
    let sum: Float64Array | undefined
    let n = 0
    for (const x of s) {
      if (sum === undefined) sum = new Float64Array(x.length)
      for (let j = 0; j < x.length; j++) sum[j] = sum[j]! + x[j]!
      n++
      const avg = new Float64Array(sum.length)
      for (let j = 0; j < sum.length; j++) avg[j] = sum[j]! / n
      yield avg
    }
  })

/** The last element of a finite stream, or undefined when it is empty. */
export const last = <A>(s: Stream<A>): A | undefined => {
  let out: A | undefined
  for (const a of s) out = a
  return out
}

/** The n-th element (0-based), or undefined. */
export const nth = (n: number) => <A>(s: Stream<A>): A | undefined => last(take(1)(drop(n)(s)))

export const toArray = <A>(s: Stream<A>): A[] => Array.from(s)

export const fold = <A, B>(f: (acc: B, a: A) => B, init: B) => (s: Stream<A>): B => {
  let acc = init
  for (const a of s) acc = f(acc, a)
  return acc
}
