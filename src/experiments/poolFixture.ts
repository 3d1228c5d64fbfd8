/** Tasks used by the pool's own tests: deterministic functions of their input. */
export const square = (x: number): number => x * x

/** Burn some CPU deterministically (a sum of a long series), returning the thread-independent value. */
export const spin = (n: number): number => {
  let s = 0
  for (let i = 1; i <= n; i++) s += 1 / (i * i)
  return s
}

export const fail = (msg: string): never => {
  throw new Error(msg)
}

/** A task that reads its group's split (posted or loaded) and returns a digest of it. */
export const splitDigest = async (input: {
  readonly seed: number
  readonly nTrain: number
  readonly nVal: number
  readonly sharedSplit?: import('./common.js').SharedSplit
}): Promise<{ ok: true; value: { sum: number; shared: boolean; id: number | null } } | { ok: false; error: unknown }> => {
  const { splitOf } = await import('./common.js')
  const d = splitOf('seeded', input.seed, input.nTrain, input.nVal, input.sharedSplit)
  if (d._tag === 'Left') return { ok: false, error: d.left }
  let sum = 0
  for (const part of [d.right.train, d.right.validation]) {
    const X = part.X.data
    for (let i = 0; i < X.length; i++) sum += X[i]! * ((i % 7) + 1)
    part.y.forEach((v, i) => (sum += v * (i + 1)))
  }
  return { ok: true, value: { sum, shared: d.right.train.X.data.buffer instanceof SharedArrayBuffer, id: input.sharedSplit?.id ?? null } }
}
