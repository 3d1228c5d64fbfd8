/**
 * The `cars` table of the npm package `vega-datasets` (v3: `data/cars.json`, 406 cars of the
 * 1970s and early 1980s, the UCI "Auto MPG" data): a small real regression set that installs
 * with the package, for kernel ridge regression (Grazzi et al. 2020 §5).
 *
 * Target: miles per gallon. Features: cylinders, displacement, horsepower, weight,
 * acceleration, model year, and the origin as two indicators (Europe, Japan; USA is the
 * base). The 14 rows with a missing target or horsepower are dropped, leaving 392. Every row
 * is decoded by io-ts: a row that does not have these fields with these types is a 'data' error
 * naming the row and the field.
 */
import * as E from 'fp-ts/lib/Either.js'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import * as t from 'io-ts'
import { hgError, type HypergradError } from '../errors.js'
import { matrix, type Matrix } from '../linalg/types.js'
import { permutation, seed as rngSeed } from '../random/rng.js'

/** The feature names, in column order. */
export const CARS_FEATURES = ['cylinders', 'displacement', 'horsepower', 'weight', 'acceleration', 'year', 'europe', 'japan'] as const

/** The rows of the table with a target and every feature. */
export const CARS_ROWS = 392

const NumberOrNull = t.union([t.number, t.null])
const Row = t.type({
  Miles_per_Gallon: NumberOrNull,
  Cylinders: t.number,
  Displacement: t.number,
  Horsepower: NumberOrNull,
  Weight_in_lbs: t.number,
  Acceleration: t.number,
  Year: t.string,
  Origin: t.keyof({ USA: null, Europe: null, Japan: null }),
})

const dataError = (msg: string): HypergradError => hgError('data', `cars: ${msg}`)

const tableFile = (): E.Either<HypergradError, string> => {
  try {
    // The package exports its build only; the data folder sits beside it.
    const entry = createRequire(import.meta.url).resolve('vega-datasets')
    return E.right(join(dirname(dirname(entry)), 'data', 'cars.json'))
  } catch (e) {
    return E.left(dataError(`the npm package 'vega-datasets' is not installed (${(e as Error).message})`))
  }
}

/** A dense regression set: X (n × p) and real targets y. */
export interface Regression {
  readonly X: Matrix
  readonly y: Float64Array
}

/** The table as X (392 × 8, unscaled) and y (miles per gallon), in the package's row order. */
export const readCars = (): E.Either<HypergradError, Regression> => {
  const file = tableFile()
  if (E.isLeft(file)) return file
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file.right, 'utf8'))
  } catch (e) {
    return E.left(dataError(`cannot read ${file.right} (${(e as Error).message})`))
  }
  if (!Array.isArray(raw)) return E.left(dataError(`${file.right}: expected an array of rows`))
  const p = CARS_FEATURES.length
  const X: number[] = []
  const y: number[] = []
  for (let i = 0; i < raw.length; i++) {
    const r = Row.decode(raw[i])
    if (E.isLeft(r)) {
      const field = r.left[0]?.context.map((c) => c.key).filter((k) => k !== '').join('.') ?? ''
      return E.left(dataError(`row ${i}: field ${field === '' ? '(the row)' : field} is missing or of the wrong type`))
    }
    const row = r.right
    if (row.Miles_per_Gallon === null || row.Horsepower === null) continue
    const year = Number.parseInt(row.Year.slice(0, 4), 10)
    const values = [row.Cylinders, row.Displacement, row.Horsepower, row.Weight_in_lbs, row.Acceleration, year, row.Origin === 'Europe' ? 1 : 0, row.Origin === 'Japan' ? 1 : 0]
    if (!values.every(Number.isFinite) || !Number.isFinite(row.Miles_per_Gallon)) return E.left(dataError(`row ${i}: a value is not a finite number`))
    X.push(...values)
    y.push(row.Miles_per_Gallon)
  }
  return E.right({ X: matrix(y.length, p, Float64Array.from(X)), y: Float64Array.from(y) })
}

/** A seeded split of the cars table, standardized with the training part's statistics. */
export interface CarsSplit {
  readonly train: Regression
  readonly validation: Regression
}

/** Each column of X shifted and scaled by the given means and standard deviations (fresh). */
const scaled = (X: Matrix, mean: Float64Array, sd: Float64Array): Matrix =>
  matrix(X.rows, X.cols, X.data.map((x, k) => (x - mean[k % X.cols]!) / sd[k % X.cols]!))

/**
 * nTrain and nVal rows of the 392 (a permutation drawn from `seed`), features and target
 * standardized to mean 0 and standard deviation 1 on the training rows (the validation rows
 * with the same shift and scale). 'config' error when nTrain < 2, nVal < 1 or nTrain + nVal > 392.
 */
export const carsRegression = (opts: { readonly nTrain: number; readonly nVal: number; readonly seed: number }): E.Either<HypergradError, CarsSplit> => {
  const { nTrain, nVal } = opts
  if (!(Number.isInteger(nTrain) && nTrain >= 2 && Number.isInteger(nVal) && nVal >= 1 && nTrain + nVal <= CARS_ROWS))
    return E.left(hgError('config', `carsRegression: need integers nTrain ≥ 2, nVal ≥ 1 with nTrain + nVal ≤ ${CARS_ROWS}, got ${nTrain} and ${nVal}`))
  const all = readCars()
  if (E.isLeft(all)) return all
  const { X, y } = all.right
  const p = X.cols
  const [perm] = permutation(rngSeed(opts.seed), X.rows)
  const take = (from: number, n: number): Regression => {
    const data = new Float64Array(n * p)
    const ys = new Float64Array(n)
    for (let r = 0; r < n; r++) {
      const i = perm[from + r]!
      data.set(X.data.subarray(i * p, (i + 1) * p), r * p)
      ys[r] = y[i]!
    }
    return { X: matrix(n, p, data), y: ys }
  }
  const train = take(0, nTrain)
  const validation = take(nTrain, nVal)
  // Column means and standard deviations of the training rows (y as one more column).
  const mean = new Float64Array(p + 1)
  const sd = new Float64Array(p + 1)
  const at = (r: number, j: number): number => (j < p ? train.X.data[r * p + j]! : train.y[r]!)
  for (let j = 0; j <= p; j++) {
    let s = 0
    for (let r = 0; r < nTrain; r++) s += at(r, j)
    mean[j] = s / nTrain
    let ss = 0
    for (let r = 0; r < nTrain; r++) ss += (at(r, j) - mean[j]!) ** 2
    // A constant column (possible in a tiny split) is left unscaled.
    sd[j] = ss > 0 ? Math.sqrt(ss / (nTrain - 1)) : 1
  }
  const xs = mean.subarray(0, p)
  const xd = sd.subarray(0, p)
  const target = (v: Float64Array): Float64Array => v.map((x) => (x - mean[p]!) / sd[p]!)
  return E.right({
    train: { X: scaled(train.X, xs, xd), y: target(train.y) },
    validation: { X: scaled(validation.X, xs, xd), y: target(validation.y) },
  })
}
