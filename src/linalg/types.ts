/** A dense vector. Functions that take `RVec` never write to it. */
export type Vec = Float64Array
/** A vector the callee promises not to mutate. */
export type RVec = Readonly<Float64Array>

/** A dense row-major matrix: entry (i, j) is `data[i * cols + j]`. */
export interface Matrix {
  readonly rows: number
  readonly cols: number
  readonly data: RVec
}

/** A linear operator given by its action, as linear solvers consume it (no matrix needed). */
export type LinOp = (v: RVec) => Vec

/** Throws a RangeError naming both shapes when two dimensions that must agree do not. */
export const assertDim = (what: string, expected: number, got: number): void => {
  if (expected !== got) throw new RangeError(`${what}: expected length ${expected}, got ${got}`)
}

export const matrix = (rows: number, cols: number, data: RVec): Matrix => {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0)
    throw new RangeError(`matrix: invalid shape ${rows}×${cols}`)
  if (data.length !== rows * cols)
    throw new RangeError(`matrix: ${rows}×${cols} needs ${rows * cols} entries, got ${data.length}`)
  return { rows, cols, data }
}
