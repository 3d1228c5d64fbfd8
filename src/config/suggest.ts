/**
 * "Did you mean" hints for misspelled names: the known name closest to what was typed, by the
 * optimal-string-alignment distance (Levenshtein with transpositions), ignoring case.
 */

/** Names longer than this are not compared (a hostile key of megabytes costs nothing). */
const MAX_LENGTH = 64

/** The optimal-string-alignment distance between a and b (edits: insert, delete, substitute, swap two neighbours). */
export const editDistance = (a: string, b: string): number => {
  const n = a.length
  const m = b.length
  let prev2 = new Array<number>(m + 1).fill(0)
  let prev = Array.from({ length: m + 1 }, (_, j) => j)
  let cur = new Array<number>(m + 1).fill(0)
  for (let i = 1; i <= n; i++) {
    cur[0] = i
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1)
      cur[j] = d
    }
    ;[prev2, prev, cur] = [prev, cur, prev2]
  }
  return prev[m]!
}

/**
 * The known name that `name` most likely misspells, or undefined when none is close: equal but
 * for case, within max(1, ⌊length/4⌋ + 1) edits (at most 3), or a known name that starts with
 * what was typed or that what was typed starts with (three characters at least: "tolerence"
 * suggests "tol"). A one-character name matches only by case. Ties go to the first candidate.
 */
export const closest = (name: string, candidates: ReadonlyArray<string>): string | undefined => {
  if (name.length === 0 || name.length > MAX_LENGTH) return undefined
  const lower = name.toLowerCase()
  const limit = name.length <= 1 ? 0 : Math.min(3, Math.floor(name.length / 4) + 1)
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    const cl = c.toLowerCase()
    if (cl === lower) return c
    const d = editDistance(lower, cl)
    if (d <= limit && d < bestD) ((best = c), (bestD = d))
  }
  if (best !== undefined) return best
  if (lower.length < 3) return undefined
  return candidates.find((c) => c.toLowerCase().startsWith(lower)) ?? candidates.find((c) => c.length >= 3 && lower.startsWith(c.toLowerCase()))
}

/** `; did you mean "x"?` when a close name exists, else the empty string. */
export const didYouMean = (name: string, candidates: ReadonlyArray<string>): string => {
  const c = closest(name, candidates)
  return c === undefined ? '' : `; did you mean "${c}"?`
}
