// `hypergrad tune` in-process (via `main`): bad outer configs fail with one line on stderr and
// exit status 2; a good config returns λ and the validation loss at that λ.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { main } from '../cli/main.js'
import { formatLibsvm } from '../data/libsvm.js'
import { cholesky, choleskySolve } from '../linalg/matrix.js'
import { matrix, type Matrix } from '../linalg/types.js'
import * as R from '../random/rng.js'

const runHere = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
  let stdout = ''
  let stderr = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true))
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true))
  try {
    const code = await main(args)
    return { code, stdout, stderr }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}

/**
 * Train and validation rows from one linear model z = Σⱼ xⱼw*ⱼ over every `stride`-th of the q
 * features, with normal x, w* and noise e; the label is `label(z, e)`. Both sets are written as
 * train.svm and val.svm into a fresh folder.
 */
const heldOut = (seed: number, q: number, rows: { readonly train: number; readonly validation: number }, stride: number, label: (z: number, e: number) => number, prefix: string) => {
  const [r1, r2, r3, r4, r5] = R.split(R.seed(seed), 5) as [R.Rng, R.Rng, R.Rng, R.Rng, R.Rng]
  const [wStar] = R.normals(r1, q)
  const make = (rx: R.Rng, re: R.Rng, n: number) => {
    const [x] = R.normals(rx, n * q)
    const [e] = R.normals(re, n)
    const y = Float64Array.from({ length: n }, (_, i) => {
      let z = 0
      for (let j = 0; j < q; j += stride) z += x[i * q + j]! * wStar[j]!
      return label(z, e[i]!)
    })
    return { X: matrix(n, q, x), y }
  }
  const sets = { train: make(r2, r4, rows.train), validation: make(r3, r5, rows.validation) }
  const folder = mkdtempSync(join(tmpdir(), prefix))
  writeFileSync(join(folder, 'train.svm'), formatLibsvm(sets.train))
  writeFileSync(join(folder, 'val.svm'), formatLibsvm(sets.validation))
  return { dir: folder, ...sets, q }
}

// A ridge problem: 15 training and 30 validation rows of a linear model with noise (an interior optimum in λ).
const p = 4
const { dir, train, validation } = heldOut(5, p, { train: 15, validation: 30 }, 1, (z, e) => z + 2 * e, 'hypergrad-tune-')

const base = {
  problem: 'ridge',
  regularization: 'scalar',
  data: { train: 'train.svm', validation: 'val.svm', nFeatures: p },
  lambda: 1,
  method: { name: 'exact' },
  seed: 0,
  outer: { optimizer: 'adam', steps: 400, stepSize: 0.05, logScale: true },
}
const config = (name: string, cfg: unknown): string => {
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(cfg))
  return path
}

/** ½‖X_val w(λ) − y_val‖² with w(λ) = (XᵀX + λI)⁻¹Xᵀy, by a dense Cholesky solve. */
const closedForm = (lambda: number): number => {
  const H = new Float64Array(p * p)
  const b = new Float64Array(p)
  for (let i = 0; i < train.X.rows; i++)
    for (let a = 0; a < p; a++) {
      b[a] = b[a]! + train.X.data[i * p + a]! * train.y[i]!
      for (let c = 0; c < p; c++) H[a * p + c] = H[a * p + c]! + train.X.data[i * p + a]! * train.X.data[i * p + c]!
    }
  for (let a = 0; a < p; a++) H[a * p + a] = H[a * p + a]! + lambda
  const w = choleskySolve(cholesky(matrix(p, p, H))!, b)
  let s = 0
  for (let i = 0; i < validation.X.rows; i++) {
    let z = 0
    for (let a = 0; a < p; a++) z += validation.X.data[i * p + a]! * w[a]!
    s += (z - validation.y[i]!) ** 2
  }
  return s / 2
}

// A held-out-like logistic problem: 150 training and 120 validation rows, 12 standardized
// features, labels from a sparse linear model with heavy noise (an interior optimum in λ).
const logisticDir = heldOut(11, 12, { train: 150, validation: 120 }, 2, (z, e) => (z + 2.5 * e >= 0 ? 1 : -1), 'hypergrad-tune-logistic-')

/**
 * f′(λ) of the held-out-like logistic problem from scratch: w(λ) by Newton's method with the dense
 * Hessian XᵀDX + λI (Cholesky), then f′ = −∇E(w)ᵀ(XᵀDX + λI)⁻¹w.
 */
const logisticSlope = (lambda: number): number => {
  const { train: tr, validation: va, q } = logisticDir
  const sig = (t: number) => 1 / (1 + Math.exp(-t))
  const rowDot = (X: Matrix, i: number, v: Float64Array): number => {
    let z = 0
    for (let j = 0; j < q; j++) z += X.data[i * q + j]! * v[j]!
    return z
  }
  /** g + Σᵢ −yᵢσ(−yᵢxᵢᵀv)xᵢ over the rows of `set` (g is updated in place). */
  const addLossGradient = (set: typeof tr, v: Float64Array, g: Float64Array): Float64Array => {
    for (let i = 0; i < set.X.rows; i++) {
      const c = -set.y[i]! * sig(-set.y[i]! * rowDot(set.X, i, v))
      for (let j = 0; j < q; j++) g[j] = g[j]! + c * set.X.data[i * q + j]!
    }
    return g
  }
  let w = new Float64Array(q)
  const hessianAt = (v: Float64Array) => {
    const H = new Float64Array(q * q)
    for (let i = 0; i < tr.X.rows; i++) {
      const s = sig(tr.y[i]! * rowDot(tr.X, i, v))
      const dd = s * (1 - s)
      for (let j = 0; j < q; j++) for (let k = 0; k < q; k++) H[j * q + k] = H[j * q + k]! + dd * tr.X.data[i * q + j]! * tr.X.data[i * q + k]!
    }
    for (let j = 0; j < q; j++) H[j * q + j] = H[j * q + j]! + lambda
    return cholesky(matrix(q, q, H))!
  }
  for (let it = 0; it < 60; it++) {
    const g = addLossGradient(tr, w, Float64Array.from(w, (x) => lambda * x))
    const step = choleskySolve(hessianAt(w), g)
    w = Float64Array.from(w, (x, j) => x - step[j]!)
    if (Math.hypot(...step) <= 1e-15 * (1 + Math.hypot(...w))) break
  }
  const v = choleskySolve(hessianAt(w), addLossGradient(va, w, new Float64Array(q)))
  return -v.reduce((s, x, j) => s + x * w[j]!, 0)
}

describe('hypergrad tune', () => {
  it('every bad outer config exits with status 2 and one line naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['optimizer', { outer: { ...base.outer, optimizer: 'newton' } }, /config\.outer\.optimizer/],
      ['zero-step', { outer: { ...base.outer, stepSize: 0 } }, /config\.outer\.stepSize/],
      ['negative-step', { outer: { ...base.outer, stepSize: -0.1 } }, /config\.outer\.stepSize/],
      ['no-steps', { outer: { ...base.outer, steps: 0 } }, /config\.outer\.steps/],
      ['empty-bounds', { outer: { ...base.outer, bounds: [5, 5] } }, /config\.outer\.bounds/],
      ['reversed-bounds', { outer: { ...base.outer, bounds: [10, 1] } }, /config\.outer\.bounds/],
      ['log-bounds', { outer: { ...base.outer, bounds: [0, 10] } }, /outer\.bounds: with logScale the lower bound must be > 0/],
      ['no-outer', { outer: undefined }, /config\.outer/],
      ['tolerance', { outer: { ...base.outer, tolerance: 1e-3 } }, /config\.outer\.tolerance: .*method "exact"/],
      ['bad-tolerance', { outer: { ...base.outer, tolerance: -1 } }, /config\.outer\.tolerance/],
      ['log-lambda', { lambda: -1 }, /lambda/],
      ['lower-name', { method: { name: 'aid', lower: 'newton', linear: 'cg', t: 5, k: 5 } }, /config\.method\.lower: .*"newtonCg".*"lbfgs"/],
      ['lower-momentum', { method: { name: 'aid', lower: 'newtonCg', linear: 'cg', t: 5, k: 5, momentum: 0.5 } }, /config\.method\.momentum: the momentum of heavy ball, but lower is "newtonCg"/],
      ['auto-tolerance', { method: undefined, outer: { ...base.outer, tolerance: 1e-3 } }, /config\.outer\.tolerance: .*give method "aid"/],
      ['auto-field', { method: { name: 'auto', t: 3 } }, /config\.method\.t: unknown field/],
      ['lbfgs-memory', { outer: { optimizer: 'lbfgs', steps: 5, memory: 0 } }, /config\.outer\.memory/],
    ]
    for (const [name, patch, re] of cases) {
      const r = await runHere(['tune', config(`${name}.json`, { ...base, ...patch }), '--json', '--quiet'])
      expect(r.code, name).toBe(2)
      expect(r.stdout, name).toBe('')
      expect(r.stderr.trimEnd().split('\n'), name).toHaveLength(1)
      expect(r.stderr, name).toMatch(re)
    }
  })

  it('a good config returns λ near the closed-form minimizer, with the validation loss at that λ', async () => {
    const r = await runHere(['tune', config('good.json', base), '--json', '--quiet'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { lambda: number; value: number; trajectory: unknown[]; status: string }
    expect(out.trajectory).toHaveLength(400)
    expect(Math.abs(out.value - closedForm(out.lambda))).toBeLessThanOrEqual(1e-9 * closedForm(out.lambda))
    // A dense search on a log grid: the returned λ is within one grid cell (0.1%) of its best point.
    const logs = Array.from({ length: 16001 }, (_, i) => -4 * Math.LN10 + (8 * Math.LN10 * i) / 16000)
    let best = logs[0]!
    for (const x of logs) if (closedForm(Math.exp(x)) < closedForm(Math.exp(best))) best = x
    expect(best).toBeGreaterThan(logs[0]!)
    expect(best).toBeLessThan(logs[logs.length - 1]!)
    expect(Math.abs(Math.log(out.lambda) - best)).toBeLessThan(2e-3)
  })

  it('lbfgs on log λ reaches the argmin of a held-out-like logistic problem to 1e-3 (against a dense truth), with the method left out, exact, or AID with Newton-CG or L-BFGS on ℓ', async () => {
    // The argmin: the zero of the dense f′ by bisection on log λ.
    let [a, b] = [Math.log(1e-3), Math.log(1e3)]
    expect(logisticSlope(Math.exp(a))).toBeLessThan(0)
    expect(logisticSlope(Math.exp(b))).toBeGreaterThan(0)
    for (let i = 0; i < 60; i++) {
      const m = (a + b) / 2
      if (logisticSlope(Math.exp(m)) < 0) a = m
      else b = m
    }
    const argmin = Math.exp((a + b) / 2)
    const methods: Array<Record<string, unknown> | undefined> = [
      undefined,
      { name: 'exact' },
      { name: 'aid', lower: 'newtonCg', linear: 'cg', t: 50, k: 500 },
      { name: 'aid', lower: 'lbfgs', linear: 'cg', t: 500, k: 500 },
    ]
    for (const method of methods) {
      const cfg = {
        problem: 'logistic',
        data: { train: 'train.svm', validation: 'val.svm', nFeatures: logisticDir.q },
        lambda: 1,
        ...(method === undefined ? {} : { method }),
        outer: { optimizer: 'lbfgs', steps: 40, logScale: true, gradTol: 1e-9 },
      }
      const path = join(logisticDir.dir, `tune-${String(method?.['lower'] ?? method?.['name'] ?? 'auto')}.json`)
      writeFileSync(path, JSON.stringify(cfg))
      const r = await runHere(['tune', path, '--json', '--quiet'])
      const label = JSON.stringify(method ?? 'auto')
      expect(r.stderr, label).toBe('')
      expect(r.code, label).toBe(0)
      const out = JSON.parse(r.stdout) as { lambda: number; status: string; trajectory: Array<{ evaluations: number; value: number | null; gradNorm: number | null }> }
      expect(Math.abs(out.lambda / argmin - 1), label).toBeLessThan(1e-3)
      expect(out.status, label).toBe('converged')
      expect(out.trajectory.at(-1)!.evaluations, label).toBeLessThanOrEqual(20)
      for (const s of out.trajectory) expect(Number.isFinite(s.value) && Number.isFinite(s.gradNorm), label).toBe(true)
    }
  })

  it('lbfgs and secant on log λ reach the closed-form minimizer to 1e-3 in a few oracle calls; AID warm-started works alike', async () => {
    const logs = Array.from({ length: 16001 }, (_, i) => -4 * Math.LN10 + (8 * Math.LN10 * i) / 16000)
    let best = logs[0]!
    for (const x of logs) if (closedForm(Math.exp(x)) < closedForm(Math.exp(best))) best = x
    // Refine the grid minimizer by golden-section search on the closed form.
    let [a, b] = [best - 1e-3, best + 1e-3]
    for (let i = 0; i < 80; i++) {
      const c = b - (b - a) / 1.618033988749895
      const d = a + (b - a) / 1.618033988749895
      if (closedForm(Math.exp(c)) < closedForm(Math.exp(d))) b = d
      else a = c
    }
    const argmin = Math.exp((a + b) / 2)
    for (const optimizer of ['lbfgs', 'secant']) {
      for (const method of [{ name: 'exact' }, { name: 'aid', lower: 'gd', linear: 'cg', t: 3000, k: 100, tolLower: 1e-12, tolLinear: 1e-12 }]) {
        const cfg = { ...base, method, outer: { optimizer, steps: 30, logScale: true, gradTol: 1e-9 } }
        const r = await runHere(['tune', config(`${optimizer}-${method.name}.json`, cfg), '--json', '--quiet'])
        expect(r.stderr, `${optimizer} ${method.name}`).toBe('')
        const out = JSON.parse(r.stdout) as { lambda: number; status: string; trajectory: Array<{ evaluations: number }> }
        expect(Math.abs(out.lambda / argmin - 1), `${optimizer} ${method.name}`).toBeLessThan(1e-3)
        expect(out.trajectory.at(-1)!.evaluations, `${optimizer} ${method.name}`).toBeLessThanOrEqual(25)
      }
    }
  })
})
