/**
 * Elementwise functions of one argument, and their fusion.
 *
 * Every elementwise step is a scalar function g with known g', g'' (below, with the stable form
 * each uses). A chain y = g_K ∘ … ∘ g_1 (x) of such steps is ONE instruction: a single loop over
 * the entries computes y and, when the plan asks for them, the derivatives of the whole chain by
 * the chain rule, (g∘h)' = g'(h)·h' and (g∘h)'' = g''(h)·h'² + g'(h)·h'', stored per entry:
 *
 *   d1 = f'(x),  d2 = f''(x),   so that   ẏ = d1·ẋ,   x̄ += d1·ȳ,   x̄̇ += d1·ȳ̇ + d2·ẋ·ȳ.
 *
 * Steps with a constant operand (multiply by, add, divide by a constant vector or scalar of the
 * same recording: `y ⊙ z` with data y) are steps too, so the usual chains of a loss (y ⊙ Xw,
 * negate, softplus) fuse. The loop is generated as JavaScript source once per distinct chain
 * (cached by its signature) and compiled by the engine; it allocates nothing.
 *
 * Non-differentiable points are errors, not NaNs: log and sqrt need x > 0 (sqrt is not
 * differentiable at 0), log1p needs x > −1, a division needs a non-zero divisor. The loop
 * stops at the first offending entry and reports it.
 */
import { inputTangent, tanOrNull, outAdj, outAdjT, type Exec, type Instr } from './instr.js'

/** The elementwise steps. */
export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'log1p' | 'softplus' | 'sigmoid' | 'tanh' | 'square' | 'sqrt'
  /** c·x, x + c, c/x with a scalar constant c */
  | 'scale' | 'shift' | 'rdiv'
  /** a·x, x + a, x − a, a − x, x/a, a/x with a constant node a (same size, or one entry broadcast) */
  | 'mulBy' | 'addBy' | 'subBy' | 'rsubBy' | 'divBy' | 'rdivBy'

/** One step of a chain. */
export interface UnaryStep {
  readonly op: UnaryOp
  /** The scalar c of scale, shift, rdiv (0 otherwise). */
  readonly param: number
  /** The constant node a of mulBy, addBy, subBy, rsubBy, divBy, rdivBy (−1 otherwise). */
  readonly operand: number
  /** True when the operand has one entry (broadcast). */
  readonly broadcast: boolean
}

interface Template {
  /** g is affine (g'' = 0). */
  readonly linear: boolean
  /** Sets nv = g(v) only (value sweeps). */
  readonly value: string
  /** Sets nv, g1 = g'(v) and (when not linear) g2 = g''(v). */
  readonly full: string
  /** An expression in v, c that must hold for g(v) to be defined (value sweeps). */
  readonly valueDomain?: string
  /** An expression in v, c that must hold for g to be differentiable at v. */
  readonly domain?: string
  /** What the domain asks, for messages. */
  readonly needs?: string
}

// σ(v) = 1/(1 + e^{−v}) with e = e^{−|v|}: 1/(1 + e) for v ≥ 0, e/(1 + e) for v < 0 (no overflow);
// σ'(v) = σ(v)σ(−v) = e/(1 + e)²; softplus(v) = log(1 + e^v) = log1p(e) + max(v, 0).
const SIGMA = 'e = Math.exp(-Math.abs(v)); s = v >= 0 ? 1 / (1 + e) : e / (1 + e);'

/** c/v: g' = −c/v², g'' = 2c/v³. */
const RDIV: Template = {
  linear: false,
  value: 'nv = c / v;',
  full: 'nv = c / v; g1 = -nv / v; g2 = -2 * g1 / v;',
  valueDomain: 'v !== 0',
  domain: 'v !== 0',
  needs: 'a non-zero divisor',
}

const TEMPLATES: Readonly<Record<UnaryOp, Template>> = {
  neg: { linear: true, value: 'nv = -v;', full: 'nv = -v; g1 = -1;' },
  scale: { linear: true, value: 'nv = c * v;', full: 'nv = c * v; g1 = c;' },
  shift: { linear: true, value: 'nv = v + c;', full: 'nv = v + c; g1 = 1;' },
  mulBy: { linear: true, value: 'nv = c * v;', full: 'nv = c * v; g1 = c;' },
  addBy: { linear: true, value: 'nv = v + c;', full: 'nv = v + c; g1 = 1;' },
  subBy: { linear: true, value: 'nv = v - c;', full: 'nv = v - c; g1 = 1;' },
  rsubBy: { linear: true, value: 'nv = c - v;', full: 'nv = c - v; g1 = -1;' },
  divBy: { linear: true, value: 'nv = v / c;', full: 'nv = v / c; g1 = 1 / c;', valueDomain: 'c !== 0', domain: 'c !== 0', needs: 'a non-zero divisor' },
  rdiv: RDIV,
  rdivBy: RDIV,
  exp: { linear: false, value: 'nv = Math.exp(v);', full: 'nv = Math.exp(v); g1 = nv; g2 = nv;' },
  log: {
    linear: false,
    value: 'nv = Math.log(v);',
    full: 'nv = Math.log(v); g1 = 1 / v; g2 = -g1 * g1;',
    valueDomain: 'v > 0',
    domain: 'v > 0',
    needs: 'x > 0',
  },
  log1p: {
    linear: false,
    value: 'nv = Math.log1p(v);',
    full: 'nv = Math.log1p(v); g1 = 1 / (1 + v); g2 = -g1 * g1;',
    valueDomain: 'v > -1',
    domain: 'v > -1',
    needs: 'x > −1',
  },
  softplus: {
    linear: false,
    value: 'e = Math.exp(-Math.abs(v)); nv = Math.log1p(e) + (v > 0 ? v : 0);',
    full: `${SIGMA} nv = Math.log1p(e) + (v > 0 ? v : 0); g1 = s; g2 = e / ((1 + e) * (1 + e));`,
  },
  sigmoid: {
    linear: false,
    value: `${SIGMA} nv = s;`,
    full: `${SIGMA} nv = s; g1 = e / ((1 + e) * (1 + e)); g2 = g1 * (1 - 2 * s);`,
  },
  // tanh' = 1 − tanh² = 4e/(1 + e)² with e = e^{−2|v|} (full relative precision for large |v|).
  tanh: {
    linear: false,
    value: 'nv = Math.tanh(v);',
    full: 'nv = Math.tanh(v); e = Math.exp(-2 * Math.abs(v)); g1 = 4 * e / ((1 + e) * (1 + e)); g2 = -2 * nv * g1;',
  },
  square: { linear: false, value: 'nv = v * v;', full: 'nv = v * v; g1 = 2 * v; g2 = 2;' },
  sqrt: {
    linear: false,
    value: 'nv = Math.sqrt(v);',
    full: 'nv = Math.sqrt(v); g1 = 0.5 / nv; g2 = -0.5 * g1 / v;',
    valueDomain: 'v >= 0',
    domain: 'v > 0',
    needs: 'x > 0 (sqrt is not differentiable at 0)',
  },
}

export const isLinearStep = (op: UnaryOp): boolean => TEMPLATES[op].linear

/**
 * The fused kernel of a chain: (n, x, y, d1, d2, P, A, bad) → −1, or i·K + j when step j fails
 * its domain at entry i (then bad[0] holds the value it was given). mode 0 computes y only,
 * 1 adds d1, 2 adds d1 and d2. P holds the scalar constants, A the constant operands' arrays.
 */
type ChainKernel = (n: number, x: ArrayLike<number>, y: Float64Array, d1: Float64Array | null, d2: Float64Array | null, P: ArrayLike<number>, A: ReadonlyArray<ArrayLike<number> | undefined>, bad: Float64Array) => number

const kernels = new Map<string, ChainKernel>()

const signature = (steps: ReadonlyArray<UnaryStep>, mode: number): string =>
  `${mode}:${steps.map((s) => (s.operand >= 0 ? `${s.op}@${s.broadcast ? 's' : 'v'}` : s.op)).join(',')}`

const generate = (steps: ReadonlyArray<UnaryStep>, mode: 0 | 1 | 2): string => {
  const K = steps.length
  const lines: string[] = ['"use strict";']
  steps.forEach((s, j) => lines.push(`const c${j} = P[${j}], a${j} = A[${j}];`))
  lines.push('let nv = 0, g1 = 0, g2 = 0, e = 0, s = 0, c = 0;')
  lines.push('for (let i = 0; i < n; i++) {')
  lines.push('let v = x[i];')
  if (mode >= 1) lines.push('let g = 1;')
  if (mode === 2) lines.push('let h = 0;')
  steps.forEach((st, j) => {
    const t = TEMPLATES[st.op]
    lines.push(st.operand >= 0 ? `c = a${j}[${st.broadcast ? '0' : 'i'}];` : `c = c${j};`)
    const dom = mode === 0 ? t.valueDomain : t.domain
    if (dom !== undefined) lines.push(`if (!(${dom})) { bad[0] = v; return i * ${K} + ${j}; }`)
    if (mode === 0) lines.push(t.value)
    else {
      lines.push(t.full)
      if (mode === 2) lines.push(t.linear ? 'h = g1 * h;' : 'h = g2 * g * g + g1 * h;')
      lines.push('g = g1 * g;')
    }
    lines.push('v = nv;')
  })
  lines.push('y[i] = v;')
  if (mode >= 1) lines.push('d1[i] = g;')
  if (mode === 2) lines.push('d2[i] = h;')
  lines.push('}')
  lines.push('return -1;')
  return lines.join('\n')
}

/** The compiled kernel of a chain (generated once per signature). */
export const chainKernel = (steps: ReadonlyArray<UnaryStep>, mode: 0 | 1 | 2): ChainKernel => {
  const key = signature(steps, mode)
  let k = kernels.get(key)
  if (k === undefined) {
    k = new Function('n', 'x', 'y', 'd1', 'd2', 'P', 'A', 'bad', generate(steps, mode)) as ChainKernel
    kernels.set(key, k)
  }
  return k
}

/** What a chain's domain error says. */
export const stepNeeds = (op: UnaryOp): string => TEMPLATES[op].needs ?? 'a finite argument'

/**
 * A fused chain of elementwise steps applied to node x (see the module comment). Constant
 * operands are inputs too (they carry no tangent or adjoint: they do not depend on w or λ).
 */
export class UnaryInstr implements Instr {
  readonly inputs: ReadonlyArray<number>
  readonly nonlinear: boolean
  readonly usesBatch = false
  private readonly P: Float64Array
  private readonly A: Array<ArrayLike<number> | undefined>
  private d1: Float64Array | null = null
  private d2: Float64Array | null = null
  private readonly bad = new Float64Array(1)
  /** The compiled kernels of this chain, by mode (looked up once). */
  private readonly kernel: Array<ChainKernel | undefined> = [undefined, undefined, undefined]

  constructor(
    readonly out: number,
    readonly x: number,
    readonly steps: ReadonlyArray<UnaryStep>,
    private readonly n: number,
  ) {
    const operands = steps.filter((s) => s.operand >= 0).map((s) => s.operand)
    this.inputs = [x, ...operands]
    this.nonlinear = steps.some((s) => !TEMPLATES[s.op].linear)
    this.P = Float64Array.from(steps, (s) => s.param)
    this.A = steps.map(() => undefined)
  }

  get name(): string {
    return this.steps.map((s) => s.op).join('∘')
  }

  /** A chain that applies `first` and then this one (fusion). */
  after(first: UnaryInstr): UnaryInstr {
    return new UnaryInstr(this.out, first.x, [...first.steps, ...this.steps], this.n)
  }

  fwd(s: Exec): number {
    const x = this.x
    const wantD1 = s.needAdj[x] === 1 || s.needAT[x] === 1 || s.needTan[this.out] === 1
    const wantD2 = wantD1 && this.nonlinear && s.needAT[x] === 1 && s.needTan[x] === 1 && s.needAdj[this.out] === 1
    const mode = wantD2 ? 2 : wantD1 ? 1 : 0
    if (mode >= 1 && this.d1 === null) this.d1 = new Float64Array(this.n)
    if (mode === 2 && this.d2 === null) this.d2 = new Float64Array(this.n)
    for (let j = 0; j < this.steps.length; j++) {
      const o = this.steps[j]!.operand
      this.A[j] = o >= 0 ? s.val[o] : undefined
    }
    let k = this.kernel[mode]
    if (k === undefined) this.kernel[mode] = k = chainKernel(this.steps, mode)
    return k(this.n, s.val[x]!, s.val[this.out]!, mode >= 1 ? this.d1 : null, mode === 2 ? this.d2 : null, this.P, this.A, this.bad)
  }

  tan(s: Exec): void {
    const dx = inputTangent(s, this.x, this.out)
    if (dx === null) return
    const y = s.tan[this.out]!
    const d1 = this.d1!
    for (let i = 0; i < this.n; i++) y[i] = d1[i]! * dx[i]!
  }

  rev(s: Exec): void {
    const x = this.x
    const yb = outAdj(s, this.out)
    const ybt = outAdjT(s, this.out)
    const d1 = this.d1!
    if (s.needAdj[x] === 1 && yb !== null) {
      const xb = s.adj[x]!
      for (let i = 0; i < this.n; i++) xb[i] = xb[i]! + d1[i]! * yb[i]!
    }
    if (s.needAT[x] === 1) {
      const xbt = s.adjT[x]!
      if (ybt !== null) for (let i = 0; i < this.n; i++) xbt[i] = xbt[i]! + d1[i]! * ybt[i]!
      const dx = tanOrNull(s, x)
      if (this.nonlinear && yb !== null && dx !== null) {
        const d2 = this.d2!
        for (let i = 0; i < this.n; i++) xbt[i] = xbt[i]! + d2[i]! * dx[i]! * yb[i]!
      }
    }
  }

  error(code: number, _s: Exec): string {
    const K = this.steps.length
    const j = code % K
    const i = (code - j) / K
    const op = this.steps[j]!.op
    return `ad: ${op} needs ${stepNeeds(op)}, but entry ${i} of its argument is ${this.bad[0]} (in ${this.name})`
  }
}
