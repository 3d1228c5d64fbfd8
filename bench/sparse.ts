/**
 * Sparse data at the field's scale, side by side with scipy.sparse: the synthetic sets of
 * `../shared/peers/sparse_ref.py` at the published shapes of rcv1.binary (20,242 × 47,236) and
 * news20.binary (19,996 × 1,355,191), with text-like column frequencies, read from libsvm files
 * into CSR.
 *
 *   npm run bench:sparse                                  # everything (about ten minutes)
 *   npm run bench:sparse -- --only rcv1,softmax           # some sections
 *   npm run bench:sparse -- --data DIR --rounds 5 --out /tmp/r.json
 *
 * Sections:
 *   rcv1     full-batch logistic gradient and Hessian-vector product (per-feature λ = 1e-3),
 *            against `sparse_ref.py bench rcv1` (scipy.sparse, one thread), alternating rounds;
 *   news20   one per-feature AID hypergradient (heavy ball + conjugate gradient, from zero;
 *            1,355,191 hyperparameters) in a child process, with its peak resident memory, next
 *            to scipy's CG solve of the same Hessian system (`sparse_ref.py bench news20`);
 *   softmax  the softmax gradient and Hessian-vector product on MNIST (10 classes) and on the
 *            rcv1 shape with C = 20 classes, against a plain scipy.sparse implementation;
 *   scaling  time per gradient pass and peak memory against nnz, over four sizes (child processes).
 *
 * The machine is shared: absolute times drift, so every comparison is a ratio of medians measured
 * in alternating rounds of one run. The data go to DIR (default: $TMPDIR/hypergrad-sparse) and
 * are made there by sparse_ref.py when missing. Rows are merged into bench/results.json.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as E from 'fp-ts/lib/Either.js'
import { mnist } from '../src/data/mnist.js'
import { readLibsvmSparse, readLibsvmSplit, type LibsvmDataset } from '../src/data/libsvm.js'
import type { DesignDataset, SparseDataset } from '../src/data/dataset.js'
import { aid } from '../src/hypergrad/aid.js'
import { logisticObjective, logisticProblem } from '../src/problems/logistic.js'
import { softmaxObjective } from '../src/problems/softmax.js'
import { multiDots } from '../src/linalg/rows/multi.js'
import { normals, seed } from '../src/random/rng.js'
import * as solvers from '../src/solvers/index.js'
import { formatRows, measure, RESULTS_FILE, writeResults, type Row, type Timing } from './harness.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const self = fileURLToPath(import.meta.url)
const args = process.argv.slice(2)
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const data = resolve(opt('data') ?? join(tmpdir(), 'hypergrad-sparse'))
const peers = resolve(process.env['PEERS_DIR'] ?? join(root, '..', 'shared', 'peers'))
const python = process.env['PEERS_PYTHON'] ?? '/usr/bin/python3'
const rounds = Number(opt('rounds') ?? 3)
const out = opt('out') !== undefined ? resolve(opt('out')!) : RESULTS_FILE
const only = opt('only')?.split(',')
const wants = (s: string): boolean => only === undefined || only.includes(s)

/** One BLAS thread, no CPU-type overrides: the peers' own pinning. */
const pinnedEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' }
  delete env['OPENBLAS_CORETYPE']
  delete env['OPENBLAS_L2_SIZE']
  return env
}

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/** Peak resident memory of this process (VmHWM), in bytes. */
const peakRss = (): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
  return m === null ? Number.NaN : Number(m[1]) * 1024
}

const SHAPES = { small: [2000, 20000], rcv1: [20242, 47236], news20: [19996, 1355191] } as const
type Shape = keyof typeof SHAPES

/** The train and validation files of a shape, made by sparse_ref.py when missing. */
const files = (shape: Shape): { readonly train: string; readonly validation: string } => {
  const train = join(data, `${shape}-train.svm`), validation = join(data, `${shape}-val.svm`)
  if (!existsSync(train) || !existsSync(validation)) {
    mkdirSync(data, { recursive: true })
    console.log(`making the ${shape} files in ${data} (sparse_ref.py make)`)
    const r = spawnSync(python, [join(peers, 'sparse_ref.py'), 'make', shape, data], { stdio: 'inherit', env: pinnedEnv() })
    if (r.status !== 0) throw new Error(`sparse_ref.py make ${shape} failed`)
  }
  return { train, validation }
}

interface ScipyBench {
  readonly n: number
  readonly d: number
  readonly nnz: number
  readonly gradient_ms: number
  readonly hvp_ms: number
  readonly cg_s: number
  readonly cg_iterations: number
}

const scipyBench = (shape: Shape, reps: number): ScipyBench => {
  const f = files(shape)
  const r = spawnSync(python, [join(peers, 'sparse_ref.py'), 'bench', shape, dirname(f.train), '--reps', String(reps)], { encoding: 'utf8', env: pinnedEnv() })
  if (r.status !== 0) throw new Error(`sparse_ref.py bench ${shape} failed: ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ScipyBench
}

const readTrain = (shape: Shape, labels: 'binary' | 'multiclass' = 'binary'): LibsvmDataset<SparseDataset> => {
  const r = readLibsvmSparse(files(shape).train, { labels, nFeatures: SHAPES[shape][1] })
  if (E.isLeft(r)) throw new Error(r.left.message)
  return r.right
}

/**
 * Single calls, median of 15 after warm-up: the method of sparse_ref.py (the median of single
 * timed calls), so that both sides meet the machine's load alike (a timing window of many calls
 * takes in every preemption; a single call of a few milliseconds mostly escapes them).
 */
const SINGLE = { repeats: 15, warmup: 5, minMs: 0 } as const

const stamp = (r: Row): Row => ({ ...r, source: 'bench/sparse.ts', measuredAt: new Date().toISOString() })
const row = (workload: string, ms: ReadonlyArray<number>, baseline: string | null, ratio: number | null, notes: string): Row =>
  stamp({ workload, medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), ratio, baseline, notes, repeats: ms.length })
const fromTiming = (t: Timing): number => t.medianMs

// ── rcv1: logistic gradient and HVP against scipy.sparse ──────────────────────────────────────

/**
 * The CPU time (process_time) per call of sparse_ref.py's gradient and HVP expressions, read
 * from the same files: a second view of the comparison, which a loaded machine disturbs less
 * than wall time (time spent waiting for a core is not counted).
 */
const SCIPY_CPU = `
import sys, json, time, numpy as np, scipy.sparse as sp
sys.path.insert(0, sys.argv[1])
import sparse_ref as S
from scipy.special import expit
a = json.loads(sys.argv[2])
X, y = S.read_svm(a['file'], a['d'])
A = (sp.diags(y) @ X).tocsr()
lamv = np.full(a['d'], a['lam'])
w = np.random.default_rng(1).normal(0, 0.1, a['d']); u = np.random.default_rng(2).normal(0, 1, a['d'])
grad = lambda: -A.T @ expit(-(A @ w)) + lamv * w
s = expit(A @ w) * expit(-(A @ w))
hvp = lambda: A.T @ (s * (A @ u)) + lamv * u
def cpu(f):
    for _ in range(5): f()
    ts = []
    for _ in range(a['reps']):
        c0 = time.process_time()
        for _ in range(10): f()
        ts.append((time.process_time() - c0) / 10 * 1e3)
    return float(np.median(ts))
print(json.dumps({'grad_ms': cpu(grad), 'hvp_ms': cpu(hvp)}))
`

/** Median CPU time per call of f (10 calls per sample, `reps` samples), in ms. */
const cpuPerCall = (f: () => unknown, reps: number): number => {
  for (let k = 0; k < 5; k++) f()
  const ts: number[] = []
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage()
    for (let k = 0; k < 10; k++) f()
    const c1 = process.cpuUsage(c0)
    ts.push((c1.user + c1.system) / 10 / 1000)
  }
  return median(ts)
}

const rcv1 = (): Row[] => {
  const train = readTrain('rcv1')
  const p = train.X.cols
  const obj = logisticObjective(train, 'perFeature')
  const lam = new Float64Array(p).fill(1e-3)
  const w = Float64Array.from(normals(seed(1), p)[0], (x) => 0.1 * x)
  const u = normals(seed(2), p)[0]
  const o = new Float64Array(p)
  const ours = { grad: [] as number[], hvp: [] as number[] }
  const theirs = { grad: [] as number[], hvp: [] as number[] }
  const oursCpu = { grad: [] as number[], hvp: [] as number[] }
  const theirsCpu = { grad: [] as number[], hvp: [] as number[] }
  let info: ScipyBench | undefined
  for (let r = 0; r < rounds; r++) {
    const py = spawnSync(python, ['-c', SCIPY_CPU, peers, JSON.stringify({ file: files('rcv1').train, d: p, lam: 1e-3, reps: 15 })], { encoding: 'utf8', env: pinnedEnv() })
    if (py.status !== 0) throw new Error(`scipy CPU timing failed: ${py.stderr}`)
    const c = JSON.parse(py.stdout.trim()) as { grad_ms: number; hvp_ms: number }
    theirsCpu.grad.push(c.grad_ms)
    theirsCpu.hvp.push(c.hvp_ms)
    oursCpu.grad.push(cpuPerCall(() => obj.gradInto(w, lam, o), 15))
    oursCpu.hvp.push(cpuPerCall(() => obj.hvpInto(w, lam, u, o), 15))
    info = scipyBench('rcv1', 9)
    theirs.grad.push(info.gradient_ms)
    theirs.hvp.push(info.hvp_ms)
    ours.grad.push(fromTiming(measure('grad', () => obj.gradInto(w, lam, o), SINGLE)))
    ours.hvp.push(fromTiming(measure('hvp', () => obj.hvpInto(w, lam, u, o), SINGLE)))
    console.log(`rcv1 round ${r + 1}: gradient ${ours.grad.at(-1)!.toFixed(2)} ms vs scipy ${info.gradient_ms.toFixed(2)}; HVP ${ours.hvp.at(-1)!.toFixed(2)} vs ${info.hvp_ms.toFixed(2)}; CPU time: gradient ${oursCpu.grad.at(-1)!.toFixed(2)} vs ${c.grad_ms.toFixed(2)}, HVP ${oursCpu.hvp.at(-1)!.toFixed(2)} vs ${c.hvp_ms.toFixed(2)}`)
  }
  const shape = `${train.X.rows}×${p}, nnz ${train.X.indptr[train.X.rows]}`
  const ratios = (a: number[], b: number[]): number[] => a.map((x, i) => x / b[i]!)
  return [
    row(`peer scipy.sparse rcv1 logistic gradient (${shape})`, theirs.grad, null, null, '-A.T @ expit(-(A @ w)) + λ⊙w, one thread (sparse_ref.py bench)'),
    row(`sparse rcv1 logistic gradient (${shape})`, ours.grad, `peer scipy.sparse rcv1 logistic gradient (${shape})`, median(ratios(ours.grad, theirs.grad)),
      `gradInto, per-feature λ; median of per-round ratios over ${rounds} alternating rounds: ${ratios(ours.grad, theirs.grad).map((x) => x.toFixed(2)).join(', ')}`),
    row(`peer scipy.sparse rcv1 logistic HVP (${shape})`, theirs.hvp, null, null, 'A.T @ (s * (A @ u)) + λ⊙u with s precomputed, one thread'),
    row(`sparse rcv1 logistic HVP (${shape})`, ours.hvp, `peer scipy.sparse rcv1 logistic HVP (${shape})`, median(ratios(ours.hvp, theirs.hvp)),
      `hvpInto at a fixed w (the curvature weights of w kept between calls, as scipy's s); per-round ratios: ${ratios(ours.hvp, theirs.hvp).map((x) => x.toFixed(2)).join(', ')}`),
    row(`peer scipy.sparse rcv1 CG solve to 1e-10`, [1000 * info!.cg_s], null, null, `${info!.cg_iterations} iterations of scipy.sparse.linalg.cg on the Hessian system`),
    row(`peer scipy.sparse rcv1 logistic gradient, CPU time per call`, theirsCpu.grad, null, null, 'the same expression, process_time over 10 calls, median of 15'),
    row(`sparse rcv1 logistic gradient, CPU time per call`, oursCpu.grad, 'peer scipy.sparse rcv1 logistic gradient, CPU time per call', median(ratios(oursCpu.grad, theirsCpu.grad)),
      `process.cpuUsage over 10 calls, median of 15; per-round ratios: ${ratios(oursCpu.grad, theirsCpu.grad).map((x) => x.toFixed(2)).join(', ')}`),
    row(`peer scipy.sparse rcv1 logistic HVP, CPU time per call`, theirsCpu.hvp, null, null, 'the same expression (s precomputed), process_time over 10 calls, median of 15'),
    row(`sparse rcv1 logistic HVP, CPU time per call`, oursCpu.hvp, 'peer scipy.sparse rcv1 logistic HVP, CPU time per call', median(ratios(oursCpu.hvp, theirsCpu.hvp)),
      `per-round ratios: ${ratios(oursCpu.hvp, theirsCpu.hvp).map((x) => x.toFixed(2)).join(', ')}`),
  ]
}

// ── news20: one per-feature AID hypergradient, in a child process for its peak memory ─────────

interface AidChild {
  readonly readS: number
  readonly buildS: number
  readonly aidS: number
  readonly t: number
  readonly k: number
  readonly status: string
  readonly lowerResidual: number
  readonly linearResidual: number
  readonly hyperDim: number
  readonly peakRss: number
  readonly gradientNorm: number
}

const aidChild = (): AidChild => {
  const f = files('news20')
  const t0 = performance.now()
  const split = readLibsvmSplit({ train: f.train, validation: f.validation }, { labels: 'binary', nFeatures: SHAPES.news20[1] })
  if (E.isLeft(split)) throw new Error(split.left.message)
  const t1 = performance.now()
  const p = split.right.nFeatures
  const lam = new Float64Array(p).fill(1e-3)
  const built = logisticProblem(split.right.train, split.right.validation, lam, { regularization: 'perFeature' })
  if (E.isLeft(built)) throw new Error(built.left.message)
  const prob = built.right
  const { tau, L } = prob.lower.curvature(lam)
  const t2 = performance.now()
  // Polyak's heavy ball on Φ = w − α∇ℓ for curvature in [τ, L]; CG on the linear system to 1e-10.
  const q = (Math.sqrt(L) - Math.sqrt(tau)) / (Math.sqrt(L) + Math.sqrt(tau))
  const lower = solvers.lower.heavyBall({ beta: q * q, eta: 4 / (Math.sqrt(L) + Math.sqrt(tau)) ** 2 / prob.alpha })
  const t = 200, k = 1000
  const r = aid(prob, lam, { lower, linear: solvers.linear.conjugateGradient({ tol: 1e-10 }), t, k })
  if (E.isLeft(r)) throw new Error(r.left.message)
  const t3 = performance.now()
  const res = r.right
  const g = res.status === 'diverged' ? null : res.gradient
  let gn = 0
  if (g !== null) for (let j = 0; j < g.length; j++) gn += g[j]! * g[j]!
  return {
    readS: (t1 - t0) / 1000, buildS: (t2 - t1) / 1000, aidS: (t3 - t2) / 1000, t: res.t, k: res.k, status: res.status,
    lowerResidual: res.lowerResiduals.at(-1) ?? Number.NaN, linearResidual: res.linearResiduals.at(-1) ?? Number.NaN,
    hyperDim: prob.hyperDim, peakRss: peakRss(), gradientNorm: Math.sqrt(gn),
  }
}

const news20 = (): Row[] => {
  const scipy = scipyBench('news20', 5)
  const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', 'news20-aid', '--data', data], { encoding: 'utf8', cwd: root, maxBuffer: 1 << 24 })
  if (child.status !== 0) throw new Error(`news20 AID child failed: ${child.stderr}`)
  const c = JSON.parse(child.stdout.trim().split('\n').at(-1)!) as AidChild
  console.log(`news20 AID: ${JSON.stringify(c)}; scipy ${JSON.stringify(scipy)}`)
  const gib = c.peakRss / 2 ** 30
  return [
    row(`sparse news20 per-feature AID hypergradient (heavy ball t=${c.t}, CG k=${c.k}, ${c.hyperDim} hyperparameters)`, [1000 * c.aidS], 'peer scipy.sparse news20 CG solve to 1e-10', (1000 * c.aidS) / (1000 * scipy.cg_s),
      `from zero, per-feature λ = 1e-3; peak RSS ${gib.toFixed(2)} GiB (read ${c.readS.toFixed(1)} s, build ${c.buildS.toFixed(1)} s); status ${c.status}, final residuals lower ${c.lowerResidual.toExponential(2)}, linear ${c.linearResidual.toExponential(2)}`),
    row('peer scipy.sparse news20 CG solve to 1e-10', [1000 * scipy.cg_s], null, null, `${scipy.cg_iterations} iterations, one thread; scipy gradient ${scipy.gradient_ms.toFixed(1)} ms, HVP ${scipy.hvp_ms.toFixed(1)} ms`),
  ]
}

// ── softmax: gradient on MNIST (10 classes) and on the rcv1 shape with 20 classes ────────────

/** The scipy.sparse softmax gradient and HVP at the same sizes (a plain implementation, for scale). */
const SCIPY_SOFTMAX = `
import sys, json, time, numpy as np, scipy.sparse as sp
from scipy.special import softmax
sys.path.insert(0, sys.argv[1])
a = json.loads(sys.argv[2])
n, d, C, reps = a['n'], a['d'], a['C'], a['reps']
rng = np.random.default_rng(0)
if a['file'] is None:
    X = rng.random((n, d)) * (rng.random((n, d)) < a['density'])
else:
    import sparse_ref as S
    X = S.read_svm(a['file'], d)[0]
y = rng.integers(0, C, X.shape[0])
Y = np.zeros((X.shape[0], C)); Y[np.arange(X.shape[0]), y] = 1
W = rng.normal(0, 0.1, (d, C)); U = rng.normal(0, 1, (d, C))
def grad(): return X.T @ (softmax(X @ W, axis=1) - Y) + 1e-3 * W
P = softmax(X @ W, axis=1)
def hvp():
    S_ = X @ U
    return X.T @ (P * S_ - P * (P * S_).sum(axis=1, keepdims=True)) + 1e-3 * U
def med(f):
    f()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(ts))
print(json.dumps({'grad_ms': med(grad), 'hvp_ms': med(hvp)}))
`

const softmax = (): Row[] => {
  const rows: Row[] = []
  const cases: Array<{ name: string; ds: DesignDataset; C: number; file: string | null }> = []
  const m = mnist({ classes: 10 })
  if (E.isLeft(m)) throw new Error(m.left.message)
  cases.push({ name: `MNIST 10 classes (${m.right.train.X.rows}×${m.right.train.X.cols} dense)`, ds: m.right.train, C: 10, file: null })
  // The rcv1 matrix with 20 classes: the argmax of 20 random linear scores of each row.
  const r = readTrain('rcv1')
  const C = 20
  const Wl = normals(seed(7), r.X.cols * C)[0]
  const y = new Float64Array(r.X.rows)
  multiDots(r.X, C, Wl, undefined, undefined, (_k, i, z) => {
    let best = 0
    for (let c = 1; c < C; c++) if (z[c]! > z[best]!) best = c
    y[i] = best
  })
  cases.push({ name: `rcv1 shape, 20 classes (${r.X.rows}×${r.X.cols} CSR, nnz ${r.X.indptr[r.X.rows]})`, ds: { X: r.X, y, nClasses: C }, C, file: files('rcv1').train })
  for (const c of cases) {
    const obj = softmaxObjective(c.ds, 'scalar')
    const lam = Float64Array.of(1e-3)
    const W = Float64Array.from(normals(seed(8), obj.dim)[0], (x) => 0.1 * x)
    const U = normals(seed(9), obj.dim)[0]
    const o = new Float64Array(obj.dim)
    const ours = { grad: [] as number[], hvp: [] as number[] }, theirs = { grad: [] as number[], hvp: [] as number[] }
    for (let k = 0; k < rounds; k++) {
      const py = spawnSync(python, ['-c', SCIPY_SOFTMAX, peers, JSON.stringify({ n: c.ds.X.rows, d: c.ds.X.cols, C: c.C, density: 0.19, reps: 9, file: c.file })], { encoding: 'utf8', env: pinnedEnv() })
      if (py.status !== 0) throw new Error(`scipy softmax failed: ${py.stderr}`)
      const s = JSON.parse(py.stdout.trim()) as { grad_ms: number; hvp_ms: number }
      theirs.grad.push(s.grad_ms)
      theirs.hvp.push(s.hvp_ms)
      ours.grad.push(fromTiming(measure('softmax grad', () => obj.gradInto(W, lam, o), SINGLE)))
      ours.hvp.push(fromTiming(measure('softmax hvp', () => obj.hvpInto(W, lam, U, o), SINGLE)))
    }
    const base = (what: string): string => `peer ${c.file === null ? 'numpy' : 'scipy.sparse'} softmax ${what}, ${c.name}`
    rows.push(row(base('gradient'), theirs.grad, null, null, `X.T @ (softmax(X @ W) − Y) + λW, one thread, on ${c.file === null ? 'dense data of the same size and density' : 'the same matrix'}`))
    rows.push(row(`softmax gradient, ${c.name}`, ours.grad, base('gradient'), median(ours.grad) / median(theirs.grad), 'gradInto: C dots per row, then C axpys (linalg/rows/multi.ts)'))
    rows.push(row(base('HVP'), theirs.hvp, null, null, 'with the class probabilities precomputed'))
    rows.push(row(`softmax HVP, ${c.name}`, ours.hvp, base('HVP'), median(ours.hvp) / median(theirs.hvp), 'hvpInto (probabilities recomputed at each call)'))
  }
  return rows
}

// ── scaling: time per gradient pass and peak memory against nnz ───────────────────────────────

interface ScaleChild {
  readonly rows: number
  readonly cols: number
  readonly nnz: number
  readonly gradMs: number
  readonly hvpMs: number
  readonly peakRss: number
  readonly baseRss: number
}

/** The first `rows` rows of a shape's training file, as a logistic objective: gradient and HVP timings and peak memory. */
const scaleChild = (shape: Shape, rowsWanted: number): ScaleChild => {
  const baseRss = peakRss()
  const full = readTrain(shape)
  const n = Math.min(rowsWanted, full.X.rows)
  const end = full.X.indptr[n]!
  const ds: SparseDataset = {
    X: { layout: 'csr', rows: n, cols: full.X.cols, indptr: full.X.indptr.slice(0, n + 1), indices: full.X.indices.slice(0, end), values: full.X.values.slice(0, end) },
    y: full.y.slice(0, n),
  }
  const obj = logisticObjective(ds, 'perFeature')
  const p = ds.X.cols
  const lam = new Float64Array(p).fill(1e-3)
  const w = Float64Array.from(normals(seed(1), p)[0], (x) => 0.1 * x)
  const u = normals(seed(2), p)[0]
  const o = new Float64Array(p)
  const g = measure('g', () => obj.gradInto(w, lam, o), SINGLE)
  const h = measure('h', () => obj.hvpInto(w, lam, u, o), SINGLE)
  return { rows: n, cols: p, nnz: end, gradMs: g.medianMs, hvpMs: h.medianMs, peakRss: peakRss(), baseRss }
}

const scaling = (): Row[] => {
  const sizes: Array<[Shape, number]> = [['small', 1333], ['rcv1', 13494], ['news20', 3000], ['news20', 13330]]
  const got: ScaleChild[] = []
  for (const [shape, n] of sizes) {
    const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', `scale:${shape}:${n}`, '--data', data], { encoding: 'utf8', cwd: root, maxBuffer: 1 << 24 })
    if (child.status !== 0) throw new Error(`scaling child ${shape} failed: ${child.stderr}`)
    got.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!) as ScaleChild)
  }
  console.log('\nnnz        rows × cols          gradient ms  HVP ms   peak RSS MB   slope log(ms)/log(nnz)')
  const rowsOut: Row[] = []
  got.forEach((c, i) => {
    const prev = got[i - 1]
    const slope = prev === undefined ? Number.NaN : Math.log(c.gradMs / prev.gradMs) / Math.log(c.nnz / prev.nnz)
    const mSlope = prev === undefined ? Number.NaN : Math.log(c.peakRss / prev.peakRss) / Math.log(c.nnz / prev.nnz)
    console.log(`${String(c.nnz).padEnd(10)} ${`${c.rows} × ${c.cols}`.padEnd(20)} ${c.gradMs.toFixed(2).padStart(10)} ${c.hvpMs.toFixed(2).padStart(8)} ${(c.peakRss / 2 ** 20).toFixed(0).padStart(12)}   time ${Number.isNaN(slope) ? '-' : slope.toFixed(2)}, memory ${Number.isNaN(mSlope) ? '-' : mSlope.toFixed(2)}`)
    rowsOut.push(row(`sparse scaling: logistic gradient at nnz ${c.nnz} (${c.rows}×${c.cols})`, [c.gradMs], null, null,
      `HVP ${c.hvpMs.toFixed(2)} ms; peak RSS ${(c.peakRss / 2 ** 20).toFixed(0)} MB (the process at start: ${(c.baseRss / 2 ** 20).toFixed(0)} MB); log-log slope from the previous size: time ${Number.isNaN(slope) ? '-' : slope.toFixed(2)}, memory ${Number.isNaN(mSlope) ? '-' : mSlope.toFixed(2)}`))
  })
  return rowsOut
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────

const child = opt('child')
if (child !== undefined) {
  if (child === 'news20-aid') console.log(JSON.stringify(aidChild()))
  else {
    const [, shape, n] = child.split(':')
    console.log(JSON.stringify(scaleChild(shape as Shape, Number(n))))
  }
} else {
  if (!(Number.isInteger(rounds) && rounds >= 1)) throw new Error(`--rounds must be a positive integer, got ${opt('rounds')}`)
  const rows: Row[] = []
  if (wants('rcv1')) rows.push(...rcv1())
  if (wants('news20')) rows.push(...news20())
  if (wants('softmax')) rows.push(...softmax())
  if (wants('scaling')) rows.push(...scaling())
  console.log(`\n${formatRows(rows)}`)
  writeResults(rows, out)
  console.log(`\nwrote ${rows.length} rows to ${out}`)
}
