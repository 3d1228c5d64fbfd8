/**
 * Bit-for-bit equality and snapshots, the two tools the replay and purity laws stand on.
 *
 * Equality is structural and exact: numbers compare with `Object.is` (so NaN equals NaN and
 * +0 differs from −0), typed arrays entry by entry with `Object.is`, arrays and plain objects
 * key by key. Nothing is compared up to a tolerance here: a replayed computation must give the
 * very same bits.
 */

/** True for typed arrays (Float64Array, Int32Array, …), false for DataView and the rest. */
const isTypedArray = (x: unknown): x is ArrayLike<number | bigint> & ArrayBufferView =>
  ArrayBuffer.isView(x) && !(x instanceof DataView)

const describeValue = (x: unknown): string => {
  if (isTypedArray(x)) return `${x.constructor.name}(${x.length})`
  if (Array.isArray(x)) return `Array(${x.length})`
  if (typeof x === 'number') return Object.is(x, -0) ? '-0' : String(x)
  if (typeof x === 'bigint') return `${x}n`
  if (typeof x === 'string') return JSON.stringify(x)
  return x === null ? 'null' : typeof x
}

/**
 * Where two values first differ bit for bit, as a path and the two entries
 * (e.g. "[3].w[1]: 0.5 vs 0.5000000000000001"), or undefined when they are identical.
 */
export const firstDifference = (a: unknown, b: unknown, path = ''): string | undefined => {
  if (Object.is(a, b)) return undefined
  const at = path === '' ? '(root)' : path
  if (typeof a === 'number' || typeof b === 'number' || typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return `${at}: ${describeValue(a)} vs ${describeValue(b)}`
  if (isTypedArray(a) || isTypedArray(b)) {
    if (!isTypedArray(a) || !isTypedArray(b) || a.constructor !== b.constructor || a.length !== b.length)
      return `${at}: ${describeValue(a)} vs ${describeValue(b)}`
    for (let i = 0; i < a.length; i++)
      if (!Object.is(a[i], b[i])) return `${at}[${i}]: ${describeValue(a[i])} vs ${describeValue(b[i])}`
    return undefined
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return `${at}: ${describeValue(a)} vs ${describeValue(b)}`
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`)
      if (d !== undefined) return d
    }
    return undefined
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined).sort()
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined).sort()
  if (ka.length !== kb.length || ka.some((k, i) => k !== kb[i])) return `${at}: keys {${ka.join(', ')}} vs {${kb.join(', ')}}`
  for (const k of ka) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`)
    if (d !== undefined) return d
  }
  return undefined
}

/** Bit-for-bit structural equality (NaN-safe: every entry is compared with `Object.is`). */
export const bitEqual = (a: unknown, b: unknown): boolean => firstDifference(a, b) === undefined

/** A deep copy of the typed arrays, arrays and plain objects in a value (other leaves are shared). */
export const deepCopy = <A>(x: A): A => {
  if (isTypedArray(x)) return (x as unknown as { slice(): unknown }).slice() as A
  if (Array.isArray(x)) return x.map(deepCopy) as A
  if (typeof x === 'object' && x !== null && Object.getPrototypeOf(x) === Object.prototype) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(x)) out[k] = deepCopy(v)
    return out as A
  }
  return x
}

/** One typed array found inside a value, with a copy of its contents at the time of the snapshot. */
interface Snapped {
  readonly path: string
  readonly ref: ArrayLike<number | bigint> & ArrayBufferView
  readonly copy: ArrayLike<number | bigint>
}

/** The contents of every typed array reachable from a value, to compare later. */
export interface Snapshot {
  readonly arrays: ReadonlyArray<Snapped>
}

/**
 * Record the contents of every typed array reachable from `root` through own enumerable
 * properties and array elements (class instances included, closures not: data a function only
 * captures cannot be seen, so pass such data explicitly). Cycles are followed once.
 */
export const snapshot = (root: unknown, maxDepth = 8): Snapshot => {
  const arrays: Snapped[] = []
  const seen = new Set<unknown>()
  const walk = (x: unknown, path: string, depth: number): void => {
    if (x === null || typeof x !== 'object' || seen.has(x) || depth > maxDepth) return
    seen.add(x)
    if (isTypedArray(x)) {
      arrays.push({ path, ref: x, copy: (x as unknown as { slice(): ArrayLike<number | bigint> }).slice() })
      return
    }
    if (x instanceof DataView || x instanceof ArrayBuffer) return
    if (Array.isArray(x)) {
      x.forEach((e, i) => walk(e, `${path}[${i}]`, depth + 1))
      return
    }
    for (const [k, v] of Object.entries(x)) walk(v, path === '' ? k : `${path}.${k}`, depth + 1)
  }
  walk(root, '', 0)
  return { arrays }
}

/** The paths (with the first changed entry) of the arrays whose contents changed since the snapshot. */
export const changedSince = (s: Snapshot): ReadonlyArray<string> => {
  const out: string[] = []
  for (const a of s.arrays) {
    const d = firstDifference(a.copy, a.ref)
    // d reads "(root)[i]: before vs after": name the array instead of (root).
    if (d !== undefined) out.push(`${a.path === '' ? '(argument)' : a.path}${d.slice('(root)'.length)}`)
  }
  return out
}
