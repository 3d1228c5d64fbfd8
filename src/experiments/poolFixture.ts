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
